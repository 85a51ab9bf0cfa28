"""Waiting on workflows and steps, approvals, settings, and what ran and was admitted."""

from __future__ import annotations

import argparse
import json
import time

from genaiops_e2e import kube
from genaiops_e2e.probe.common import (
    TERMINAL,
    ProbeFailed,
    argo,
    cluster_of,
    failed_pod_logs,
    failed_steps,
    find_node,
    get_workflow,
    shipped_kinds,
    workflow_nodes,
)
from genaiops_e2e.probe.repo import promoted
from genaiops_e2e.probe.store import reports, signed
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State


def await_phase(state: State, names: list[str], phase: str, timeout: float) -> None:
    """Until every workflow of ``names`` is in ``phase``; fails fast (with the failed steps and their pods'
    log tails) when one ends otherwise, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        for name in list(pending):
            workflow = get_workflow(state, name)
            current = (workflow.get("status") or {}).get("phase")  # type: ignore[union-attr]
            if current == phase:
                print(f"{name}: {current}")
                pending.remove(name)
            elif current in TERMINAL:
                logs = failed_pod_logs(state, name) if current != "Succeeded" else ""
                raise ProbeFailed(f"{name} ended {current}, not {phase}: {failed_steps(workflow)}\n{logs}")
        if pending and time.monotonic() > deadline:
            raise ProbeFailed(f"{pending} did not reach {phase} within {timeout}s")
        if pending:
            time.sleep(2)


def wait(args: argparse.Namespace) -> None:
    state = State.load()
    pending = list(args.workflows)
    if args.prefix:
        listed = json.loads(
            kube.kubectl(cluster_of(state), "-n", state.namespace, "get", "workflows", "-o", "json")
        )
        pending += [
            w["metadata"]["name"] for w in listed["items"] if w["metadata"]["name"].startswith(args.prefix)
        ]
    if not pending:
        raise ProbeFailed("no workflow to wait for")
    await_phase(state, pending, args.phase, args.timeout)


def wait_node(args: argparse.Namespace) -> None:
    state = State.load()
    deadline = time.monotonic() + args.timeout
    while True:
        workflow = get_workflow(state, args.workflow)
        node = find_node(workflow, args.node)
        if node is not None and node.get("phase") == args.phase:
            print(f"{args.workflow} step {args.node}: {args.phase}")
            return
        phase = (workflow.get("status") or {}).get("phase")  # type: ignore[union-attr]
        if phase in TERMINAL:
            raise ProbeFailed(f"{args.workflow} ended {phase} before step {args.node} was {args.phase}")
        if time.monotonic() > deadline:
            raise ProbeFailed(
                f"step {args.node} of {args.workflow} was not {args.phase} within {args.timeout}s"
            )
        time.sleep(1)


def ran(args: argparse.Namespace) -> None:
    state = State.load()
    workflow = get_workflow(state, args.workflow)
    pods = {
        str(n.get("displayName")).split("(")[0]: n for n in workflow_nodes(workflow) if n.get("type") == "Pod"
    }
    if args.failed and (args.failed not in pods or pods[args.failed].get("phase") != "Failed"):
        raise ProbeFailed(f"step {args.failed} of {args.workflow} did not fail: {sorted(pods)}")
    ran_anyway = [name for name in args.absent if name in pods]
    if ran_anyway:
        raise ProbeFailed(f"{args.workflow} ran {ran_anyway}, which must not run")
    print(f"{args.workflow}: {args.failed or 'nothing'} failed; {', '.join(args.absent)} never ran")


def approve(args: argparse.Namespace) -> None:
    """Approve by name, as docs/cluster.md tells a release manager: the approval node's ``approver``
    output, then resume (a resume without it is refused, which ``--anonymous`` checks)."""
    state = State.load()
    if args.anonymous:
        try:
            argo(state, "resume", args.workflow)
        except HarnessError as refused:
            if "approver" not in str(refused):
                raise ProbeFailed(f"the anonymous resume failed for another reason: {refused}") from None
            print(f"a resume of {args.workflow} without an approver was refused: {refused}")
            return
        raise ProbeFailed(f"{args.workflow} was resumed without naming an approver")
    selector = "--node-field-selector=displayName=approval"
    argo(state, "node", "set", args.workflow, selector, f"--output-parameter=approver={args.approver}")
    argo(state, "resume", args.workflow)


def reject(args: argparse.Namespace) -> None:
    argo(State.load(), "stop", args.workflow)


def settings(args: argparse.Namespace) -> None:
    """Change one key of the platform instance's genaiops-settings (what `genaiops init` writes)."""
    state = State.load()
    patch = json.dumps({"data": {args.key: args.value}})
    kube.kubectl(
        cluster_of(state), "-n", state.namespace, "patch", "configmap", "genaiops-settings", "-p", patch
    )
    print(f"genaiops-settings: {args.key}={args.value}")


def restricted(args: argparse.Namespace) -> None:
    state = State.load()
    cluster = cluster_of(state)
    namespace = json.loads(kube.kubectl(cluster, "get", "namespace", state.namespace, "-o", "json"))
    level = namespace["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce")
    if level != "restricted":
        raise ProbeFailed(f"namespace {state.namespace} enforces {level!r}, not restricted")
    workflows = json.loads(kube.kubectl(cluster, "-n", state.namespace, "get", "workflows", "-o", "json"))[
        "items"
    ]
    chosen = [w for w in workflows if any(w["metadata"]["name"].startswith(p) for p in args.prefixes)]
    if not chosen:
        raise ProbeFailed(f"no workflow named {args.prefixes}*")
    pods = 0
    for workflow in chosen:
        for node in workflow_nodes(workflow):
            if node.get("type") != "Pod":
                continue
            message = str(node.get("message") or "")
            if "forbidden" in message.lower() or "violates PodSecurity" in message:
                raise ProbeFailed(f"{workflow['metadata']['name']} step {node.get('displayName')}: {message}")
            if node.get("phase") in ("Succeeded", "Failed") and node.get("hostNodeName"):
                pods += 1
    tokens = _token_mounts(cluster, state.namespace, {w["metadata"]["name"] for w in chosen})
    events = kube.kubectl(cluster, "-n", state.namespace, "get", "events", "-o", "json")
    refused = [
        e["message"] for e in json.loads(events)["items"] if "violates PodSecurity" in e.get("message", "")
    ]
    if refused:
        raise ProbeFailed(f"pods refused by Pod Security admission: {refused[:3]}")
    print(
        f"{pods} pods of {len(chosen)} workflows ran in {state.namespace} (enforce: restricted); none refused"
        f"\n{tokens}"
    )


TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def _token_mounts(cluster: kube.Cluster, namespace: str, workflows: set[str]) -> str:
    """The step pods still there (failed ones stay): no main container mounts a Kubernetes token, and
    the wait container of each does (Argo's executor reports the outputs with it)."""
    listed = json.loads(kube.kubectl(cluster, "-n", namespace, "get", "pods", "-o", "json"))["items"]
    pods = [
        p
        for p in listed
        if p["metadata"].get("labels", {}).get("workflows.argoproj.io/workflow") in workflows
    ]
    if not pods:
        raise ProbeFailed(f"no step pod of {sorted(workflows)[:5]}... is left to inspect (failed pods stay)")
    for pod in pods:
        name = pod["metadata"]["name"]
        mounts = {
            c["name"]: [m["mountPath"] for m in c.get("volumeMounts") or []]
            for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
        }
        if (
            pod["spec"].get("automountServiceAccountToken") is not False
            and pod["spec"].get("serviceAccountName") != "genaiops-release"
        ):
            automount = json.loads(
                kube.kubectl(
                    cluster,
                    "-n",
                    namespace,
                    "get",
                    "serviceaccount",
                    pod["spec"]["serviceAccountName"],
                    "-o",
                    "json",
                )
            ).get("automountServiceAccountToken")
            if automount is not False:
                raise ProbeFailed(f"{name}: its ServiceAccount automounts a token into every container")
        if TOKEN_PATH in mounts.get("main", []):
            raise ProbeFailed(f"{name}: the main container mounts a Kubernetes token: {mounts['main']}")
        if "wait" in mounts and TOKEN_PATH not in mounts["wait"]:
            raise ProbeFailed(f"{name}: Argo's wait container has no token to report outputs with")
    return (
        f"{len(pods)} step pods left: no main container holds a Kubernetes token, every wait container does"
    )


def check_ci(args: argparse.Namespace) -> None:
    """For every ``PREFIX-<kind>``: its reports are stored, its scorecard verifies, it promoted once."""
    state = State.load()
    for kind in shipped_kinds(state):
        name = f"{args.prefix}-{kind}"
        stored = [
            "lint-report.json",
            "validate-report.json",
            "eval-report.json",
            "evidence.json",
            "evidence.json.sig",
        ]
        reports(argparse.Namespace(workflow=name, files=stored, absent=[], rule=None))
        signed(argparse.Namespace(workflow=name))
        promoted(argparse.Namespace(workflow=name, env=args.env, count=1, approver=None))
