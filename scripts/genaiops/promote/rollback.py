"""``genaiops rollback``: re-promote an earlier version of an artifact from the environment's lineage.

The lineage records the git tree of every promoted snapshot, so a rollback restores exactly the
bytes that were deployed then and regenerates the same ConfigMap entry: the environment's
manifests are byte-identical to the earlier promotion's. The appended lineage entry keeps the
earlier version's provenance (source commit, eval dataset digest, scorecard - the next baseline)
and records the rollback's own workflow, time and approver. A rollback restores a version that
already passed the gate, so it is pushed directly, also in environments that need approval.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, replace
from typing import Any

import yaml

from genaiops.commands import command_help
from genaiops.errors import UsageError
from genaiops.gitops import private_clone, read_tree, resolve_remote, run_git
from genaiops.kinds import BY_NAME, parse_artifact_ref
from genaiops.lineage import ENVIRONMENTS_DIR, RETIRE, LineageEntry, now, read_lineage
from genaiops.project import Project, load_project
from genaiops.promote.deploy import Outcome, Target, deploy
from genaiops.promote.options import add_target_options
from genaiops.promote.snapshot import Snapshot


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback will restore."""

    current: LineageEntry
    target: LineageEntry


def plan(entries: list[LineageEntry], to_version: str | None, where: str) -> RollbackPlan | None:
    """Pick the entry to restore: ``to_version``'s latest, else the last deployment that differs from now.

    Returns None when ``to_version`` is what is deployed already (nothing to do).
    """
    if not entries:
        raise UsageError(f"{where} was never promoted: there is nothing to roll back")
    now = entries[-1]
    if now.action == RETIRE:
        raise UsageError(
            f"{where} was retired ({now.time}): nothing is deployed to roll back",
            hint="Restore the artifact's folder from git history and promote it again.",
        )
    if to_version is not None:
        matches = [e for e in entries if e.version == to_version]
        if not matches:
            known = ", ".join(dict.fromkeys(e.version for e in entries))
            raise UsageError(f"{where} was never deployed at version {to_version} (lineage has: {known})")
        chosen = matches[-1]
        if (chosen.version, chosen.digest) == (now.version, now.digest):
            return None
        return RollbackPlan(now, chosen)
    earlier = [e for e in entries[:-1] if (e.version, e.digest) != (now.version, now.digest)]
    if not earlier:
        raise UsageError(f"{where} has no earlier version than {now.version} in its lineage")
    return RollbackPlan(now, earlier[-1])


def target_for(project: Project, remote: str | None, branch: str | None) -> Target:
    """The GitOps remote and environment branch (same defaults as promote)."""
    repository = project.settings.get("repository")
    repository = repository if isinstance(repository, dict) else {}
    url = resolve_remote(
        project.root, remote or os.environ.get("GENAIOPS_GITOPS_REMOTE"), fallback=repository.get("url")
    )
    return Target(remote=url, branch=branch or str(repository.get("branch") or "main"))


def rollback(
    project: Project,
    env_name: str,
    kind: str,
    artifact_id: str,
    *,
    to_version: str | None = None,
    remote: str | None = None,
    branch: str | None = None,
    workflow: str | None = None,
    approver: str | None = None,
) -> tuple[Outcome, RollbackPlan | None]:
    """Restore an earlier version of ``kind/artifact_id`` in ``env_name``; returns what was done."""
    env = project.environment(env_name)
    target = target_for(project, remote, branch)
    where = f"{kind}/{artifact_id} in {env.name}"
    with private_clone(target.remote, target.branch, checkout=[ENVIRONMENTS_DIR]) as clone:
        chosen = plan(read_lineage(clone, env.name, kind, artifact_id), to_version, where)
        if chosen is None:
            return Outcome("unchanged", target.branch, run_git(clone, "rev-parse", "HEAD").strip(), 0), None
        files = read_tree(clone, chosen.target.snapshot_tree)
    snapshot = Snapshot(kind, artifact_id, chosen.target.version, chosen.target.digest, files)
    entry = replace(
        chosen.target,
        action="rollback",
        rolled_back_from=chosen.current.version,
        time=now(),
        workflow=workflow or os.environ.get("ARGO_WORKFLOW_NAME") or None,
        approver=approver or None,
    )
    outcome = deploy(target, env, snapshot, entry, action="rollback")
    if kind == "rag":  # the restored config's collection becomes the alias target again
        # Imported here: the vector store client (qdrant) is slow to import and only rag needs it.
        from genaiops.promote.rag import swap_alias

        manifest = yaml.safe_load(files.get(BY_NAME[kind].manifest, b"{}").decode("utf-8")) or {}
        outcome.alias = swap_alias(manifest, project, env.name)
    return outcome, chosen


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "rollback",
        help=command_help("rollback"),
        description="Restore the previous (or --to VERSION) deployment of KIND/ID in --env, byte for byte, "
        "with a GitOps commit. See docs/promotion.md.",
    )
    p.add_argument("artifact", metavar="KIND/ID", help="e.g. prompt/support-answer")
    p.add_argument("--env", required=True, help="the environment (from genaiops.yaml)")
    p.add_argument(
        "--to", metavar="VERSION", help="the version to restore (default: the one before the current)"
    )
    p.add_argument(
        "--workflow", help="the workflow name recorded in the lineage (default: $ARGO_WORKFLOW_NAME)"
    )
    p.add_argument("--approver", help="who decided the rollback (recorded in the lineage)")
    add_target_options(p)
    p.set_defaults(handler=run)


def summary(outcome: Outcome, chosen: RollbackPlan | None) -> dict[str, Any]:
    """The JSON the command prints."""
    data: dict[str, Any] = {
        "status": outcome.status,
        "branch": outcome.branch,
        "commit": outcome.commit,
        "attempts": outcome.attempts,
    }
    if outcome.alias is not None:
        data["alias"] = outcome.alias
    if chosen is not None:
        data.update(
            {
                "from": {"version": chosen.current.version, "digest": chosen.current.digest},
                "to": {"version": chosen.target.version, "digest": chosen.target.digest},
            }
        )
    return data


def run(args: argparse.Namespace) -> int:
    kind, artifact_id = parse_artifact_ref(args.artifact)
    project = load_project(args.repo)
    outcome, chosen = rollback(
        project,
        args.env,
        kind,
        artifact_id,
        to_version=args.to,
        remote=args.remote,
        branch=args.branch,
        workflow=args.workflow,
        approver=args.approver,
    )
    data = summary(outcome, chosen)
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    if chosen is None or outcome.status == "unchanged":
        sys.stderr.write(
            f"rollback: {kind}/{artifact_id} in {args.env} is already at the requested version\n"
        )
    else:
        sys.stderr.write(
            f"rollback: {kind}/{artifact_id} in {args.env}: {chosen.current.version} -> "
            f"{chosen.target.version}, commit {outcome.commit[:12]} on {outcome.branch}\n"
        )
    return 0
