"""The automated promotion gate: upstream reports for exactly this digest passed, thresholds are met.

Reports are the JSON files the lint, validate and eval stages wrote (any ``*.json`` in the reports
folder; each names its stage). For every required stage the gate needs an entry for this artifact
whose ``digest`` equals the artifact's current digest and whose status is ``pass``; validate and eval
count only when they ran for the target environment (``--env``, recorded as the report's
``context.env``), since their verdicts depend on its endpoints, thresholds and deployed baseline.
The eval entry carries the scorecard (``details.scorecard``); its metrics must meet the environment's
thresholds (``thresholds`` in ``environments/<env>/settings.yaml`` or on the environment in
genaiops.yaml). When promote verified signed evidence (genaiops.promote.evidence), a report counts only
if the signed manifest lists its exact bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from genaiops import rules
from genaiops.errors import UsageError
from genaiops.kinds import BY_NAME
from genaiops.lineage import ENVIRONMENTS_DIR
from genaiops.project import Project
from genaiops.promote.evidence import SIGNATURE_INVALID, UNSIGNED_REPORT, VerifiedEvidence

REQUIRED_STAGES: tuple[str, ...] = ("lint", "validate", "eval")
ENVIRONMENT_BOUND: frozenset[str] = frozenset({"validate", "eval"})
"""Stages whose verdict depends on the environment (its endpoints, thresholds and deployed baseline)."""
MAX_REPORT_BYTES = 32 * 1024 * 1024
FAILED_VERDICTS = frozenset({"fail", "failed", "regression", "regressed", "error"})

MISSING_REPORT = rules.rule(
    "promote/missing-report",
    "promote",
    "No report of a required stage (lint, validate, eval) covers the artifact.",
    "Run the stage and pass its report folder with --reports DIR.",
)
FAILED_REPORT = rules.rule(
    "promote/failed-report",
    "promote",
    "A required stage's report says the artifact did not pass.",
    "Fix what that stage reported and run it again.",
)
DIGEST_MISMATCH = rules.rule(
    "promote/digest-mismatch",
    "promote",
    "The reports were produced for different content than the artifact has now.",
    "Re-run lint, validate and eval on the current content: only what was checked can be promoted.",
)
NO_SCORECARD = rules.rule(
    "promote/no-scorecard",
    "promote",
    "The eval report has no scorecard for the artifact.",
    "Run `genaiops eval`; the scorecard is in the report's details.",
)
WRONG_ENVIRONMENT = rules.rule(
    "promote/wrong-environment",
    "promote",
    "The validate or eval report covering the artifact was made for another environment (or none), so "
    "it says nothing about the target: its endpoints, thresholds and deployed baseline were not checked.",
    "Run the stage with `--env <target>` (e.g. `genaiops eval --env prod PATH`) and pass that report.",
)
BELOW_THRESHOLD = rules.rule(
    "promote/below-threshold",
    "promote",
    "A scorecard metric misses the environment's threshold, or the scorecard's verdict is a regression.",
    "Improve the artifact, or change the thresholds in environments/<env>/settings.yaml with review.",
)


@dataclass(frozen=True)
class Bound:
    """A threshold on one metric: value >= min and/or value <= max."""

    min: float | None = None
    max: float | None = None

    def violated_by(self, value: float) -> str | None:
        if self.min is not None and value < self.min:
            return f"{value:g} < minimum {self.min:g}"
        if self.max is not None and value > self.max:
            return f"{value:g} > maximum {self.max:g}"
        return None


@dataclass
class Problem:
    """Why the gate refuses: a rule id and a message naming what is missing."""

    rule_id: str
    message: str
    file: str | None = None


@dataclass
class GateResult:
    """The gate's verdict plus what promotion records from the reports."""

    problems: list[Problem] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)
    scorecard: dict[str, Any] | None = None
    eval_dataset_digest: str | None = None
    thresholds: dict[str, Bound] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Entry:
    path: Path
    finished: str
    data: dict[str, Any]
    env: str | None
    """The environment the stage ran for (``--env``, the report's ``context.env``), None without one."""


def load_reports(reports_dir: Path) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    """Every genaiops report in ``reports_dir`` by stage; files that are not reports are ignored."""
    if not reports_dir.is_dir():
        raise UsageError(
            f"reports folder {reports_dir} does not exist",
            hint="Pass --reports DIR holding the lint, validate and eval reports (JSON).",
        )
    found: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path in sorted(reports_dir.glob("*.json")):
        if not path.is_file() or path.stat().st_size > MAX_REPORT_BYTES:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            continue
        if (
            isinstance(data, dict)
            and isinstance(data.get("stage"), str)
            and isinstance(data.get("artifacts"), list)
        ):
            found.setdefault(data["stage"], []).append((path, data))
    return found


def _entries(reports: list[tuple[Path, dict[str, Any]]], kind: str, artifact_id: str) -> list[_Entry]:
    entries = []
    for path, report in reports:
        context = report.get("context") if isinstance(report.get("context"), dict) else {}
        env = context.get("env") if isinstance(context.get("env"), str) else None
        for item in report["artifacts"]:
            if isinstance(item, dict) and item.get("kind") == kind and item.get("id") == artifact_id:
                entries.append(_Entry(path, str(report.get("finishedAt", "")), item, env))
    return entries


def _bound(spec: Any, where: str) -> Bound:
    if isinstance(spec, bool):
        raise UsageError(f"{where}: a threshold must be a number or {{min: x, max: y}}")
    if isinstance(spec, (int, float)):
        return Bound(min=float(spec))
    if isinstance(spec, dict) and set(spec) <= {"min", "max"} and spec:
        values = {}
        for key, value in spec.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"{where}.{key} must be a number")
            values[key] = float(value)
        return Bound(**values)
    raise UsageError(f"{where}: a threshold must be a number (a minimum) or a mapping with min and/or max")


def load_thresholds(project: Project, env: str, kind: str) -> dict[str, Bound]:
    """The metric thresholds for ``kind`` in ``env``: the ``*`` entry overlaid with the kind's own.

    Read from the environment's entry in genaiops.yaml, then ``environments/<env>/settings.yaml``
    (which wins). A threshold is a number (a minimum) or ``{min: x, max: y}``. Top-level metric
    keys apply to every kind; a kind name (or ``*``) scopes a mapping of metrics:
    ``thresholds: {exact_match: 0.8, prompt: {rouge_l: {min: 0.4}}, rag: {latency_ms: {max: 900}}}``.
    """
    layers: list[tuple[str, Any]] = []
    for item in project.settings.get("environments") or []:
        if isinstance(item, dict) and item.get("name") == env and item.get("thresholds") is not None:
            layers.append(("genaiops.yaml", item["thresholds"]))
    settings_path = project.root / ENVIRONMENTS_DIR / env / "settings.yaml"
    if settings_path.is_file():
        try:
            settings = yaml.safe_load(settings_path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise UsageError(f"{settings_path.relative_to(project.root)} is not valid YAML: {exc}") from None
        if isinstance(settings, dict) and settings.get("thresholds") is not None:
            layers.append((f"{ENVIRONMENTS_DIR}/{env}/settings.yaml", settings["thresholds"]))
    merged: dict[str, Bound] = {}
    for source, table in layers:
        if not isinstance(table, dict):
            raise UsageError(f"{source}: thresholds must be a mapping of kind -> metric -> threshold")
        flat = {str(k): v for k, v in table.items() if str(k) not in BY_NAME and k != "*"}
        for metric, spec in flat.items():
            merged[metric] = _bound(spec, f"{source}: thresholds.{metric}")
        for scope in ("*", kind):
            metrics = table.get(scope) or {}
            if not isinstance(metrics, dict):
                raise UsageError(f"{source}: thresholds.{scope} must be a mapping of metric -> threshold")
            for metric, spec in metrics.items():
                merged[str(metric)] = _bound(spec, f"{source}: thresholds.{scope}.{metric}")
    return merged


def scorecard_metrics(scorecard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The scorecard's metrics by name, each a mapping with at least ``value`` when it has one.

    Accepts ``metrics`` as a list of ``{name, value, ...}`` or a mapping ``name -> {value, ...}``
    or ``name -> number``.
    """
    raw = scorecard.get("metrics")
    out: dict[str, dict[str, Any]] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                out[item["name"]] = item
    elif isinstance(raw, dict):
        for name, item in raw.items():
            out[str(name)] = item if isinstance(item, dict) else {"value": item}
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def check_scorecard(scorecard: dict[str, Any], thresholds: dict[str, Bound]) -> list[str]:
    """Messages for every way the scorecard misses the thresholds or reports a regression."""
    messages: list[str] = []
    verdict = scorecard.get("verdict")
    if isinstance(verdict, str) and verdict.lower() in FAILED_VERDICTS:
        messages.append(f"the scorecard's verdict is {verdict!r}")
    metrics = scorecard_metrics(scorecard)
    for name, item in sorted(metrics.items()):
        item_verdict = item.get("verdict")
        if isinstance(item_verdict, str) and item_verdict.lower() in FAILED_VERDICTS:
            messages.append(f"metric {name}: verdict {item_verdict!r}")
    for name, bound in sorted(thresholds.items()):
        if name not in metrics:
            messages.append(
                f"metric {name} is required by the environment's thresholds but not in the scorecard"
            )
            continue
        value = _number(metrics[name].get("value"))
        if value is None:
            messages.append(f"metric {name} has no numeric value")
            continue
        breach = bound.violated_by(value)
        if breach:
            messages.append(f"metric {name}: {breach}")
    return messages


def _dataset_digest(details: dict[str, Any], scorecard: dict[str, Any] | None) -> str | None:
    candidates: list[Any] = [details.get("datasetDigest"), details.get("evalDatasetDigest")]
    if scorecard:
        provenance = scorecard.get("provenance") if isinstance(scorecard.get("provenance"), dict) else {}
        dataset = scorecard.get("dataset") if isinstance(scorecard.get("dataset"), dict) else {}
        candidates += [
            scorecard.get("datasetDigest"),
            provenance.get("datasetDigest"),
            provenance.get("dataset_digest"),
            dataset.get("digest"),
        ]
    return next((str(c) for c in candidates if isinstance(c, str) and c), None)


def evaluate_gate(
    kind: str,
    artifact_id: str,
    digest: str,
    reports_dir: Path,
    thresholds: dict[str, Bound],
    env: str,
    required: tuple[str, ...] = REQUIRED_STAGES,
    evidence: VerifiedEvidence | str | None = None,
) -> GateResult:
    """Judge one artifact (at ``digest``) for ``env`` against the reports in ``reports_dir`` and the
    thresholds; validate and eval reports count only when they were made for ``env``. With
    ``evidence`` (verified signed evidence, or why it failed to verify) only reports the signed
    manifest lists count."""
    result = GateResult(thresholds=thresholds)
    if isinstance(evidence, str):
        result.problems.append(Problem(SIGNATURE_INVALID, f"signed evidence not verified: {evidence}"))
        return result
    reports = load_reports(reports_dir)
    for stage in required:
        entries = _entries(reports.get(stage, []), kind, artifact_id)
        if not entries:
            result.problems.append(
                Problem(MISSING_REPORT, f"no {stage} report for {kind}/{artifact_id} in {reports_dir}")
            )
            continue
        if evidence is not None:
            signed = [e for e in entries if evidence.covers(e.path)]
            if not signed:
                result.problems.append(
                    Problem(
                        UNSIGNED_REPORT,
                        f"no {stage} report of {kind}/{artifact_id} is listed in the signed evidence "
                        f"(read: {', '.join(sorted({e.path.name for e in entries}))})",
                        file=entries[0].path.name,
                    )
                )
                continue
            entries = signed
        matching = [e for e in entries if e.data.get("digest") == digest]
        if not matching:
            seen = sorted({str(e.data.get("digest")) for e in entries})
            result.problems.append(
                Problem(
                    DIGEST_MISMATCH,
                    f"the {stage} report covers {kind}/{artifact_id} at {', '.join(seen)}, "
                    f"not the current {digest}",
                    file=entries[0].path.name,
                )
            )
            continue
        if stage in ENVIRONMENT_BOUND:
            bound = [e for e in matching if e.env == env]
            if not bound:
                made_for = ", ".join(sorted({e.env or "no environment (no --env)" for e in matching}))
                result.problems.append(
                    Problem(
                        WRONG_ENVIRONMENT,
                        f"the {stage} report of {kind}/{artifact_id} was made for {made_for}, not for {env}",
                        file=matching[0].path.name,
                    )
                )
                continue
            matching = bound
        latest = max(matching, key=lambda e: e.finished)
        result.reports[stage] = latest.path.name
        status = latest.data.get("status")
        if status != "pass":
            errors = [
                f.get("ruleId")
                for f in latest.data.get("findings") or []
                if isinstance(f, dict) and f.get("severity") == "error"
            ]
            detail = f" ({', '.join(str(e) for e in errors[:5])})" if errors else ""
            result.problems.append(
                Problem(FAILED_REPORT, f"the {stage} report says {status!r}{detail}", file=latest.path.name)
            )
            continue
        if stage == "eval":
            details = latest.data.get("details") if isinstance(latest.data.get("details"), dict) else {}
            scorecard = details.get("scorecard")
            if not isinstance(scorecard, dict):
                result.problems.append(
                    Problem(
                        NO_SCORECARD,
                        f"the eval report has no scorecard for {kind}/{artifact_id}",
                        file=latest.path.name,
                    )
                )
                continue
            result.scorecard = scorecard
            card_artifact = scorecard.get("artifact") if isinstance(scorecard.get("artifact"), dict) else {}
            if card_artifact.get("digest") not in (None, digest):
                result.problems.append(
                    Problem(
                        DIGEST_MISMATCH,
                        f"the scorecard was computed for {card_artifact.get('digest')}, not {digest}",
                        file=latest.path.name,
                    )
                )
            result.eval_dataset_digest = _dataset_digest(details, scorecard)
            for message in check_scorecard(scorecard, thresholds):
                result.problems.append(Problem(BELOW_THRESHOLD, message, file=latest.path.name))
    return result
