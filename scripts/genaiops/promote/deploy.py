"""Deploying a snapshot to an environment of the GitOps repository (shared by promote and rollback).

Direct environments get a commit pushed to the environment branch. Environments that need approval
get a branch ``promote/<env>/<kind>-<id>-<version>`` started from the environment branch and a
merge-request description; merging it is the approval. Deploying what is already deployed does
nothing (no commit, no branch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from genaiops.gitops import Change, PublishResult, private_clone, publish, run_git, tree_of
from genaiops.lineage import ENVIRONMENTS_DIR, LineageEntry, append_lineage, current
from genaiops.project import Environment
from genaiops.promote.snapshot import Snapshot, apply_snapshot, env_artifact_dir

PIPELINE_IMAGE_DIGEST_ENV = "GENAIOPS_IMAGE_DIGEST"
"""Set by the workflow step to the digest of the genaiops image it runs (recorded in the lineage)."""


@dataclass(frozen=True)
class Target:
    """Where environments live: the GitOps remote and its environment branch."""

    remote: str
    branch: str = "main"
    attempts: int = 40


@dataclass
class Outcome:
    """What a deployment did."""

    status: str
    """``pushed`` to the environment branch, ``requested`` (approval branch pushed), or ``unchanged``."""
    branch: str
    commit: str
    attempts: int
    entry: LineageEntry | None = None
    paths: list[str] = field(default_factory=list)
    alias: dict[str, Any] | None = None
    """Kind-specific last step (RAG: the vector-store alias swap), when one ran."""


def image_digest() -> str | None:
    """The pipeline image digest from the environment (None when not running in the pipeline image)."""
    return os.environ.get(PIPELINE_IMAGE_DIGEST_ENV) or None


def is_deployed(repo: Path, env: str, snapshot: Snapshot) -> bool:
    """Whether ``snapshot`` is exactly what ``env`` deploys in the working tree at ``repo``."""
    deployed = current(repo, env, snapshot.kind, snapshot.id)
    if deployed is None or (deployed.version, deployed.digest) != (snapshot.version, snapshot.digest):
        return False
    apply_snapshot(repo, env, snapshot)
    dirty = run_git(repo, "status", "--porcelain", "--", f"{ENVIRONMENTS_DIR}/{env}").strip()
    return not dirty


def _change(
    env: str, snapshot: Snapshot, entry: LineageEntry, message: str, recorded: list[LineageEntry]
) -> Change:
    """The edit publish() applies (and re-applies after a lost race) to the environment."""

    def change(clone: Path) -> str | None:
        if is_deployed(clone, env, snapshot):
            return None
        apply_snapshot(clone, env, snapshot)
        final = replace(
            entry, snapshot_tree=tree_of(clone, env_artifact_dir(env, snapshot.kind, snapshot.id))
        )
        append_lineage(clone, env, snapshot.kind, snapshot.id, final)
        recorded.append(final)
        return message

    return change


def commit_message(action: str, env: str, snapshot: Snapshot, entry: LineageEntry) -> str:
    """A commit message that says what and why, with machine-readable trailers."""
    verb = "roll back" if action == "rollback" else "promote"
    trailers = [
        f"Genaiops-Artifact: {snapshot.kind}/{snapshot.id}",
        f"Genaiops-Version: {snapshot.version}",
        f"Genaiops-Digest: {snapshot.digest}",
    ]
    if entry.source_commit:
        trailers.append(f"Genaiops-Source-Commit: {entry.source_commit}")
    if entry.workflow:
        trailers.append(f"Genaiops-Workflow: {entry.workflow}")
    if entry.approver:
        trailers.append(f"Genaiops-Approver: {entry.approver}")
    if entry.rolled_back_from:
        trailers.append(f"Genaiops-Rolled-Back-From: {entry.rolled_back_from}")
    subject = f"{verb} {snapshot.kind}/{snapshot.id} {snapshot.version} in {env}"
    return subject + "\n\n" + "\n".join(trailers) + "\n"


def deploy(
    target: Target,
    env: Environment,
    snapshot: Snapshot,
    entry: LineageEntry,
    *,
    action: str = "promote",
    approval_branch: str | None = None,
) -> Outcome:
    """Publish ``snapshot`` (recording ``entry``) to ``env``; via ``approval_branch`` when given."""
    paths = [f"{ENVIRONMENTS_DIR}/{env.name}"]
    message = commit_message(action, env.name, snapshot, entry)
    recorded: list[LineageEntry] = []
    with private_clone(target.remote, target.branch) as clone:
        if approval_branch is None:
            result: PublishResult = publish(
                clone,
                target.branch,
                _change(env.name, snapshot, entry, message, recorded),
                paths,
                attempts=target.attempts,
            )
            status = result.status
        else:
            if is_deployed(clone, env.name, snapshot):
                head = run_git(clone, "rev-parse", "HEAD").strip()
                return Outcome(
                    "unchanged",
                    target.branch,
                    head,
                    1,
                    current(clone, env.name, snapshot.kind, snapshot.id),
                    paths,
                )
            result = publish(
                clone,
                approval_branch,
                _change(env.name, snapshot, entry, message, recorded),
                paths,
                base_branch=target.branch,
                attempts=target.attempts,
            )
            status = "requested" if result.status == "pushed" else "unchanged"
    return Outcome(
        status, result.branch, result.commit, result.attempts, recorded[-1] if recorded else None, paths
    )
