"""Starting workflows as a push and its Sensor would: commit a change, submit CI, CD or a CronWorkflow run."""

from __future__ import annotations

import argparse
import json

import yaml

from genaiops.discovery import digest, resolve_paths
from genaiops.kinds import BY_NAME
from genaiops.promote.snapshot import Snapshot, labels
from genaiops_e2e import kube
from genaiops_e2e.probe.common import EXAMPLES, argo, cluster_of, load_record, save_record, shipped_kinds
from genaiops_e2e.probe.repo import clone, edit, git
from genaiops_e2e.state import State


def push_payload(
    state: State, before: str, after: str, message: str, changed: list[str]
) -> dict[str, object]:
    """GitHub's push webhook body for one commit on main (what the EventSource hands the Sensors)."""
    owner, name = state.git_url_cluster.removesuffix(".git").rsplit("/", 2)[-2:]
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "repository": {"full_name": f"{owner}/{name}", "clone_url": state.git_url_cluster},
        "commits": [{"id": after, "added": [], "removed": [], "modified": changed}],
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
        git(tree, "commit", "--quiet", "-am", f"e2e: change {rel}")
        after = git(tree, "rev-parse", "HEAD").strip()
        git(tree, "push", "--quiet", "origin", "main")
        artifact = resolve_paths(tree, [str(tree / rel)])[0]
        version = str(yaml.safe_load((tree / rel / BY_NAME[kind].manifest).read_text())["version"])
        snapshot_digest = labels(Snapshot(kind, artifact_id, version, digest(artifact), {}))[
            "genaiops.dev/digest"
        ]
    payload = push_payload(state, before, after, f"e2e: change {rel}", changed)
    parameters = {
        "repo-url": state.git_url_cluster,
        "commit-sha": after,
        "branch": "main",
        "event-type": "push",
        "event": json.dumps(payload),
    }
    _submit(state, _workflow(workflow, f"{kind}-ci-v1", parameters, {"genaiops.dev/trigger": "push"}))
    save_record(
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
