"""The promote command's run: promote the selected artifacts, retire the deleted ones, write the status file.

Promotions run first (the stage runner and genaiops.promote.check; the kinds other kinds name, such as
model configs, before the rest, so a prompt finds the model config it names deployed), so an artifact
that replaces a deleted one is deployed before the deleted one leaves; then every retirement
(genaiops.promote.retire) adds its own entry to the report. What to retire is checked before anything is
published, so a bad ``--retire`` is a usage error (exit 2) with nothing pushed.

``--status-file`` receives one word for the whole run, the most consequential outcome among its
promotions and retirements (``pushed`` > ``requested`` > ``retired`` > ``unchanged``), also when the
run stops early; nothing is written when nothing was published or found unchanged (a refused gate).
A workflow watches only ``pushed``: a change that went live with a new version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genaiops.discovery import Artifact
from genaiops.exitcodes import combine
from genaiops.kinds import KINDS
from genaiops.promote.evidence import verified_from_options
from genaiops.promote.retire import retire, retirement_refs
from genaiops.report import ArtifactResult, Report
from genaiops.stages.runner import StageContext, run_stage

STATUS_ORDER = ("pushed", "requested", "retired", "unchanged")


def run_status(results: list[ArtifactResult]) -> str | None:
    """The run's status-file word (None when no promotion or retirement got as far as publishing)."""
    found: set[str] = set()
    for result in results:
        for key in ("promotion", "retirement"):
            outcome: Any = result.details.get(key)
            if isinstance(outcome, dict) and outcome.get("status") in STATUS_ORDER:
                found.add(outcome["status"])
    return next((status for status in STATUS_ORDER if status in found), None)


def write_status(path: str | Path | None, results: list[ArtifactResult]) -> None:
    """Write the run's status word to ``path`` (when given and the run has one)."""
    status = run_status(results)
    if path and status is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(status + "\n", encoding="utf-8")


def promotion_waves(artifacts: list[Artifact]) -> list[list[Artifact]]:
    """``artifacts`` in the order dependencies need: first the kinds other kinds name (model configs,
    which prompts name), then the rest; each wave runs in parallel, as any stage does."""
    named = {target for kind in KINDS for _, target in kind.references}
    first = [a for a in artifacts if a.kind.name in named]
    rest = [a for a in artifacts if a.kind.name not in named]
    return [wave for wave in (first, rest) if wave]


def run_promote(artifacts: list[Artifact], ctx: StageContext, report: Report) -> None:
    """Promote ``artifacts`` and retire ``report.context["deleted"]`` plus ``--retire`` into ``report``."""
    refs = retirement_refs(ctx, report.context.get("deleted") or [])
    # verified once for the run: every promotion's gate then trusts only the reports it lists
    ctx.options["verified_evidence"] = verified_from_options(ctx.options)
    try:
        for wave in promotion_waves(artifacts):  # a prompt after the model config it names
            run_stage("promote", wave, ctx, report)
        report.artifacts.extend(retire(kind, artifact_id, ctx) for kind, artifact_id in refs)
        report.exit_code = combine([a.exit_code for a in report.artifacts])
    finally:
        write_status(ctx.options.get("status_file"), report.artifacts)
