"""Publishing one artifact's change to an environment of the GitOps repository (promote, rollback, retire).

A change is an :class:`Edit`: deploying a snapshot (:class:`PromotionEdit`, promote and rollback) or
removing one (genaiops.promote.retire). Direct environments get a commit pushed to the environment
branch. Environments that need approval get a branch (``promote/<env>/<kind>-<id>-<version>``,
``retire/...`` for a retirement) started from the environment branch and a merge-request
description; merging it is the approval. An edit the environment already reflects does nothing (no
commit, no branch).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from genaiops.gitops import Change, PublishResult, private_clone, publish, run_git, tree_of
from genaiops.lineage import ENVIRONMENTS_DIR, RETIRE, LineageEntry, append_lineage, current
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
    """What publishing an edit did."""

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


class Edit(Protocol):
    """A change to one artifact in an environment, as publish_edit() applies it (again after a lost race)."""

    @property
    def env(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...

    def done(self, clone: Path) -> bool:
        """Whether the environment in the working tree at ``clone`` is already as this edit wants it."""
        ...

    def apply(self, clone: Path) -> tuple[LineageEntry, str]:
        """Make the change (lineage included); returns the lineage entry recorded and the commit message."""
        ...

    def branch(self, clone: Path) -> str:
        """The approval branch for this edit, named from the environment branch checked out at ``clone``."""
        ...


@dataclass(frozen=True)
class PromotionEdit:
    """Deploy ``snapshot`` (a promotion or a rollback), recording ``entry`` with the snapshot's tree."""

    env: str
    snapshot: Snapshot
    entry: LineageEntry
    action: str = "promote"
    approval_branch: str = ""
    after: str = ""
    """The environment that must deploy the snapshot first (genaiops.promote.order); "" for none."""

    @property
    def kind(self) -> str:
        return self.snapshot.kind

    @property
    def id(self) -> str:
        return self.snapshot.id

    def done(self, clone: Path) -> bool:
        return is_deployed(clone, self.env, self.snapshot)

    def apply(self, clone: Path) -> tuple[LineageEntry, str]:
        if self.action == "promote":
            from genaiops.promote.checks import require_upstream_checks_pass
            from genaiops.promote.order import require_dependencies, require_deployed_before
            from genaiops.promote.reject import require_not_rejected

            require_not_rejected(clone, self.snapshot)
            if self.after:
                require_deployed_before(clone, self.after, self.env, self.snapshot)
                require_upstream_checks_pass(clone, self.after, self.snapshot)
            require_dependencies(clone, self.env, self.snapshot)
        apply_snapshot(clone, self.env, self.snapshot)
        final = replace(
            self.entry, snapshot_tree=tree_of(clone, env_artifact_dir(self.env, self.kind, self.id))
        )
        append_lineage(clone, self.env, self.kind, self.id, final)
        return final, commit_message(self.action, self.env, self.kind, self.id, final)

    def branch(self, clone: Path) -> str:
        return self.approval_branch


def _change(edit: Edit, recorded: list[LineageEntry]) -> Change:
    """The function publish() applies (and re-applies after a lost race) to the environment."""

    def change(clone: Path) -> str | None:
        if edit.done(clone):
            return None
        entry, message = edit.apply(clone)
        recorded.append(entry)
        return message

    return change


VERBS = {"promote": "promote", "rollback": "roll back", RETIRE: "retire"}


def commit_message(action: str, env: str, kind: str, artifact_id: str, entry: LineageEntry) -> str:
    """A commit message that says what and why, with machine-readable trailers."""
    trailers = [
        f"Genaiops-Action: {action}",
        f"Genaiops-Artifact: {kind}/{artifact_id}",
        f"Genaiops-Version: {entry.version}",
        f"Genaiops-Digest: {entry.digest}",
    ]
    if entry.source_commit:
        trailers.append(f"Genaiops-Source-Commit: {entry.source_commit}")
    if entry.workflow:
        trailers.append(f"Genaiops-Workflow: {entry.workflow}")
    if entry.approver:
        trailers.append(f"Genaiops-Approver: {entry.approver}")
    if entry.rolled_back_from:
        trailers.append(f"Genaiops-Rolled-Back-From: {entry.rolled_back_from}")
    if entry.order_exception:
        trailers.append(f"Genaiops-Order-Exception: {entry.order_exception}")
    where = "from" if action == RETIRE else "in"
    subject = f"{VERBS[action]} {kind}/{artifact_id} {entry.version} {where} {env}"
    return with_trailers(subject, trailers)


def with_trailers(subject: str, trailers: list[str]) -> str:
    """A commit message: the subject, a blank line, then one line per trailer (a newline in a value, such
    as an approver's name or a reason, must not forge another trailer)."""
    return subject + "\n\n" + "\n".join(" ".join(t.split()) for t in trailers) + "\n"


def deploy(
    target: Target,
    env: Environment,
    snapshot: Snapshot,
    entry: LineageEntry,
    *,
    action: str = "promote",
    approval_branch: str | None = None,
    after: str = "",
) -> Outcome:
    """Publish ``snapshot`` (recording ``entry``) to ``env``; via ``approval_branch`` when given.

    ``after``: the environment that must deploy ``snapshot`` first (checked on the branch tip).
    """
    edit = PromotionEdit(env.name, snapshot, entry, action, approval_branch or "", after)
    return publish_edit(target, edit, approval=approval_branch is not None)


def publish_edit(target: Target, edit: Edit, *, approval: bool = False) -> Outcome:
    """Publish ``edit``: a commit on the environment branch, or (``approval``) on its approval branch.

    An approval branch starts from the environment branch; nothing is pushed when the environment
    branch is already as the edit wants it.
    """
    paths = [f"{ENVIRONMENTS_DIR}/{edit.env}"]
    recorded: list[LineageEntry] = []
    with private_clone(target.remote, target.branch, checkout=[ENVIRONMENTS_DIR]) as clone:
        if not approval:
            result: PublishResult = publish(
                clone, target.branch, _change(edit, recorded), paths, attempts=target.attempts
            )
            status = result.status
        else:
            if edit.done(clone):
                head = run_git(clone, "rev-parse", "HEAD").strip()
                deployed = current(clone, edit.env, edit.kind, edit.id)
                return Outcome("unchanged", target.branch, head, 1, deployed, paths)
            result = publish(
                clone,
                edit.branch(clone),
                _change(edit, recorded),
                paths,
                base_branch=target.branch,
                attempts=target.attempts,
            )
            status = "requested" if result.status == "pushed" else "unchanged"
    return Outcome(
        status, result.branch, result.commit, result.attempts, recorded[-1] if recorded else None, paths
    )
