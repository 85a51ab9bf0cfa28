"""Retirement: an artifact whose folder was deleted leaves the environments that deploy it.

``genaiops promote --env ENV --changed-since REF`` retires the artifacts route lists under
``deletions``; ``--retire KIND/ID`` names one explicitly (its folder must be gone from the source
repository). A retirement is an edit published like a promotion (genaiops.promote.deploy): one commit
per artifact and environment that removes the artifact's configMapGenerator entry and snapshot folder
and appends a ``retire`` entry to its lineage (the file and its history stay), pushed with the same
retries; an environment that needs approval gets a ``retire/<env>/<kind>-<id>-<version>`` branch and a
merge-request description instead, unless --approver says who approved. There is nothing to evaluate,
so no reports are needed. It is refused (exit 1) while a serving workload of the environment names the
artifact as active (genaiops.promote.active) or another artifact the environment deploys names it
(genaiops.promote.order.referenced_by); an artifact the environment does not deploy is
``unchanged``: nothing to retire.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from genaiops import rules
from genaiops.discovery import Artifact
from genaiops.errors import ArtifactError, UsageError
from genaiops.gitops import redact
from genaiops.kinds import BY_NAME, parse_artifact_ref
from genaiops.lineage import ENVIRONMENTS_DIR, RETIRE, LineageEntry, append_lineage, current, now
from genaiops.project import Environment
from genaiops.promote.active import Use, served_by
from genaiops.promote.check import RESULT, needs_request, promotion_target, recorded_by, write_request
from genaiops.promote.deploy import commit_message, publish_edit
from genaiops.promote.order import referenced_by
from genaiops.promote.request import approval_branch, render_retirement_request
from genaiops.promote.snapshot import remove_snapshot
from genaiops.report import ArtifactResult
from genaiops.stages.runner import StageContext, guarded

SERVED = rules.rule(
    "promote/retire-served",
    "promote",
    "The artifact to retire is the one a serving workload of the environment names as active "
    "($GENAIOPS_SERVE_PROMPT, $GENAIOPS_SERVE_GUARDRAIL, $GENAIOPS_SERVE_MODEL_CONFIG or the matching "
    "serve flag), so removing it would break serving; nothing was retired.",
    "Point the workload at another artifact first (a patch in environments/<env>/, or "
    "environments/base/serving-*.yaml), promote that one, then retire this one.",
)
REFERENCED = rules.rule(
    "promote/retire-referenced",
    "promote",
    "Another artifact the environment deploys names the artifact to retire (a prompt's model_config), "
    "so removing it would break that one; nothing was retired.",
    "Promote a version of the naming artifact that names another one (or retire it) first, then retire "
    "this one.",
)
EXAMPLE = "genaiops promote --env dev --retire prompt/review-sentiment"


class Refused(ArtifactError):
    """The environment serves the artifact: the retirement is refused (a finding, exit 1)."""

    def __init__(self, message: str, hint: str, uses: list[Use]) -> None:
        super().__init__(message, hint, rule_id=SERVED, file=uses[0].file)
        self.uses = uses


@dataclass(frozen=True)
class RetirementEdit:
    """Remove ``kind/id`` from ``env``: generator entry and snapshot out, a ``retire`` lineage entry in."""

    env: str
    kind: str
    id: str
    recorded: dict[str, Any]
    """Who and what retires it (genaiops.promote.check.recorded_by)."""

    def done(self, clone: Path) -> bool:
        return current(clone, self.env, self.kind, self.id) is None

    def branch(self, clone: Path) -> str:
        deployed = current(clone, self.env, self.kind, self.id)
        version = deployed.version if deployed is not None else "none"
        return approval_branch(self.env, self.kind, self.id, version, action=RETIRE)

    def apply(self, clone: Path) -> tuple[LineageEntry, str]:
        deployed = current(clone, self.env, self.kind, self.id)
        if deployed is None:  # publish_edit applies only what is not done yet
            raise ArtifactError(f"{self.kind}/{self.id} is not deployed in {self.env}")
        uses = served_by(clone, self.env, self.kind, self.id)
        if uses:
            raise _refusal(self.env, self.kind, self.id, uses)
        referrers = referenced_by(clone, self.env, self.kind, self.id)
        if referrers:
            raise ArtifactError(
                f"{self.kind}/{self.id} is named by {', '.join(referrers)} in {self.env}. "
                "Nothing was retired.",
                rules.RULES[REFERENCED].hint,
                rule_id=REFERENCED,
                file=f"{ENVIRONMENTS_DIR}/{self.env}/artifacts",
            )
        remove_snapshot(clone, self.env, self.kind, self.id)
        entry = replace(
            deployed,
            action=RETIRE,
            time=now(),
            eval_dataset_digest=None,
            scorecard=None,
            rolled_back_from=None,
            **self.recorded,
        )
        append_lineage(clone, self.env, self.kind, self.id, entry)
        return entry, commit_message(RETIRE, self.env, self.kind, self.id, entry)


def _refusal(env: str, kind: str, artifact_id: str, uses: list[Use]) -> Refused:
    where = "; ".join(u.describe() for u in uses)
    workloads = ", ".join(dict.fromkeys(u.workload for u in uses))
    return Refused(
        f"{kind}/{artifact_id} is active in {env}: {where}. Nothing was retired.",
        f"Point {workloads} at another {kind} first (a patch in environments/{env}/ or "
        f"environments/base/serving-*.yaml), promote that {kind} to {env}, then retire {kind}/{artifact_id}.",
        uses,
    )


def retirement_refs(ctx: StageContext, deleted: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What to retire: route's deletions, then the ``--retire`` KIND/IDs; once each, of the ``--kind`` kinds.

    Raises UsageError (before anything is published) for a malformed KIND/ID or one whose folder exists.
    """
    refs = [(str(d["kind"]), str(d["id"])) for d in deleted if isinstance(d, dict)]
    for ref in ctx.options.get("retire") or []:
        kind, artifact_id = parse_artifact_ref(str(ref), example=EXAMPLE)
        artifact = Artifact(BY_NAME[kind], artifact_id, ctx.project.root)
        if artifact.root.exists() or artifact.manifest_path.is_symlink():
            raise UsageError(
                f"{artifact.relpath} still exists: only an artifact whose folder was deleted can be retired",
                hint=f"Delete it first (git rm -r {artifact.relpath}), or promote it instead.",
            )
        refs.append((kind, artifact_id))
    kinds = ctx.options.get("kind")
    return [ref for ref in dict.fromkeys(refs) if not kinds or ref[0] in kinds]


def _describe(retirement: dict[str, Any], target_branch: str) -> str:
    env, status, branch = retirement["environment"], retirement["status"], retirement["branch"]
    if status == "retired":
        commit, remote = retirement["commit"][:12], retirement["remote"]
        return f"retired from {env}: commit {commit} pushed to {branch} of {remote}"
    if status == "requested":
        return (
            f"{env} needs approval: branch {branch} pushed to {retirement['remote']}; merge request "
            f"description in {retirement.get('request', '(not written)')}"
        )
    if branch != target_branch:
        return f"the retirement from {env} waits for approval already (branch {branch}): nothing to do"
    return f"not deployed in {env} ({branch} at {retirement['commit'][:12]}): nothing to retire"


def _retire(env: Environment, result: ArtifactResult, retirement: dict[str, Any], ctx: StageContext) -> None:
    target = promotion_target(ctx)
    edit = RetirementEdit(env.name, result.kind, result.id, recorded_by(ctx))
    try:
        outcome = publish_edit(target, edit, approval=needs_request(env, ctx))
    except Refused as refused:
        retirement["servedBy"] = [asdict(u) for u in refused.uses]
        raise
    retirement.update(
        status="retired" if outcome.status == "pushed" else outcome.status,
        branch=outcome.branch,
        commit=outcome.commit,
        attempts=outcome.attempts,
        remote=redact(target.remote),
    )
    if outcome.entry is not None and retirement["status"] != "unchanged":
        entry = outcome.entry
        result.version, result.digest = entry.version, entry.digest
        retirement.update(version=entry.version, digest=entry.digest, snapshotTree=entry.snapshot_tree)
        if retirement["status"] == "requested":
            text = render_retirement_request(
                env.name, result.kind, result.id, entry, outcome.branch, target.branch
            )
            retirement["request"] = write_request(ctx, RETIRE, env.name, result.kind, result.id, text)
    result.add(RESULT, _describe(retirement, target.branch), severity="info")
    result.metrics["promotionAttempts"] = outcome.attempts


def retire(kind: str, artifact_id: str, ctx: StageContext) -> ArtifactResult:
    """Retire ``kind/artifact_id`` from ``--env``; the result's ``details.retirement`` says what happened.

    Its status is ``retired``, ``requested`` (approval branch pushed), ``unchanged`` (nothing to
    retire, or the request exists already), ``refused`` (a finding says why) or ``failed`` (the
    GitOps remote could not be reached: ``infraError``).
    """
    env = ctx.project.environment(str(ctx.options.get("env")))
    path = Artifact(BY_NAME[kind], artifact_id, ctx.project.root).relpath
    result = ArtifactResult(kind=kind, id=artifact_id, path=path)
    retirement: dict[str, Any] = {"environment": env.name, "status": "failed"}
    result.details["retirement"] = retirement
    started = time.perf_counter()
    guarded(result, lambda: _retire(env, result, retirement, ctx), result.path)
    if result.status == "fail":
        retirement["status"] = "refused"
    result.timings["totalMs"] = round((time.perf_counter() - started) * 1000, 3)
    return result
