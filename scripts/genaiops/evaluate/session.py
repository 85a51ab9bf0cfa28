"""What every kind's eval shares: the provider for an artifact, its baseline, scoring against
thresholds and the baseline, and handing the scorecard to the report (and optional files).

Settings in genaiops.yaml (all optional)::

    eval:
      judgeModel: gpt-4o-mini      # the judge-LLM; default: the artifact's own model
      embeddingModel: text-embedding-3-small   # `similar`; default genaiops/hash-embedding-256
      redTeamModel: gpt-4o-mini    # guardrail eval: LLM-generated attacks (none: mutations only)
      bypassThresholds: {pii: 0.01, "*": 0.05}   # guardrail eval: tolerated bypass rate per category
      confidence: 0.95             # bootstrap interval
      resamples: 2000
      seed: 20240229

The baseline is the scorecard recorded in the lineage of the version deployed in ``--env``
(``genaiops.lineage.baseline_for``); without ``--env`` or without a promoted version there is no
baseline and only absolute thresholds apply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genaiops import rules
from genaiops.discovery import Artifact
from genaiops.errors import UsageError
from genaiops.llm.config import ProviderConfig
from genaiops.llm.progress import Progress
from genaiops.llm.provider import Provider, ProviderMode
from genaiops.metrics.compare import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_THRESHOLD,
    compare,
    pair,
)
from genaiops.report import ArtifactResult
from genaiops.scorecard import Baseline, MetricResult, Scorecard
from genaiops.stages.runner import StageContext

CASSETTE_DIR = "eval/cassettes"

REGRESSION = rules.rule(
    "eval/regression",
    "eval",
    "A metric regressed against the deployed baseline by more than its threshold, and the "
    "confidence interval excludes zero.",
    "Look at the per-example scores in the scorecard; fix the artifact or, with review, "
    "raise max_relative_regression.",
)
BELOW_THRESHOLD = rules.rule(
    "eval/below-threshold",
    "eval",
    "A metric misses its absolute threshold (eval.thresholds in the manifest).",
    "Improve the artifact, or change the threshold with review.",
)
SYNTHETIC = rules.rule(
    "eval/synthetic-responses",
    "eval",
    "The scores come from cassettes that were not recorded from a real model (info).",
    "Record real cassettes with `genaiops eval --record` against your endpoint.",
)
NO_BASELINE = rules.rule(
    "eval/no-baseline",
    "eval",
    "No version is deployed in the environment (or no --env): absolute thresholds apply (info).",
)
BAD_BASELINE = rules.rule(
    "eval/bad-baseline",
    "eval",
    "The baseline scorecard in the lineage cannot be read; absolute thresholds apply.",
    "Check environments/<env>/lineage/<kind>/<id>.yaml.",
)


@dataclass(frozen=True)
class EvalSettings:
    """genaiops.yaml ``eval:`` settings."""

    judge_model: str | None = None
    embedding_model: str | None = None
    red_team_model: str | None = None
    bypass_thresholds: dict[str, float] = field(default_factory=dict)
    confidence: float = DEFAULT_CONFIDENCE
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> EvalSettings:
        raw = settings.get("eval") or {}
        if not isinstance(raw, dict):
            raise UsageError("eval in genaiops.yaml must be a mapping")
        try:
            confidence = float(raw.get("confidence", DEFAULT_CONFIDENCE))
            resamples = int(raw.get("resamples", DEFAULT_RESAMPLES))
            seed = int(raw.get("seed", DEFAULT_SEED))
        except (TypeError, ValueError):
            raise UsageError(
                "eval.confidence, eval.resamples and eval.seed in genaiops.yaml must be numbers"
            ) from None
        if not 0.5 <= confidence < 1 or resamples < 100:
            raise UsageError("eval.confidence must be in [0.5, 1) and eval.resamples at least 100")
        judge, embedding, red_team = raw.get("judgeModel"), raw.get("embeddingModel"), raw.get("redTeamModel")
        bypass = raw.get("bypassThresholds") or {}
        if not isinstance(bypass, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in bypass.values()
        ):
            raise UsageError("eval.bypassThresholds in genaiops.yaml must map categories to rates in [0, 1]")
        return cls(
            str(judge) if judge else None,
            str(embedding) if embedding else None,
            str(red_team) if red_team else None,
            {str(k): float(v) for k, v in bypass.items()},
            confidence,
            resamples,
            seed,
        )


@dataclass(frozen=True)
class MetricSpec:
    """How one metric is judged: direction, absolute bounds and tolerated relative regression."""

    name: str
    higher_is_better: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_regression: float = DEFAULT_THRESHOLD


@dataclass
class EvalSession:
    """One artifact's evaluation: provider, settings, baseline; builds and publishes the scorecard."""

    artifact: Artifact
    result: ArtifactResult
    ctx: StageContext
    provider: Provider
    settings: EvalSettings
    baseline: Scorecard | None = None
    baseline_ref: Baseline | None = None
    """Where the baseline came from (the lineage file, version, digest)."""
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> EvalSession:
        project = ctx.project
        env = ctx.options.get("env")
        config = ProviderConfig.from_settings(project.settings, env)
        requested = ctx.options.get("llm_mode") or "auto"
        if requested == "auto":
            requested = "live" if config.configured else "replay"
        mode = ProviderMode(requested)
        cache_dir = None
        if ctx.options.get("llm_cache", True) and mode != ProviderMode.REPLAY:
            cache_dir = Path(config.cache_dir)
            cache_dir = cache_dir if cache_dir.is_absolute() else project.root / cache_dir
        provider = Provider(
            config,
            mode=mode,
            cache_dir=cache_dir,
            cassette_dir=artifact.root / CASSETTE_DIR,
            display_base=project.root,
        )
        session = cls(artifact, result, ctx, provider, EvalSettings.from_settings(project.settings))
        if ctx.options.get("llm_mode", "auto") == "auto" and not config.configured:
            session.notes.append(
                "No LLM endpoint is configured (llm.baseUrl in genaiops.yaml or $GENAIOPS_LLM_BASE_URL): "
                "responses were replayed from the recorded cassettes."
            )
        session.baseline = session._load_baseline(env)
        return session

    def _load_baseline(self, env: str | None) -> Scorecard | None:
        if not env:
            self.result.add(
                NO_BASELINE, "no --env given: no baseline, absolute thresholds apply", severity="info"
            )
            return None
        from genaiops.lineage import baseline_for, lineage_relpath

        data = baseline_for(env, self.artifact.kind.name, self.artifact.id, self.ctx.project.root)
        if data is None:
            self.result.add(
                NO_BASELINE, f"nothing deployed in {env} yet: absolute thresholds apply", severity="info"
            )
            return None
        try:
            card = Scorecard.from_json(data)
        except (KeyError, ValueError, TypeError) as exc:
            self.result.add(
                BAD_BASELINE,
                f"the baseline scorecard for {env} is unreadable ({exc}); absolute thresholds apply",
                severity="warning",
            )
            return None
        of = data.get("baselineOf") or {}
        self.baseline_ref = Baseline(
            source=lineage_relpath(env, self.artifact.kind.name, self.artifact.id),
            version=of.get("version") or card.version,
            digest=of.get("digest") or card.digest,
            recorded_at=data.get("createdAt"),
        )
        return card

    def progress(self, total: int) -> Progress:
        return Progress(
            total,
            label=f"{self.artifact.kind.name}/{self.artifact.id}",
            enabled=self.ctx.options.get("progress"),
        )

    def score(
        self, per_example: dict[str, dict[str, list[float]]], specs: dict[str, MetricSpec], order: list[str]
    ) -> list[MetricResult]:
        """One MetricResult per metric in ``order``: compared with the baseline when it has paired
        per-example scores for it (at least 2 examples), else judged on absolute bounds."""
        results = []
        for name in order:
            values = per_example.get(name) or {}
            spec = specs.get(name, MetricSpec(name))
            means = [sum(v) / len(v) for v in values.values() if v]
            if not means:
                self.notes.append(f"{name}: no example produced a score")
                continue
            value = sum(means) / len(means)
            baseline_scores = self.baseline.example_scores(name) if self.baseline is not None else {}
            ids, cand, base = pair({k: v for k, v in values.items() if v}, baseline_scores)
            if len(ids) >= 2:
                comparison = compare(
                    name,
                    cand,
                    base,
                    threshold=spec.max_regression,
                    higher_is_better=spec.higher_is_better,
                    confidence=self.settings.confidence,
                    n_resamples=self.settings.resamples,
                    seed=self.settings.seed,
                )
                metric = MetricResult.from_comparison(comparison, minimum=spec.minimum, maximum=spec.maximum)
                metric.value = value  # over every example, not only the paired ones
                if len(ids) < len(values):
                    self.notes.append(
                        f"{name}: compared on the {len(ids)} examples the baseline also scored "
                        f"(of {len(values)})"
                    )
            else:
                metric = MetricResult.absolute(
                    name,
                    value,
                    minimum=spec.minimum,
                    maximum=spec.maximum,
                    higher_is_better=spec.higher_is_better,
                    n=len(means),
                )
                if self.baseline is not None:
                    self.notes.append(f"{name}: the baseline has no per-example scores for it; absolute only")
            results.append(metric)
        return results

    def publish(self, card: Scorecard) -> None:
        """Attach the scorecard to the report, add findings for failures, write files, save cassettes."""
        card.baseline = self.baseline_ref
        card.provenance = {**self.provider.provenance(), **card.provenance}
        card.notes = [*card.notes, *self.notes]
        for metric in card.metrics:
            if metric.category is None:
                self.result.metrics[metric.name] = metric.value
        for metric in card.failures:
            rule = (
                REGRESSION
                if metric.ci is not None and metric.reason.startswith("regressed")
                else BELOW_THRESHOLD
            )
            self.result.add(
                rule, _failure_message(metric), file=self.artifact.rel(self.artifact.manifest_path)
            )
        if card.synthetic:
            files = ", ".join(
                str(c.get("file")) for c in card.provenance.get("cassettes", []) if c.get("synthetic")
            )
            source = (
                f"synthetic cassettes ({files})" if files else str(card.provenance.get("syntheticReason"))
            )
            self.result.add(SYNTHETIC, f"scores come from {source}", severity="info")
        self.result.details["scorecard"] = card.to_json()
        self.provider.save()
        out = self.ctx.options.get("scorecard_dir")
        if out:
            folder = Path(out)
            folder.mkdir(parents=True, exist_ok=True)
            stem = f"{card.kind}-{card.id}"
            (folder / f"{stem}.json").write_text(
                json.dumps(card.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            (folder / f"{stem}.md").write_text(card.to_markdown() + "\n", encoding="utf-8")
            (folder / f"{stem}.html").write_text(card.to_html(), encoding="utf-8")

    def close(self) -> None:
        self.provider.close()


def _failure_message(metric: MetricResult) -> str:
    parts = [f"{metric.name} = {metric.value:.4g}"]
    if metric.baseline is not None:
        parts.append(f"baseline {metric.baseline:.4g}")
    if metric.delta is not None and metric.ci is not None:
        scale, unit = (100, "%") if metric.delta_kind == "relative" else (1, "")
        parts.append(
            f"change {metric.delta * scale:+.2f}{unit}, {int((metric.confidence or 0.95) * 100)}% CI "
            f"[{metric.ci[0] * scale:+.2f}{unit}, {metric.ci[1] * scale:+.2f}{unit}]"
        )
    if metric.threshold is not None and metric.reason.startswith("regressed"):
        parts.append(f"tolerated regression {metric.threshold * 100:.2f}%")
    if metric.minimum is not None:
        parts.append(f"minimum {metric.minimum:.4g}")
    if metric.maximum is not None:
        parts.append(f"maximum {metric.maximum:.4g}")
    return f"{'; '.join(parts)}: {metric.reason}"


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes (the eval dataset digest promotion records)."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
