"""Argo Rollouts' side of the loop: a promotion rolled out to an environment's serving pods, or stopped.

``rolled-out WORKFLOW ENV --rollout NAME``: waits until ENV's Application synced WORKFLOW's promotion
commit (or a later one) and is ``Healthy``, and the Rollout NAME is ``Healthy`` with its stable revision
being the one whose pod template mounts the ConfigMap with the promoted digest. Then it checks what
carried the change there:

- every AnalysisRun of that revision ended ``Successful``, and at least one measurement has a value:
  the analysis judged real Prometheus series (no data is Inconclusive, never a pass);
- Prometheus has requests answered (``outcome="ok"``) by that revision for the changed artifact: the new
  version serves the users' traffic;
- the team webhook (the HTTP sink) got Argo CD's ``deployed`` notification for the synced revision.

It prints the time from the promotion commit to the Rollout's ``Healthy`` on the new revision.

``aborted WORKFLOW ENV --rollout NAME``: WORKFLOW promoted a bad version. Waits until the Rollout NAME
aborted the revision that mounts the promoted digest: its phase is ``Degraded`` with the abort set, an
AnalysisRun of that revision ``Failed`` on a measured value, and the stable revision (a different one,
not mounting the bad digest), which the canary step had shrunk, is back at full size with every pod
ready, and answers requests; the team webhook got
Argo CD's ``health-degraded`` notification. Records the stable revision with WORKFLOW's change, for
``restored``.

``restored WORKFLOW ENV --rollout NAME [--revert]``: WORKFLOW is the rollback of a change ``aborted`` saw
(``--revert``: WORKFLOW is a change ``smoke-failed`` saw, undone by ``revert``). Waits until ENV synced
the rollback (or revert) commit, is ``Healthy``, and the Rollout NAME is ``Healthy`` on the stable
revision recorded at the abort, with no pod of the bad revision left. Prints commit -> Healthy.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
from pathlib import Path
from typing import Any

from genaiops_e2e import kube
from genaiops_e2e.install import INFRA_NAMESPACE
from genaiops_e2e.probe.argocd import (
    configmaps_with,
    descends,
    environment_app,
    health,
    promotion_commit,
    summary,
    synced_since,
)
from genaiops_e2e.probe.common import ProbeFailed, cluster_of, load_record, poll, records, save_record
from genaiops_e2e.probe.repo import clone, git
from genaiops_e2e.state import State

NOTIFIED_S = 90


def kube_get(state: State, namespace: str, kind: str, name: str = "") -> dict[str, Any]:
    args = ["-n", namespace, "get", kind, *([name] if name else []), "-o", "json"]
    return dict(json.loads(kube.kubectl(cluster_of(state), *args)))


def _mounted(rollout: dict[str, Any]) -> set[str]:
    volumes = rollout["spec"]["template"]["spec"].get("volumes") or []
    return {v["configMap"]["name"] for v in volumes if v.get("configMap")}


def rollout_line(rollout: dict[str, Any]) -> str:
    status = rollout.get("status") or {}
    return (
        f"Rollout {rollout['metadata']['name']}: phase {status.get('phase')} ({status.get('message', '')}), "
        f"stable {status.get('stableRS')}, current {status.get('currentPodHash')}, "
        f"step {status.get('currentStepIndex')}"
    )


def _done(state: State, tree: Path, env: str, name: str, commit: str, digest: str) -> tuple[bool, str]:
    """Whether the change is rolled out, and what was seen (for the failure message)."""
    app = environment_app(state, env)
    namespace = app["spec"]["destination"]["namespace"]
    rollout = kube_get(state, namespace, "rollout", name)
    status = rollout.get("status") or {}
    seen = f"{summary(app)}\n{rollout_line(rollout)}"
    carries = _mounted(rollout) & set(configmaps_with(state, namespace, digest))
    done = (
        synced_since(tree, app, commit) is not None
        and health(app) == "Healthy"
        and bool(carries)
        and status.get("phase") == "Healthy"
        and status.get("observedGeneration") == str(rollout["metadata"]["generation"])
        and status.get("stableRS") == status.get("currentPodHash")
    )
    return done, seen


def _analyses(state: State, namespace: str, name: str, revision: str) -> list[str]:
    runs = [
        run
        for run in kube_get(state, namespace, "analysisruns")["items"]
        if run["metadata"].get("labels", {}).get("rollouts-pod-template-hash") == revision
        and any(
            o.get("kind") == "Rollout" and o.get("name") == name for o in run["metadata"]["ownerReferences"]
        )
    ]
    if not runs:
        raise ProbeFailed(f"no AnalysisRun of Rollout {name} for revision {revision} in {namespace}")
    lines = []
    for run in runs:
        status = run.get("status") or {}
        values = [
            str(m.get("value"))
            for metric in status.get("metricResults") or []
            for m in metric.get("measurements") or []
            if m.get("value") not in (None, "", "[]")
        ]
        phases = [
            m.get("phase") for metric in status.get("metricResults") or [] for m in metric["measurements"]
        ]
        line = f"{run['metadata']['name']}: {status.get('phase')}, measurements {phases}, values {values}"
        if status.get("phase") != "Successful" or not values:
            raise ProbeFailed(f"analysis of revision {revision} did not pass on data: {line}")
        lines.append(line)
    return lines


def prometheus_query(state: State, query: str) -> list[dict[str, Any]]:
    """An instant query to the e2e Prometheus, through the API server's service proxy."""
    path = (
        f"/api/v1/namespaces/{INFRA_NAMESPACE}/services/prometheus:9090/proxy/api/v1/query?"
        + urllib.parse.urlencode({"query": query})
    )
    answer = json.loads(kube.kubectl(cluster_of(state), "get", "--raw", path))
    return list(answer["data"]["result"])


def answered_last_minute(namespace: str, revision: str) -> str:
    """The PromQL for the requests ``revision`` answered (outcome ok) in the last minute."""
    selector = f'namespace="{namespace}",revision="{revision}",outcome="ok"'
    return f"sum(increase(genaiops_serving_requests_total{{{selector}}}[1m]))"


def _served(state: State, namespace: str, record: dict[str, str], revision: str) -> str:
    selector = (
        f'namespace="{namespace}",kind="{record["kind"]}",artifact="{record["id"]}",'
        f'revision="{revision}",outcome="ok"'
    )
    result = prometheus_query(state, f"sum by (version) (genaiops_serving_requests_total{{{selector}}})")
    if not result:
        raise ProbeFailed(f"Prometheus has no answered request for {{{selector}}}")
    return ", ".join(f"version {r['metric'].get('version')}: {float(r['value'][1]):.0f} ok" for r in result)


def notified(state: State, tree: Path, event: str, application: str, commit: str) -> dict[str, Any]:
    """The Argo CD notification ``event`` about ``application`` at ``commit`` or a later revision, as the
    team webhook (the HTTP sink) received it (waits up to NOTIFIED_S)."""

    def check() -> tuple[dict[str, Any] | None, str]:
        deliveries = records(state)["deliveries"]
        assert isinstance(deliveries, list)
        bodies = [d["body"] for d in deliveries if isinstance(d, dict) and isinstance(d.get("body"), dict)]
        about = [b for b in bodies if (b.get("event"), b.get("application")) == (event, application)]
        found = next((b for b in about if descends(tree, commit, str(b.get("revision")))), None)
        return found, f"{len(about)} earlier {event!r} notification(s) for {application}"

    what = f"the team webhook got no Argo CD {event!r} for {application} at {commit[:12]} or later"
    body, _ = poll(check, NOTIFIED_S, what)
    return body


def rolled_out(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    with clone(state) as tree:
        commit, committed = promotion_commit(tree, args.workflow, record)

        def check() -> tuple[bool | None, str]:
            done, seen = _done(state, tree, args.env, args.rollout, commit, record["digest"])
            return (True if done else None), seen

        _, healthy = poll(check, args.timeout, f"{args.env} did not roll out {commit[:12]}")
        app = environment_app(state, args.env)
        deployed = notified(state, tree, "deployed", app["metadata"]["name"], commit)
    namespace = app["spec"]["destination"]["namespace"]
    revision = str(kube_get(state, namespace, "rollout", args.rollout)["status"]["stableRS"])
    analyses = _analyses(state, namespace, args.rollout, revision)
    served = _served(state, namespace, record, revision)
    print(
        f"{args.rollout} in {namespace} is Healthy on revision {revision} "
        f"{healthy - committed:.0f}s after promotion {commit[:12]} by {args.workflow}\n"
        + "\n".join(f"  analysis {line}" for line in analyses)
        + f"\n  Prometheus: {record['kind']} {record['id']} answered by {revision}: {served}"
        + f"\n  team webhook: Argo CD's {deployed['event']!r} for {deployed['application']} at "
        + str(deployed.get("revision"))[:12]
    )


def revision_mounts(state: State, namespace: str, revision: str) -> set[str]:
    """The ConfigMaps the pods of ``revision`` (a ReplicaSet of the Rollout) mount."""
    sets = kube_get(state, namespace, "replicasets")["items"]
    for replicaset in sets:
        if replicaset["metadata"].get("labels", {}).get("rollouts-pod-template-hash") == revision:
            return _mounted(replicaset)
    raise ProbeFailed(f"no ReplicaSet of revision {revision} in {namespace}")


def ready_pods(state: State, namespace: str, revision: str) -> int:
    pods = kube_get(state, namespace, "pods")["items"]
    return sum(
        1
        for pod in pods
        if pod["metadata"].get("labels", {}).get("rollouts-pod-template-hash") == revision
        and any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in pod["status"].get("conditions") or []
        )
    )


def _failed_analysis(state: State, namespace: str, name: str, revision: str) -> str | None:
    for run in kube_get(state, namespace, "analysisruns")["items"]:
        labels = run["metadata"].get("labels", {})
        status = run.get("status") or {}
        if labels.get("rollouts-pod-template-hash") != revision or status.get("phase") != "Failed":
            continue
        if not any(
            o.get("kind") == "Rollout" and o.get("name") == name for o in run["metadata"]["ownerReferences"]
        ):
            continue
        failed = [
            f"{metric['name']} = {m.get('value')}"
            for metric in status.get("metricResults") or []
            for m in metric.get("measurements") or []
            if m.get("phase") == "Failed" and m.get("value") not in (None, "", "[]")
        ]
        if failed:
            return f"{run['metadata']['name']}: Failed on {'; '.join(failed)}"
    return None


def aborted(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    namespace = environment_app(state, args.env)["spec"]["destination"]["namespace"]
    with clone(state) as tree:
        commit, committed = promotion_commit(tree, args.workflow, record)

    def check() -> tuple[tuple[dict[str, Any], set[str], str] | None, str]:
        bad = set(configmaps_with(state, namespace, record["digest"]))  # once Argo CD synced it
        rollout = kube_get(state, namespace, "rollout", args.rollout)
        status = rollout.get("status") or {}
        analysis = None
        if status.get("abort") and status.get("phase") == "Degraded" and _mounted(rollout) & bad:
            analysis = _failed_analysis(state, namespace, args.rollout, str(status.get("currentPodHash")))
        seen = rollout_line(rollout)
        if analysis is None:
            return None, seen
        # the abort scales the stable revision back to full size (the canary step had shrunk it)
        stable, wanted = str(status.get("stableRS")), int(rollout["spec"]["replicas"])
        ready = ready_pods(state, namespace, stable)
        seen += f"; aborted ({analysis}); stable {stable} has {ready} of {wanted} pods ready"
        return ((rollout, bad, analysis) if ready >= wanted else None), seen

    what = f"{args.rollout} did not abort the bad revision with its stable revision back at full size"
    (rollout, bad, analysis), seen = poll(check, args.timeout, what)
    current, stable = rollout["status"].get("currentPodHash"), rollout["status"].get("stableRS")
    if stable == current or revision_mounts(state, namespace, str(stable)) & bad:
        raise ProbeFailed(f"the stable revision {stable} is the bad one")
    wanted = int(rollout["spec"]["replicas"])
    ready = ready_pods(state, namespace, str(stable))
    served = prometheus_query(state, answered_last_minute(namespace, str(stable)))
    if not served or float(served[0]["value"][1]) <= 0:
        raise ProbeFailed(f"the stable revision {stable} answered no request in the last minute")
    app = environment_app(state, args.env)
    with clone(state) as tree:
        degraded = notified(state, tree, "health-degraded", app["metadata"]["name"], commit)
    save_record(args.workflow, {**record, "stable": str(stable)})
    print(
        f"{args.rollout} in {namespace} aborted revision {current} {seen - committed:.0f}s after promotion "
        f"{commit[:12]} by {args.workflow}\n  analysis {analysis}\n  stable revision {stable}: {ready} of "
        f"{wanted} pods ready, {float(served[0]['value'][1]):.0f} requests answered in the last minute\n"
        f"  team webhook: Argo CD's {degraded['event']!r} for {degraded['application']} at "
        f"{str(degraded.get('revision'))[:12]} (health {degraded.get('health')})"
    )


def restored(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    if "stable" not in record or (args.revert and "reverted" not in record):
        raise ProbeFailed(
            f"{args.workflow}'s change has no recorded stable revision or revert (run `probe aborted` or "
            "`probe smoke-failed`, and `probe revert`, first)"
        )
    namespace = environment_app(state, args.env)["spec"]["destination"]["namespace"]
    with clone(state) as tree:
        if args.revert:
            commit = record["reverted"]
            committed = int(git(tree, "show", "-s", "--format=%ct", commit).strip())
        else:
            commit, committed = promotion_commit(tree, args.workflow, record)

        def check() -> tuple[bool | None, str]:
            app = environment_app(state, args.env)
            rollout = kube_get(state, namespace, "rollout", args.rollout)
            status = rollout.get("status") or {}
            serving = rollout["spec"]["selector"]["matchLabels"].get("genaiops.dev/serving")
            leftovers = [
                pod["metadata"]["name"]
                for pod in kube_get(state, namespace, "pods")["items"]
                if (labels := pod["metadata"].get("labels", {})).get("genaiops.dev/serving") == serving
                and labels.get("rollouts-pod-template-hash") not in (None, record["stable"])
            ]
            done = (
                synced_since(tree, app, commit) is not None
                and health(app) == "Healthy"
                and status.get("phase") == "Healthy"
                and status.get("stableRS") == status.get("currentPodHash") == record["stable"]
                and not leftovers
            )
            seen = f"{summary(app)}\n{rollout_line(rollout)}; other pods: {leftovers}"
            return (True if done else None), seen

        _, healthy = poll(check, args.timeout, f"{args.env} did not return to revision {record['stable']}")
    what = "revert" if args.revert else f"rollback commit by {args.workflow}"
    print(
        f"{args.rollout} in {namespace} is Healthy on the earlier revision {record['stable']} again "
        f"{healthy - committed:.0f}s after the {what} {commit[:12]}"
    )
