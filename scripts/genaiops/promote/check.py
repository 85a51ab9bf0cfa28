"""The promote stage: gate one artifact on its reports, then deploy its snapshot to the environment.

One mechanism for every kind (registered for all four in stages/registry.py); the kind-specific
part is only which files the serving layer reads (genaiops.promote.snapshot.is_served).
Options come from the promote subcommand (genaiops.promote.options) via ``ctx.options``; the
helpers below (target, approval, request, provenance) are shared with retirement
(genaiops.promote.retire).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from genaiops import rules
from genaiops.discovery import Artifact
from genaiops.errors import UsageError
from genaiops.gitops import GitError, redact, resolve_remote, run_git
from genaiops.lineage import LineageEntry
from genaiops.project import Environment
from genaiops.promote.deploy import Target, deploy, image_digest
from genaiops.promote.gate import evaluate_gate, load_thresholds
from genaiops.promote.order import chain_position
from genaiops.promote.request import approval_branch, render_request, request_name
from genaiops.promote.snapshot import Snapshot, snapshot_from_artifact
from genaiops.report import ArtifactResult
from genaiops.stages.runner import StageContext

NOT_CHECKED = rules.rule(
    "promote/unchecked-version",
    "promote",
    "The artifact has no valid version, so it cannot be promoted.",
    'Give the manifest a quoted semantic version, e.g. version: "1.2.0".',
)

RESULT = rules.rule(
    "promote/result",
    "promote",
    "What the promotion or retirement did: pushed (retired), requested approval, or nothing.",
)


def _describe(promotion: dict[str, Any], remote: str) -> str:
    env, status, branch = promotion["environment"], promotion["status"], promotion["branch"]
    if status == "pushed":
        return f"promoted to {env}: commit {promotion['commit'][:12]} pushed to {branch} of {remote}"
    if status == "requested":
        return (
            f"{env} needs approval: branch {branch} pushed to {remote}; merge request description in "
            f"{promotion.get('request', '(not written)')}"
        )
    return f"already deployed in {env} ({branch} at {promotion['commit'][:12]}): nothing to do"


def source_commit(repo: Path, given: str | None) -> str | None:
    """The commit the artifact came from: --source-commit, else the checkout's HEAD (None outside git)."""
    if given:
        return given
    for var in ("GENAIOPS_SOURCE_COMMIT", "GITHUB_SHA"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return run_git(repo, "rev-parse", "HEAD").strip() or None
    except (GitError, UsageError):  # not a git checkout: the lineage says "unknown"
        return None


def recorded_by(ctx: StageContext) -> dict[str, Any]:
    """Who and what makes this change, as LineageEntry fields: source commit, image, workflow, approver."""
    opts = ctx.options
    return {
        "source_commit": source_commit(ctx.project.root, opts.get("source_commit")),
        "pipeline_image_digest": image_digest(),
        "workflow": opts.get("workflow") or os.environ.get("ARGO_WORKFLOW_NAME") or None,
        # one line: it becomes a commit trailer, where a newline could forge another trailer
        "approver": " ".join(str(opts.get("approver") or "").split())[:200] or None,
    }


def needs_request(env: Environment, ctx: StageContext) -> bool:
    """Whether a change to ``env`` goes through a merge-request branch.

    An environment that needs approval gets one, unless the approval was already given where the
    promotion runs (the workflow's approval step names the approver with --approver).
    """
    return env.approval and not ctx.options.get("approver")


def write_request(ctx: StageContext, action: str, env: str, kind: str, artifact_id: str, text: str) -> str:
    """Write a merge-request description into the request folder; returns its path."""
    folder = _request_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    request = folder / request_name(action, env, kind, artifact_id)
    request.write_text(text, encoding="utf-8")
    return str(request)


def promotion_target(ctx: StageContext) -> Target:
    """The GitOps remote, environment branch and push attempts from the options and genaiops.yaml."""
    opts = ctx.options
    repository = ctx.project.settings.get("repository")
    repository = repository if isinstance(repository, dict) else {}
    remote = resolve_remote(
        ctx.project.root,
        opts.get("remote") or os.environ.get("GENAIOPS_GITOPS_REMOTE"),
        fallback=repository.get("url"),
    )
    branch = opts.get("branch") or str(repository.get("branch") or "main")
    attempts = int(opts.get("attempts") or 40)
    if attempts < 1:
        raise UsageError("--attempts must be at least 1")
    return Target(remote=remote, branch=branch, attempts=attempts)


def _request_dir(ctx: StageContext) -> Path:
    opts = ctx.options
    if opts.get("request_dir"):
        return Path(opts["request_dir"])
    if opts.get("reports"):
        return Path(opts["reports"])
    return Path.cwd()


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Gate ``artifact`` and, if it passes, deploy its snapshot to ``--env``."""
    opts: dict[str, Any] = ctx.options
    env = ctx.project.environment(str(opts.get("env")))
    after, order_exception = chain_position(ctx.project, env.name, opts.get("skip_order"))
    if not opts.get("reports"):
        raise UsageError("promote needs --reports DIR (the folder with the lint, validate and eval reports)")
    if result.version is None or result.digest is None:
        result.add(
            NOT_CHECKED, f"{artifact.relpath} has no valid version; nothing promoted", file=artifact.relpath
        )
        return
    thresholds = load_thresholds(ctx.project, env.name, artifact.kind.name)
    reports = Path(opts["reports"])
    gate = evaluate_gate(
        artifact.kind.name,
        artifact.id,
        result.digest,
        reports,
        thresholds,
        env.name,
        evidence=opts.get("verified_evidence"),
    )
    result.details["gate"] = {
        "reports": gate.reports,
        "passed": gate.passed,
        "thresholds": {k: {"min": b.min, "max": b.max} for k, b in thresholds.items()},
    }
    for problem in gate.problems:
        result.add(
            problem.rule_id, problem.message, file=problem.file, hint=rules.RULES[problem.rule_id].hint
        )
    if not gate.passed:
        return
    snapshot: Snapshot = snapshot_from_artifact(artifact, result.version, result.digest)
    entry = LineageEntry(
        version=result.version,
        digest=result.digest,
        snapshot_tree="",
        action="promote",
        eval_dataset_digest=gate.eval_dataset_digest,
        scorecard=gate.scorecard,
        order_exception=order_exception,
        **recorded_by(ctx),
    )
    if artifact.kind.name == "rag":  # the index must exist before the environment points at it
        from genaiops.promote.rag import swap_alias  # numpy and the vector store: only for RAG configs

        swap_alias(ctx.manifest(artifact).data, ctx.project, env.name, verify_only=True)
    target = promotion_target(ctx)
    branch = (
        approval_branch(env.name, artifact.kind.name, artifact.id, result.version)
        if needs_request(env, ctx)
        else None
    )
    outcome = deploy(target, env, snapshot, entry, approval_branch=branch, after=after)
    promotion: dict[str, Any] = {
        "environment": env.name,
        "status": outcome.status,
        "branch": outcome.branch,
        "commit": outcome.commit,
        "attempts": outcome.attempts,
        "remote": redact(target.remote),
    }
    if after:
        promotion["deployedIn"] = after
    if order_exception:
        promotion["orderException"] = order_exception
    if outcome.entry is not None:
        promotion["snapshotTree"] = outcome.entry.snapshot_tree
    if branch is not None and outcome.status == "requested" and outcome.entry is not None:
        text = render_request(
            env.name, snapshot, outcome.entry, branch, target.branch, thresholds, gate.reports
        )
        promotion["request"] = write_request(ctx, "promote", env.name, artifact.kind.name, artifact.id, text)
    if artifact.kind.name == "rag" and outcome.status != "requested":
        from genaiops.promote.rag import swap_alias

        promotion["alias"] = swap_alias(ctx.manifest(artifact).data, ctx.project, env.name)
    result.details["promotion"] = promotion
    result.add(RESULT, _describe(promotion, redact(target.remote)), severity="info")
    result.metrics["promotionAttempts"] = outcome.attempts
