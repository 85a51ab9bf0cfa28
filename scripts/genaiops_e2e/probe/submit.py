"""Starting workflows as a push and its Sensor would: commit a change, submit CI, CD or a CronWorkflow run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from genaiops.discovery import digest, resolve_paths
from genaiops.kinds import BY_NAME
from genaiops.promote.snapshot import Snapshot, labels
from genaiops_e2e import kube
from genaiops_e2e.probe.common import EXAMPLES, argo, cluster_of, load_record, save_record, shipped_kinds
from genaiops_e2e.probe.repo import clone, edit, git
from genaiops_e2e.state import State


def push_payload(
    state: State, before: str, after: str, message: str, changed: list[str], removed: list[str] | None = None
) -> dict[str, object]:
    """GitHub's push webhook body for one commit on main (what the EventSource hands the Sensors)."""
    owner, name = state.git_url_cluster.removesuffix(".git").rsplit("/", 2)[-2:]
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": f"{owner}/{name}", "clone_url": state.git_url_cluster},
        "commits": [{"id": after, "added": [], "removed": removed or [], "modified": changed}],
        "head_commit": {"id": after, "message": message},
    }


def _submit(state: State, manifest: str) -> None:
    """Create the Workflow, replacing one of the same name left by an earlier run of the scenario."""
    name = json.loads(manifest)["metadata"]["name"]
    cluster = cluster_of(state)
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


def change(args: argparse.Namespace) -> None:
    state = State.load()
    kind = shipped_kinds(state)[0] if args.kind == "first" else args.kind
    _change(state, kind, args.workflow, args.artifact, args.broken, args.serving_bug)


def change_all(args: argparse.Namespace) -> None:
    state = State.load()
    for kind in shipped_kinds(state):
        _change(state, kind, f"{args.prefix}-{kind}", None)


def _change(
    state: State,
    kind: str,
    workflow: str,
    artifact: str | None,
    broken: bool = False,
    serving_bug: bool = False,
) -> None:
    artifact_id = artifact or EXAMPLES[kind]
    with clone(state) as tree:
        before = git(tree, "rev-parse", "HEAD").strip()
        rel = edit(tree, kind, artifact_id, broken, serving_bug)
        changed = [line[3:] for line in git(tree, "status", "--porcelain").splitlines()]
        after = _push(tree, f"e2e: change {rel}")
        artifact = resolve_paths(tree, [str(tree / rel)])[0]
        version = str(yaml.safe_load((tree / rel / BY_NAME[kind].manifest).read_text())["version"])
        snapshot_digest = labels(Snapshot(kind, artifact_id, version, digest(artifact), {}))[
            "genaiops.dev/digest"
        ]
    payload = push_payload(state, before, after, f"e2e: change {rel}", changed)
    record = {"kind": kind, "id": artifact_id, "path": rel, "before": before, "after": after}
    _submit_ci(state, workflow, payload, {**record, "digest": snapshot_digest})
    print(f"pushed {after[:12]} changing {rel}; submitted {workflow} from {kind}-ci-v1")


def delete(args: argparse.Namespace) -> None:
    """``git rm -r`` an artifact's folder on main and submit its kind's CI for the push (a retirement)."""
    state = State.load()
    artifact_id = args.artifact or EXAMPLES[args.kind]
    rel = f"artifacts/{BY_NAME[args.kind].folder}/{artifact_id}"
    with clone(state) as tree:
        before = git(tree, "rev-parse", "HEAD").strip()
        git(tree, "rm", "-r", "--quiet", "--", rel)
        removed = git(tree, "diff", "--cached", "--name-only").split()
        after = _push(tree, f"e2e: delete {rel}")
    payload = push_payload(state, before, after, f"e2e: delete {rel}", [], removed)
    record = {"kind": args.kind, "id": artifact_id, "path": rel, "before": before, "after": after}
    _submit_ci(state, args.workflow, payload, {**record, "digest": ""})
    print(f"pushed {after[:12]} deleting {rel}; submitted {args.workflow} from {args.kind}-ci-v1")


def _push(tree: Path, message: str) -> str:
    """Commit everything staged or changed in ``tree`` and push it to main; returns the commit."""
    git(tree, "commit", "--quiet", "-am", message)
    git(tree, "push", "--quiet", "origin", "main")
    return git(tree, "rev-parse", "HEAD").strip()


def _submit_ci(state: State, workflow: str, payload: dict[str, object], record: dict[str, str]) -> None:
    """Submit the kind's CI with the parameters its Sensor passes for ``payload``; record the change."""
    parameters = {
        "repo-url": state.git_url_cluster,
        "commit-sha": record["after"],
        "branch": "main",
        "event-type": "push",
        "event": json.dumps(payload),
    }
    template = f"{record['kind']}-ci-v1"
    _submit(state, _workflow(workflow, template, parameters, {"genaiops.dev/trigger": "push"}))
    save_record(workflow, record)


def submit_cd(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.change)
    parameters = {
        "commit-sha": record["after"],
        "artifact-path": record["path"],
        "environment": args.env,
        "require-approval": "true" if args.approval else "false",
        "rollback": "true" if args.rollback else "false",
    }
    _submit(state, _workflow(args.workflow, f"{record['kind']}-cd-v1", parameters, {}))
    save_record(args.workflow, record)
    print(f"submitted {args.workflow} from {record['kind']}-cd-v1 for {record['path']} to {args.env}")


def cron(args: argparse.Namespace) -> None:
    state = State.load()
    kube.remove_workflows(cluster_of(state), state.namespace, args.workflow)
    argo(
        state,
        "submit",
        "--from",
        f"cronwf/{args.cron}",
        "--name",
        args.workflow,
        "--labels",
        "genaiops.dev/e2e=true",
    )
