"""``python -m genaiops_e2e.probe``: what the chainsaw scenarios do and check from the host.

Changes and submissions (as a push and its Sensor would make them):
- ``change KIND|first WORKFLOW [--broken]``: commit a change to one example artifact of KIND on the git
  server's main branch and submit KIND's CI WorkflowTemplate for it with the Sensor's parameters (a GitHub
  push payload for the commit). ``--broken`` uses a template variable the prompt does not declare.
- ``change-all PREFIX``: the same for every kind the repository ships (workflows ``PREFIX-<kind>``).
- ``submit-cd CHANGE WORKFLOW --env ENV [--approval] [--rollback]``: KIND's CD template for CHANGE's commit.
- ``cron NAME WORKFLOW``: one run of a CronWorkflow (as its schedule would start it).
Waiting (on conditions, failing fast with the failed steps when the workflow ends otherwise):
- ``wait WORKFLOW... --phase PHASE --timeout S``; ``wait-node WORKFLOW NODE --phase PHASE``.
Checks:
- ``reports WORKFLOW FILE... [--absent FILE...] [--rule ID]``: in the artifact store under WORKFLOW/.
- ``signed WORKFLOW``: the scorecard's signature verifies with the run's cosign public key.
- ``promoted WORKFLOW ENV [--count N]`` / ``not-promoted WORKFLOW``: promotion commits on main.
- ``ran WORKFLOW --failed NODE --absent NODE...``: which steps ran.
- ``check-ci PREFIX ENV``: reports, signature and promotion for every ``PREFIX-<kind>``.
- ``deployed WORKFLOW ENV STAGE``: the stage's report covers exactly what ENV deploys on main.
- ``restricted PREFIX...``: every pod of those workflows was admitted under Pod Security ``restricted``.
- ``snapshot WORKFLOW ENV --save F | --compare F``: the environment's files of the changed artifact.
- ``approve`` / ``reject WORKFLOW``: resume or stop the approval (the argo CLI).
- ``revert WORKFLOW``: undo WORKFLOW's change on main (after a scenario that pushed a broken artifact).
- ``settings KEY VALUE``: change one key of the instance's genaiops-settings ConfigMap.
A workflow name may say ``{first}`` (the first kind the repository ships) or ``released-by:CI`` (the CD
workflow CI's hand-off step started).
Faults: ``git-outage WORKFLOW`` (stop the git server from just before promote until its first attempt
failed), ``controller-restart WORKFLOW NODE`` (delete the workflow-controller pod while NODE runs).
Each prints what it found and exits 1 with a clear message when the expectation does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from genaiops.discovery import digest, resolve_paths
from genaiops.errors import GenaiopsError
from genaiops.kinds import BY_NAME
from genaiops.promote.snapshot import Snapshot, env_artifact_dir, labels
from genaiops_e2e import gobuild, kube
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State

EXAMPLES = {
    "prompt": "review-sentiment",
    "model-config": "support-assistant",
    "rag": "internal-kb",
    "guardrail": "customer-support",
}
"""The example artifact each kind's scenario changes (its recorded cassettes still answer the eval)."""


class ProbeFailed(Exception):
    """An expectation of a scenario did not hold."""


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "genaiops e2e",
        "GIT_AUTHOR_EMAIL": "e2e@genaiops.invalid",
        "GIT_COMMITTER_NAME": "genaiops e2e",
        "GIT_COMMITTER_EMAIL": "e2e@genaiops.invalid",
        "GIT_TERMINAL_PROMPT": "0",
    }
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise HarnessError(f"git {args[0]}: {proc.stderr.strip()}".replace(State.load().git_token, "***"))
    return proc.stdout


@contextmanager
def clone(state: State) -> Iterator[Path]:
    """A fresh clone of the git server's main branch."""
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        tree = Path(scratch) / "repo"
        _git(Path(scratch), "clone", "--quiet", "--branch", "main", state.git_url_host_auth, str(tree))
        yield tree


def _record_path(workflow: str) -> Path:
    return State.path().parent / "scenarios" / f"{workflow}.json"


def _save_record(workflow: str, record: dict[str, str]) -> None:
    path = _record_path(workflow)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))


def _record(workflow: str) -> dict[str, str]:
    path = _record_path(workflow)
    if not path.exists():
        raise ProbeFailed(f"no change was recorded for {workflow} (run `probe change` first)")
    return json.loads(path.read_text())


def _edit(tree: Path, kind: str, artifact_id: str, broken: bool) -> str:
    """Change the artifact; returns its folder (relative)."""
    rel = f"artifacts/{BY_NAME[kind].folder}/{artifact_id}"
    if broken:
        template = tree / rel / "template.j2"
        template.write_text(template.read_text() + "\n{{ e2e_undeclared_variable }}\n")
        return rel
    manifest = tree / rel / BY_NAME[kind].manifest
    text = manifest.read_text()
    marker = re.search(r"^description: >-\n((?:  .*\n)+)", text, re.MULTILINE)
    if marker is None:
        raise HarnessError(f"{manifest}: no folded description to change")
    stamp = f"  (e2e change {os.urandom(4).hex()})\n"
    manifest.write_text(text[: marker.end()] + stamp + text[marker.end() :])
    return rel


def _push_payload(state: State, before: str, after: str, rel: str, changed: list[str]) -> dict[str, object]:
    owner, name = state.git_url_cluster.rsplit("/", 2)[-2:]
    name = name.removesuffix(".git")
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": f"{owner}/{name}", "clone_url": state.git_url_cluster},
        "commits": [{"id": after, "added": [], "removed": [], "modified": changed}],
        "head_commit": {"id": after, "message": f"e2e: change {rel}"},
    }


def _submit(state: State, manifest: str) -> None:
    """Create the Workflow, replacing one of the same name left by an earlier run of the scenario."""
    name = json.loads(manifest)["metadata"]["name"]
    cluster = _cluster(state)
    kube.remove_workflows(cluster, state.namespace, name)
    kube.kubectl(cluster, "-n", state.namespace, "create", "-f", "-", input_text=manifest)


def _workflow(name: str, template: str, parameters: dict[str, str], labels_: dict[str, str]) -> str:
    return json.dumps(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": name, "labels": {"genaiops.dev/e2e": "true", **labels_}},
            "spec": {
                "workflowTemplateRef": {"name": template},
                "arguments": {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]},
            },
        }
    )


def _kinds(state: State) -> list[str]:
    from genaiops.project import load_project

    return [k for k in load_project(Path(state.repo)).kinds if k in EXAMPLES]


def change(args: argparse.Namespace) -> None:
    state = State.load()
    kind = _kinds(state)[0] if args.kind == "first" else args.kind
    _change(state, kind, args.workflow, args.artifact, args.broken)


def change_all(args: argparse.Namespace) -> None:
    state = State.load()
    for kind in _kinds(state):
        _change(state, kind, f"{args.prefix}-{kind}", None, False)


def _change(state: State, kind: str, workflow: str, artifact: str | None, broken: bool) -> None:
    artifact_id = artifact or EXAMPLES[kind]
    with clone(state) as tree:
        before = _git(tree, "rev-parse", "HEAD").strip()
        rel = _edit(tree, kind, artifact_id, broken)
        changed = [line[3:] for line in _git(tree, "status", "--porcelain").splitlines()]
        _git(tree, "commit", "--quiet", "-am", f"e2e: change {rel}")
        after = _git(tree, "rev-parse", "HEAD").strip()
        _git(tree, "push", "--quiet", "origin", "main")
        artifact = resolve_paths(tree, [str(tree / rel)])[0]
        version = str(yaml.safe_load((tree / rel / BY_NAME[kind].manifest).read_text())["version"])
        snapshot_digest = labels(Snapshot(kind, artifact_id, version, digest(artifact), {}))[
            "genaiops.dev/digest"
        ]
    payload = _push_payload(state, before, after, rel, changed)
    parameters = {
        "repo-url": state.git_url_cluster,
        "commit-sha": after,
        "branch": "main",
        "event-type": "push",
        "event": json.dumps(payload),
        "repository": str(payload["repository"]["full_name"]),  # type: ignore[index]
    }
    _submit(state, _workflow(workflow, f"{kind}-ci-v1", parameters, {"genaiops.dev/trigger": "push"}))
    _save_record(
        workflow,
        {
            "kind": kind,
            "id": artifact_id,
            "path": rel,
            "before": before,
            "after": after,
            "digest": snapshot_digest,
        },
    )
    print(f"pushed {after[:12]} changing {rel}; submitted {workflow} from {kind}-ci-v1")


def submit_cd(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.change)
    parameters = {
        "commit-sha": record["after"],
        "artifact-path": record["path"],
        "environment": args.env,
        "require-approval": "true" if args.approval else "false",
        "rollback": "true" if args.rollback else "false",
    }
    _submit(state, _workflow(args.workflow, f"{record['kind']}-cd-v1", parameters, {}))
    _save_record(args.workflow, record)
    print(f"submitted {args.workflow} from {record['kind']}-cd-v1 for {record['path']} to {args.env}")


def _cluster(state: State) -> kube.Cluster:
    from genaiops_e2e.cluster import Cluster, tool_path

    env = {"KUBECONFIG": state.kubeconfig, "PATH": tool_path(dict(os.environ))}
    return Cluster("genaiops-e2e", Path(state.kubeconfig), "", state.node_ip, env)


def _s3(state: State):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=f"http://{state.s3_endpoint_host}",
        aws_access_key_id=state.s3_access_key,
        aws_secret_access_key=state.s3_secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def _objects(state: State, workflow: str) -> list[str]:
    client = _s3(state)
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=state.bucket, Prefix=f"{workflow}/"):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def reports(args: argparse.Namespace) -> None:
    state = State.load()
    keys = _objects(state, args.workflow)
    names = {key.rsplit("/", 1)[-1]: key for key in keys}
    missing = [name for name in args.files if name not in names]
    if missing:
        raise ProbeFailed(f"not in s3://{state.bucket}/{args.workflow}/: {missing}; found {sorted(names)}")
    unexpected = [name for name in args.absent if name in names]
    if unexpected:
        raise ProbeFailed(f"in s3://{state.bucket}/{args.workflow}/ but must not be: {unexpected}")
    if args.rule:
        body = _s3(state).get_object(Bucket=state.bucket, Key=names["lint-report.json"])["Body"].read()
        report = json.loads(body)
        rules = {f.get("ruleId") for a in report.get("artifacts", []) for f in a.get("findings", [])}
        if args.rule not in rules:
            raise ProbeFailed(
                f"the lint report does not name {args.rule}; it names {sorted(filter(None, rules))}"
            )
    print(f"s3://{state.bucket}/{args.workflow}/: {', '.join(sorted(args.files))} present")


def signed(args: argparse.Namespace) -> None:
    state = State.load()
    keys = _objects(state, args.workflow)
    client = _s3(state)
    pairs = [(k, k.removesuffix(".sig")) for k in keys if k.endswith("eval-report.json.sig")]
    if not pairs:
        raise ProbeFailed(f"no eval-report.json.sig in s3://{state.bucket}/{args.workflow}/")
    cosign = gobuild.binary(gobuild.COSIGN, "cosign")
    with tempfile.TemporaryDirectory(prefix="genaiops-probe-") as scratch:
        folder = Path(scratch)
        sig_key = pairs[0][0]
        report_key = next((k for k in keys if k.endswith("/eval-report.json")), None)
        if report_key is None:
            raise ProbeFailed("no eval-report.json next to the signature")
        (folder / "report.json").write_bytes(
            client.get_object(Bucket=state.bucket, Key=report_key)["Body"].read()
        )
        (folder / "report.sig").write_bytes(
            client.get_object(Bucket=state.bucket, Key=sig_key)["Body"].read()
        )
        public = State.path().parent / "cosign" / "cosign.pub"
        proc = subprocess.run(
            [
                str(cosign),
                "verify-blob",
                f"--key={public}",
                "--insecure-ignore-tlog=true",
                f"--signature={folder / 'report.sig'}",
                str(folder / "report.json"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ProbeFailed(f"the scorecard signature does not verify: {proc.stderr.strip()}")
    print(f"{report_key} is signed ({sig_key}) and verifies with the run's cosign key")


def _promotions(tree: Path, since: str, workflow: str) -> list[str]:
    """Commits on main after ``since`` that ``workflow`` made (genaiops records it in a trailer)."""
    out = _git(tree, "log", "--format=%H%x00%B%x01", f"{since}..HEAD")
    found = []
    for entry in filter(str.strip, out.split("\x01")):
        sha, _, body = entry.strip().partition("\x00")
        if f"Genaiops-Workflow: {workflow}" in body.splitlines():
            found.append(sha)
    return found


def promoted(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        commits = _promotions(tree, record["after"], args.workflow)
        if args.count is not None and len(commits) != args.count:
            raise ProbeFailed(
                f"expected {args.count} commit(s) by {args.workflow}, found {len(commits)}: {commits}"
            )
        if not commits:
            raise ProbeFailed(f"no promotion commit by {args.workflow} on main after {record['after'][:12]}")
        built = kube.build(Path(state.repo), tree / "environments" / args.env)
        if record["digest"] not in built:
            raise ProbeFailed(f"kustomize build environments/{args.env} lacks {record['digest']}")
        snapshot = tree / env_artifact_dir(args.env, record["kind"], record["id"])
        if not snapshot.is_dir():
            raise ProbeFailed(f"{snapshot.relative_to(tree)} is missing")
    print(
        f"{commits[0][:12]} by {args.workflow} promoted {record['id']} to {args.env}; "
        f"the build carries {record['digest']}"
    )


def not_promoted(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        commits = _promotions(tree, record["after"], args.workflow)
    if commits:
        raise ProbeFailed(f"{args.workflow} pushed commits to main: {commits}")
    print(f"{args.workflow} pushed nothing after {record['after'][:12]}")


def revert(args: argparse.Namespace) -> None:
    """Undo WORKFLOW's change on main (a scenario that pushed a broken artifact cleans up after itself)."""
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        _git(tree, "revert", "--no-edit", record["after"])
        _git(tree, "push", "--quiet", "origin", "main")
    print(f"reverted {record['after'][:12]} on main")


def snapshot(args: argparse.Namespace) -> None:
    state = State.load()
    record = _record(args.workflow)
    with clone(state) as tree:
        folder = tree / env_artifact_dir(args.env, record["kind"], record["id"])
        files = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
        kustomization = (tree / "environments" / args.env / "kustomization.yaml").read_text()
    data = {"files": files, "kustomization": kustomization}
    if args.compare:
        saved = json.loads(Path(args.compare).read_text())
        if saved != data:
            raise ProbeFailed(f"environments/{args.env} differs from the snapshot in {args.compare}")
        print(f"environments/{args.env} is byte-identical to {args.compare}")
        return
    Path(args.save).write_text(json.dumps(data))
    print(f"saved environments/{args.env} ({len(files)} files of {record['id']}) to {args.save}")


def _argo(state: State, *args: str) -> None:
    argo = kube.tools_bin(Path(state.repo)) / "argo"
    env = {**os.environ, "KUBECONFIG": state.kubeconfig}
    proc = subprocess.run(
        [str(argo), "-n", state.namespace, *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise HarnessError(f"argo {' '.join(args)}: {proc.stderr.strip()}")
    print(proc.stdout.strip())


def approve(args: argparse.Namespace) -> None:
    _argo(State.load(), "resume", args.workflow)


def reject(args: argparse.Namespace) -> None:
    _argo(State.load(), "stop", args.workflow)


def _get_workflow(state: State, name: str) -> dict[str, object]:
    return json.loads(
        kube.kubectl(_cluster(state), "-n", state.namespace, "get", "workflow", name, "-o", "json")
    )


def _nodes(workflow: dict[str, object]) -> list[dict[str, object]]:
    return list(((workflow.get("status") or {}).get("nodes") or {}).values())  # type: ignore[union-attr]


def _failures(workflow: dict[str, object]) -> str:
    failed = [
        f"{n.get('displayName')}: {n.get('phase')} {n.get('message') or ''}".strip()
        for n in _nodes(workflow)
        if n.get("phase") in ("Failed", "Error") and n.get("type") == "Pod"
    ]
    return "; ".join(failed) or str((workflow.get("status") or {}).get("message") or "no failed step")  # type: ignore[union-attr]


TERMINAL = ("Succeeded", "Failed", "Error")


def wait(args: argparse.Namespace) -> None:
    state = State.load()
    deadline = time.monotonic() + args.timeout
    pending = list(args.workflows)
    if args.prefix:
        listed = json.loads(
            kube.kubectl(_cluster(state), "-n", state.namespace, "get", "workflows", "-o", "json")
        )
        pending += [
            w["metadata"]["name"] for w in listed["items"] if w["metadata"]["name"].startswith(args.prefix)
        ]
    if not pending:
        raise ProbeFailed("no workflow to wait for")
    while pending:
        for name in list(pending):
            workflow = _get_workflow(state, name)
            phase = (workflow.get("status") or {}).get("phase")  # type: ignore[union-attr]
            if phase == args.phase:
                print(f"{name}: {phase}")
                pending.remove(name)
            elif phase in TERMINAL:
                raise ProbeFailed(f"{name} ended {phase}, not {args.phase}: {_failures(workflow)}")
        if pending and time.monotonic() > deadline:
            raise ProbeFailed(f"{pending} did not reach {args.phase} within {args.timeout}s")
        if pending:
            time.sleep(2)


def _node(workflow: dict[str, object], display: str) -> dict[str, object] | None:
    matches = [n for n in _nodes(workflow) if n.get("displayName") == display]
    return matches[-1] if matches else None


def wait_node(args: argparse.Namespace) -> None:
    state = State.load()
    deadline = time.monotonic() + args.timeout
    while True:
        workflow = _get_workflow(state, args.workflow)
        node = _node(workflow, args.node)
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
    workflow = _get_workflow(state, args.workflow)
    pods = {str(n.get("displayName")).split("(")[0]: n for n in _nodes(workflow) if n.get("type") == "Pod"}
    if args.failed and (args.failed not in pods or pods[args.failed].get("phase") != "Failed"):
        raise ProbeFailed(f"step {args.failed} of {args.workflow} did not fail: {sorted(pods)}")
    ran_anyway = [name for name in args.absent if name in pods]
    if ran_anyway:
        raise ProbeFailed(f"{args.workflow} ran {ran_anyway}, which must not run")
    print(f"{args.workflow}: {args.failed or 'nothing'} failed; {', '.join(args.absent)} never ran")


def check_ci(args: argparse.Namespace) -> None:
    state = State.load()
    for kind in _kinds(state):
        name = f"{args.prefix}-{kind}"
        for check in (
            [
                "reports",
                name,
                "lint-report.json",
                "validate-report.json",
                "eval-report.json",
                "eval-report.json.sig",
            ],
            ["signed", name],
            ["promoted", name, args.env, "--count", "1"],
        ):
            if main(check) != 0:
                raise ProbeFailed(f"{name}: {check[0]} failed")


def deployed(args: argparse.Namespace) -> None:
    state = State.load()
    report_name = f"{args.stage}-report.json"
    keys = [k for k in _objects(state, args.workflow) if k.endswith("/" + report_name)]
    if not keys:
        raise ProbeFailed(f"no {report_name} of {args.workflow} in the artifact store")
    report = json.loads(_s3(state).get_object(Bucket=state.bucket, Key=keys[0])["Body"].read())
    context = report.get("context") or {}
    if (context.get("deployed") or {}).get("environment") != args.env:
        raise ProbeFailed(f"the {args.stage} report did not check what {args.env} deploys: context {context}")
    checked = sorted(f"{a.get('kind')}/{a.get('id')}" for a in report.get("artifacts", []))
    with clone(state) as tree:
        root = tree / "environments" / args.env / "artifacts"
        wanted = sorted(
            f"{kind.name}/{d.name}"
            for kind in BY_NAME.values()
            if (root / kind.name).is_dir()
            for d in (root / kind.name).iterdir()
            if d.is_dir() and (args.kind is None or kind.name == args.kind)
        )
    if not wanted:
        raise ProbeFailed(f"nothing is deployed in {args.env}: the check proves nothing")
    if checked != wanted:
        raise ProbeFailed(f"{args.stage} checked {checked}, but {args.env} deploys {wanted}")
    print(f"{args.workflow}: {args.stage} checked exactly what {args.env} deploys: {', '.join(checked)}")


def cron(args: argparse.Namespace) -> None:
    state = State.load()
    kube.remove_workflows(_cluster(state), state.namespace, args.workflow)
    _argo(
        state,
        "submit",
        "--from",
        f"cronwf/{args.cron}",
        "--name",
        args.workflow,
        "--labels",
        "genaiops.dev/e2e=true",
    )


def restricted(args: argparse.Namespace) -> None:
    state = State.load()
    cluster = _cluster(state)
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
        for node in _nodes(workflow):
            if node.get("type") != "Pod":
                continue
            message = str(node.get("message") or "")
            if "forbidden" in message.lower() or "violates PodSecurity" in message:
                raise ProbeFailed(f"{workflow['metadata']['name']} step {node.get('displayName')}: {message}")
            if node.get("phase") in ("Succeeded", "Failed") and node.get("hostNodeName"):
                pods += 1
    events = kube.kubectl(cluster, "-n", state.namespace, "get", "events", "-o", "json")
    refused = [
        e["message"] for e in json.loads(events)["items"] if "violates PodSecurity" in e.get("message", "")
    ]
    if refused:
        raise ProbeFailed(f"pods refused by Pod Security admission: {refused[:3]}")
    print(
        f"{pods} pods of {len(chosen)} workflows ran in {state.namespace} (enforce: restricted); none refused"
    )


def git_outage(args: argparse.Namespace) -> None:
    """Stop the git server once the release starts (verify runs), until promote's first attempt failed."""
    state = State.load()
    cluster = _cluster(state)
    deadline = time.monotonic() + args.timeout
    while True:
        workflow = _get_workflow(state, args.workflow)
        if _node(workflow, "verify") is not None:
            break
        if (workflow.get("status") or {}).get("phase") in TERMINAL:  # type: ignore[union-attr]
            raise ProbeFailed(f"{args.workflow} ended before its release: {_failures(workflow)}")
        if time.monotonic() > deadline:
            raise ProbeFailed(f"{args.workflow} never reached verify within {args.timeout}s")
        time.sleep(1)
    kube.kubectl(cluster, "-n", "genaiops-e2e", "scale", "deployment/git-server", "--replicas=0")
    kube.kubectl(
        cluster,
        "-n",
        "genaiops-e2e",
        "wait",
        "--for=delete",
        "pod",
        "-l",
        "app.kubernetes.io/name=git-server",
        "--timeout=120s",
        timeout=150,
    )
    print("git server stopped")
    try:
        while True:
            node = _node(_get_workflow(state, args.workflow), "promote(0)")
            if node is not None and node.get("phase") in ("Failed", "Error"):
                print(f"promote(0): {node.get('phase')} {node.get('message') or ''}")
                exit_code = (node.get("outputs") or {}).get("exitCode")  # type: ignore[union-attr]
                if str(exit_code) != "3":
                    raise ProbeFailed(f"promote's first attempt exited {exit_code}, not 3 (infrastructure)")
                break
            if node is not None and node.get("phase") == "Succeeded":
                raise ProbeFailed("promote succeeded while the git server was down")
            if (workflow := _get_workflow(state, args.workflow)).get("status", {}).get("phase") in TERMINAL:  # type: ignore[union-attr]
                raise ProbeFailed(f"{args.workflow} ended during the outage: {_failures(workflow)}")
            if time.monotonic() > deadline:
                raise ProbeFailed(f"promote(0) of {args.workflow} did not fail within {args.timeout}s")
            time.sleep(1)
    finally:
        kube.kubectl(cluster, "-n", "genaiops-e2e", "scale", "deployment/git-server", "--replicas=1")
        kube.rollout(cluster, "genaiops-e2e", "git-server", timeout_s=180)
        print("git server started again")


def controller_restart(args: argparse.Namespace) -> None:
    state = State.load()
    cluster = _cluster(state)
    wait_node(
        argparse.Namespace(workflow=args.workflow, node=args.node, phase="Running", timeout=args.timeout)
    )
    kube.kubectl(cluster, "-n", "argo", "delete", "pod", "-l", "app=workflow-controller", "--wait=true")
    print(f"deleted the workflow-controller pod while {args.node} of {args.workflow} ran")
    kube.rollout(cluster, "argo", "workflow-controller", timeout_s=180)


def settings(args: argparse.Namespace) -> None:
    """Change one key of the platform instance's genaiops-settings (what `genaiops init` writes)."""
    state = State.load()
    patch = json.dumps({"data": {args.key: args.value}})
    kube.kubectl(
        _cluster(state), "-n", state.namespace, "patch", "configmap", "genaiops-settings", "-p", patch
    )
    print(f"genaiops-settings: {args.key}={args.value}")


FIRST = "{first}"
"""In a workflow name: the first artifact kind the repository ships (rendered repositories may lack some)."""
RELEASED_BY = "released-by:"
"""A workflow name ``released-by:CI`` means the CD workflow CI's hand-off step started."""


def _resolve(state: State, name: str) -> str:
    name = name.replace(FIRST, _kinds(state)[0])
    if not name.startswith(RELEASED_BY):
        return name
    source = name.removeprefix(RELEASED_BY)
    listed = json.loads(
        kube.kubectl(
            _cluster(state),
            "-n",
            state.namespace,
            "get",
            "workflows",
            "-o",
            "json",
            "-l",
            f"genaiops.dev/released-by={source}",
        )
    )
    names = [w["metadata"]["name"] for w in listed["items"] if not w["metadata"].get("deletionTimestamp")]
    if len(names) != 1:
        raise ProbeFailed(f"expected one workflow started by {source}'s hand-off, found {names}")
    if not _record_path(names[0]).exists():  # it delivers the change its CI workflow recorded
        _save_record(names[0], _record(source))
    return names[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genaiops_e2e.probe", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: object, *positionals: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name)
        for positional in positionals:
            p.add_argument(positional)
        p.set_defaults(handler=handler)
        return p

    p = command("change", change)
    p.add_argument("kind", choices=["first", *sorted(EXAMPLES)])
    p.add_argument("workflow")
    p.add_argument("--artifact")
    p.add_argument("--broken", action="store_true")
    command("change-all", change_all, "prefix")
    p = command("submit-cd", submit_cd, "change", "workflow")
    p.add_argument("--env", required=True)
    p.add_argument("--approval", action="store_true")
    p.add_argument("--rollback", action="store_true")
    command("cron", cron, "cron", "workflow")
    p = command("wait", wait)
    p.add_argument("workflows", nargs="*")
    p.add_argument("--prefix", help="also every workflow whose name starts with this")
    p.add_argument("--phase", default="Succeeded")
    p.add_argument("--timeout", type=int, default=900)
    p = command("wait-node", wait_node, "workflow", "node")
    p.add_argument("--phase", default="Running")
    p.add_argument("--timeout", type=int, default=900)
    p = command("ran", ran, "workflow")
    p.add_argument("--failed")
    p.add_argument("--absent", nargs="*", default=[])
    p = command("reports", reports, "workflow")
    p.add_argument("files", nargs="*")
    p.add_argument("--absent", nargs="*", default=[])
    p.add_argument("--rule")
    command("signed", signed, "workflow")
    p = command("promoted", promoted, "workflow", "env")
    p.add_argument("--count", type=int)
    command("not-promoted", not_promoted, "workflow")
    command("check-ci", check_ci, "prefix", "env")
    p = command("deployed", deployed, "workflow", "env")
    p.add_argument("stage", choices=("eval", "validate"))
    p.add_argument("--kind")
    p = command("restricted", restricted)
    p.add_argument("prefixes", nargs="+")
    command("revert", revert, "workflow")
    p = command("snapshot", snapshot, "workflow", "env")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--save")
    group.add_argument("--compare")
    command("approve", approve, "workflow")
    command("reject", reject, "workflow")
    command("git-outage", git_outage, "workflow").add_argument("--timeout", type=int, default=900)
    command("controller-restart", controller_restart, "workflow", "node").add_argument(
        "--timeout", type=int, default=900
    )
    command("settings", settings, "key", "value")
    args = parser.parse_args(argv)
    try:
        if any(FIRST in str(v) or RELEASED_BY in str(v) for v in vars(args).values()):
            state = State.load()
            for field in ("workflow", "change", "prefix"):
                if isinstance(getattr(args, field, None), str):
                    setattr(args, field, _resolve(state, getattr(args, field)))
            if getattr(args, "workflows", None):
                args.workflows = [_resolve(state, name) for name in args.workflows]
        args.handler(args)
    except (ProbeFailed, HarnessError, GenaiopsError) as exc:
        print(f"probe {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
