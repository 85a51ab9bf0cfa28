"""The eval scorecard: its JSON model, and Markdown (pull-request comment) and HTML (plots) renderings.

A scorecard is what the eval stage leaves for promotion and people: the artifact (kind, id, version,
digest), one entry per metric (value, baseline, relative delta, confidence interval, threshold,
verdict and why), the baseline it was compared with - or the statement that there was none and
absolute thresholds applied - where the responses came from (live endpoint, cache, or cassettes, with
the synthetic flag), the measured non-determinism, and per-example scores (so that, once promoted, it
can serve as the next baseline of a paired comparison).

Renderings: ``to_markdown`` keeps under GitHub's 65,536-character comment limit by folding details in
``<details>`` and cutting the per-example table first; ``to_html`` is one self-contained page with
inline SVG plots (relative change vs baseline with intervals; per-category bars), no scripts, no CDN.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from genaiops import __version__
from genaiops.metrics.compare import Comparison

SCHEMA = "genaiops.dev/scorecard/v1"
GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_MARKDOWN_BUDGET = 60_000
Verdict = Literal["pass", "fail", "info"]


@dataclass
class MetricResult:
    """One metric of the scorecard."""

    name: str
    value: float
    higher_is_better: bool = True
    baseline: float | None = None
    delta: float | None = None
    """Candidate vs baseline: relative ((c - b) / |b|) unless ``delta_kind`` is absolute."""
    delta_kind: Literal["relative", "absolute"] | None = None
    ci: tuple[float, float] | None = None
    """Confidence interval of ``delta``."""
    confidence: float | None = None
    threshold: float | None = None
    """Largest tolerated relative regression (e.g. 0.02)."""
    minimum: float | None = None
    """Absolute floor (used with or without a baseline)."""
    maximum: float | None = None
    """Absolute ceiling (e.g. a bypass rate)."""
    verdict: Verdict = "info"
    reason: str = ""
    category: str | None = None
    """Groups metrics for per-category bars (e.g. a guardrail category). ``name`` stays unique on its own
    (e.g. ``bypass_rate[pii]``): promotion looks metrics up by name."""
    n: int | None = None

    @classmethod
    def from_comparison(
        cls,
        comparison: Comparison,
        *,
        category: str | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> MetricResult:
        """A metric compared with its baseline; an absolute bound can still fail it."""
        result = cls(
            name=comparison.metric,
            value=comparison.candidate,
            higher_is_better=comparison.higher_is_better,
            baseline=comparison.baseline,
            delta=comparison.delta,
            delta_kind="relative" if comparison.relative else "absolute",
            ci=(comparison.ci_low, comparison.ci_high),
            confidence=comparison.confidence,
            threshold=comparison.threshold,
            minimum=minimum,
            maximum=maximum,
            verdict="pass" if comparison.verdict == "pass" else "fail",
            reason=comparison.reason,
            category=category,
            n=comparison.n,
        )
        result._apply_bounds()
        return result

    @classmethod
    def absolute(
        cls,
        name: str,
        value: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        higher_is_better: bool = True,
        category: str | None = None,
        n: int | None = None,
    ) -> MetricResult:
        """A metric judged only against absolute bounds (no baseline); ``info`` when it has none."""
        result = cls(
            name=name,
            value=value,
            higher_is_better=higher_is_better,
            minimum=minimum,
            maximum=maximum,
            category=category,
            n=n,
        )
        if minimum is None and maximum is None:
            result.reason = "reported, no threshold"
        else:
            result.verdict, result.reason = "pass", "within absolute thresholds"
        result._apply_bounds()
        return result

    def _apply_bounds(self) -> None:
        """Fail on an absolute bound; a regression verdict keeps its reason first (both are reported)."""
        problem = None
        if self.minimum is not None and self.value < self.minimum:
            problem = f"{self.value:.4g} is below the minimum {self.minimum:.4g}"
        elif self.maximum is not None and self.value > self.maximum:
            problem = f"{self.value:.4g} is above the maximum {self.maximum:.4g}"
        if problem is not None:
            self.reason = f"{self.reason}; {problem}" if self.verdict == "fail" else problem
            self.verdict = "fail"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "higherIsBetter": self.higher_is_better,
            "baseline": self.baseline,
            "delta": self.delta,
            "deltaKind": self.delta_kind,
            "ci": list(self.ci) if self.ci is not None else None,
            "confidence": self.confidence,
            "threshold": self.threshold,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "verdict": self.verdict,
            "reason": self.reason,
            "category": self.category,
            "n": self.n,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricResult:
        ci = data.get("ci")
        return cls(
            name=str(data["name"]),
            value=float(data["value"]),
            higher_is_better=bool(data.get("higherIsBetter", True)),
            baseline=data.get("baseline"),
            delta=data.get("delta"),
            delta_kind=data.get("deltaKind"),
            ci=(float(ci[0]), float(ci[1])) if ci else None,
            confidence=data.get("confidence"),
            threshold=data.get("threshold"),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            verdict=data.get("verdict", "info"),
            reason=str(data.get("reason", "")),
            category=data.get("category"),
            n=data.get("n"),
        )


@dataclass
class Baseline:
    """Where the baseline came from: the scorecard recorded when the deployed version was promoted."""

    source: str
    """e.g. ``environments/prod/scorecards/prompts/summarise.json`` (or a git ref and path)."""
    version: str | None = None
    digest: str | None = None
    recorded_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "version": self.version,
            "digest": self.digest,
            "recordedAt": self.recorded_at,
        }


@dataclass
class Scorecard:
    """The structured result of evaluating one artifact."""

    kind: str
    id: str
    version: str | None = None
    digest: str | None = None
    environment: str | None = None
    metrics: list[MetricResult] = field(default_factory=list)
    baseline: Baseline | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    """``Provider.provenance()``: mode, endpoint, calls, cache hits, cassettes (with ``synthetic``)."""
    nondeterminism: dict[str, Any] | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    """Per example: ``{"id", "category"?, "scores": {metric: value or [repeats]}, "output"?}``."""
    notes: list[str] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)

    @property
    def verdict(self) -> Literal["pass", "fail"]:
        return "fail" if any(m.verdict == "fail" for m in self.metrics) else "pass"

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic"))

    @property
    def failures(self) -> list[MetricResult]:
        return [m for m in self.metrics if m.verdict == "fail"]

    def example_scores(self, metric: str) -> dict[str, Any]:
        """Per-example values of one metric by example id (a baseline for the next comparison)."""
        return {str(e["id"]): e["scores"][metric] for e in self.examples if metric in e.get("scores", {})}

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA,
            "tool": {"name": "genaiops", "version": __version__},
            "createdAt": datetime.fromtimestamp(self.created_at, UTC).isoformat(timespec="seconds"),
            "artifact": {"kind": self.kind, "id": self.id, "version": self.version, "digest": self.digest},
            "environment": self.environment,
            "verdict": self.verdict,
            "baseline": self.baseline.to_json() if self.baseline is not None else None,
            "baselineNote": None if self.baseline is not None else "no baseline: absolute thresholds",
            "synthetic": self.synthetic,
            "provenance": self.provenance,
            "nondeterminism": self.nondeterminism,
            "metrics": [m.to_json() for m in self.metrics],
            "examples": self.examples,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorecard:
        """Read a scorecard (e.g. the baseline recorded at promotion); KeyError/ValueError when malformed."""
        if data.get("schemaVersion") != SCHEMA:
            raise ValueError(
                f"not a scorecard (schemaVersion {data.get('schemaVersion')!r}, expected {SCHEMA})"
            )
        artifact = data["artifact"]
        base = data.get("baseline")
        created = data.get("createdAt")
        return cls(
            kind=str(artifact["kind"]),
            id=str(artifact["id"]),
            version=artifact.get("version"),
            digest=artifact.get("digest"),
            environment=data.get("environment"),
            metrics=[MetricResult.from_json(m) for m in data.get("metrics", [])],
            baseline=Baseline(
                str(base["source"]), base.get("version"), base.get("digest"), base.get("recordedAt")
            )
            if base
            else None,
            provenance=dict(data.get("provenance") or {}),
            nondeterminism=data.get("nondeterminism"),
            examples=list(data.get("examples") or []),
            notes=list(data.get("notes") or []),
            created_at=datetime.fromisoformat(created).timestamp() if created else time.time(),
        )

    def to_markdown(self, max_chars: int = DEFAULT_MARKDOWN_BUDGET, details_url: str | None = None) -> str:
        return render_markdown(self, max_chars, details_url)

    def to_html(self) -> str:
        return render_html(self)


# ---- shared formatting ------------------------------------------------------------------------------
def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _delta(metric: MetricResult) -> str:
    if metric.delta is None:
        return "-"
    if metric.delta_kind == "relative":
        return f"{metric.delta * 100:+.2f}%"
    return f"{metric.delta:+.4g}"


def _ci(metric: MetricResult) -> str:
    if metric.ci is None:
        return "-"
    low, high = metric.ci
    if metric.delta_kind == "relative":
        return f"[{low * 100:+.2f}%, {high * 100:+.2f}%]"
    return f"[{low:+.4g}, {high:+.4g}]"


def _threshold(metric: MetricResult) -> str:
    parts = []
    if metric.threshold is not None:
        parts.append(
            f"max drop {metric.threshold * 100:.2f}%"
            if metric.delta_kind != "absolute"
            else f"max change {metric.threshold:.4g}"
        )
    if metric.minimum is not None:
        parts.append(f">= {_num(metric.minimum)}")
    if metric.maximum is not None:
        parts.append(f"<= {_num(metric.maximum)}")
    return ", ".join(parts) or "-"


_ICON = {"pass": "✅ pass", "fail": "❌ fail", "info": "ℹ️ info"}  # noqa: RUF001


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipes, no newlines, no raw HTML)."""
    return html.escape(text.replace("|", "\\|").replace("\n", " "), quote=False)


# ---- Markdown ---------------------------------------------------------------------------------------
def render_markdown(
    card: Scorecard, max_chars: int = DEFAULT_MARKDOWN_BUDGET, details_url: str | None = None
) -> str:
    """The pull-request comment; never longer than ``max_chars`` (at most GitHub's limit)."""
    max_chars = min(max_chars, GITHUB_COMMENT_LIMIT)
    version = _cell(card.version or "")
    head = [f"### {_ICON[card.verdict]} eval · {_cell(card.kind)} `{_cell(card.id)}` {version}".rstrip()]
    if card.synthetic:
        reasons = sorted(
            {
                c.get("syntheticReason") or ""
                for c in card.provenance.get("cassettes", [])
                if c.get("synthetic")
            }
            | {str(card.provenance.get("syntheticReason") or "")}
        )
        source = "cassettes" if card.provenance.get("mode") == "replay" else "an endpoint"
        head.append(
            f"> ⚠️ **Synthetic responses**: scored from {source} that are not a real model "
            f"({_cell('; '.join(r for r in reasons if r))})."
        )
    if card.baseline is not None:
        base = card.baseline
        head.append(
            f"Baseline: `{_cell(base.source)}` (version {_cell(base.version or '?')}, "
            f"recorded {_cell(base.recorded_at or '?')})."
        )
    else:
        head.append("**No baseline**: absolute thresholds apply.")
    rows = [
        "",
        "| metric | value | baseline | Δ | CI | threshold | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in card.metrics:
        name = m.name
        rows.append(
            f"| {_cell(name)} | {_num(m.value)} | {_num(m.baseline)} | {_delta(m)} | {_ci(m)} | "
            f"{_cell(_threshold(m))} | {_ICON[m.verdict]} |"
        )
    failures = [f"- **{_cell(m.name)}**: {_cell(m.reason)}" for m in card.failures]
    body = head + rows + (["", *failures] if failures else [])
    prov = card.provenance
    facts = [
        f"mode `{_cell(str(prov.get('mode', '?')))}`",
        f"{prov.get('calls', 0)} endpoint calls",
        f"{prov.get('cacheHits', 0)} cache hits",
    ]
    if card.nondeterminism:
        nd = card.nondeterminism
        facts.append(
            f"{nd.get('repeats')} repeats, {float(nd.get('unstableFraction', 0)) * 100:.1f}% of examples "
            "unstable across repeats"
        )
    body += [
        "",
        "<sub>"
        + " · ".join(facts)
        + (f" · [full scorecard]({html.escape(details_url)})" if details_url else "")
        + "</sub>",
    ]
    cassette_lines = [
        f"| `{_cell(str(c.get('file')))}` | {_cell(str(c.get('model')))} | "
        f"{_cell(str(c.get('endpoint')))} | {_cell(str(c.get('recordedAt')))} | "
        f"{'yes' if c.get('synthetic') else 'no'} |"
        for c in prov.get("cassettes", [])
    ]
    folded: list[str] = []
    if cassette_lines:
        folded += [
            "",
            "<details><summary>Cassettes</summary>",
            "",
            "| file | model | endpoint | recorded | synthetic |",
            "|---|---|---|---|---|",
            *cassette_lines,
            "",
            "</details>",
        ]
    if card.notes:
        folded += [
            "",
            "<details><summary>Notes</summary>",
            "",
            *[f"- {_cell(n)}" for n in card.notes],
            "",
            "</details>",
        ]
    text = "\n".join(body + folded)
    if len(text) > max_chars:  # even without examples too long: drop the folded parts, then cut hard
        text = "\n".join(body)
        if len(text) > max_chars:
            return text[: max_chars - 40].rsplit("\n", 1)[0] + "\n\n… (truncated; see the JSON scorecard)"
        return text
    return text + _examples_block(card, max_chars - len(text))


def _examples_block(card: Scorecard, budget: int) -> str:
    if not card.examples:
        return ""
    names = sorted({k for e in card.examples for k in e.get("scores", {})})
    opening = [
        "",
        f"<details><summary>Per-example scores ({len(card.examples)})</summary>",
        "",
        "| example | category | " + " | ".join(_cell(n) for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    closing = ["", "</details>"]
    lines = list(opening)
    used = len("\n".join(opening + closing)) + 200  # room for the cut notice
    shown = 0
    for example in card.examples:
        cells = []
        for name in names:
            value = example.get("scores", {}).get(name)
            if isinstance(value, list):
                mean = sum(value) / len(value) if value else None
                cells.append(f"{_num(mean, 3)} (×{len(value)})")  # noqa: RUF001
            else:
                cells.append(_num(value, 3))
        line = (
            f"| {_cell(str(example.get('id')))} | {_cell(str(example.get('category') or ''))} | "
            + " | ".join(cells)
            + " |"
        )
        if used + len(line) + 1 > budget:
            break
        lines.append(line)
        used += len(line) + 1
        shown += 1
    if shown < len(card.examples):
        lines += [
            "",
            f"… {len(card.examples) - shown} more examples in the JSON scorecard and the HTML page.",
        ]
    if shown == 0 and budget < used:
        return ""
    return "\n" + "\n".join(lines + closing)


def combined_markdown(cards: list[Scorecard], max_chars: int = DEFAULT_MARKDOWN_BUDGET) -> str:
    """One comment for several artifacts: the budget is shared equally."""
    if not cards:
        return "No artifact was evaluated."
    share = max(500, max_chars // len(cards) - 10)
    text = "\n\n---\n\n".join(render_markdown(card, share) for card in cards)
    return text[:max_chars]


# ---- HTML -------------------------------------------------------------------------------------------
_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "info": "#57606a"}


def _svg_forest(metrics: list[MetricResult]) -> str:
    """Relative change vs baseline per metric, with its interval and the tolerated-regression line."""
    rows = [m for m in metrics if m.delta is not None]
    if not rows:
        return ""
    values = [0.0]
    for m in rows:
        values += [m.delta or 0.0, *(m.ci or ())]
        if m.threshold is not None:
            values.append(-m.threshold if m.higher_is_better else m.threshold)
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 0.05
    low, high = low - pad, high + pad
    width, left, right, row_h = 720, 200, 30, 28
    height = 40 + row_h * len(rows)

    def x(v: float) -> float:
        return left + (v - low) / (high - low) * (width - left - right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Change versus baseline with confidence intervals">',
        f'<line x1="{x(0):.1f}" y1="10" x2="{x(0):.1f}" y2="{height - 20}" stroke="#8c959f"/>',
        f'<text x="{x(0):.1f}" y="{height - 5}" font-size="11" text-anchor="middle">0 (baseline)</text>',
    ]
    for i, m in enumerate(rows):
        y = 25 + i * row_h
        colour = _COLOURS[m.verdict]
        scale = 100 if m.delta_kind == "relative" else 1
        unit = "%" if m.delta_kind == "relative" else ""
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" font-size="12" text-anchor="end">{html.escape(m.name)}</text>'
        )
        if m.threshold is not None:
            limit = -m.threshold if m.higher_is_better else m.threshold
            parts.append(
                f'<line x1="{x(limit):.1f}" y1="{y - 9}" x2="{x(limit):.1f}" y2="{y + 9}" '
                f'stroke="#bf8700" stroke-dasharray="3,2"><title>tolerated regression '
                f"{limit * scale:+.2f}{unit}</title></line>"
            )
        if m.ci is not None:
            parts.append(
                f'<line x1="{x(m.ci[0]):.1f}" y1="{y}" x2="{x(m.ci[1]):.1f}" y2="{y}" stroke="{colour}" '
                f'stroke-width="2"/>'
            )
        delta = m.delta or 0.0
        ci_text = f" CI [{m.ci[0] * scale:+.2f}{unit}, {m.ci[1] * scale:+.2f}{unit}]" if m.ci else ""
        parts.append(
            f'<circle cx="{x(delta):.1f}" cy="{y}" r="5" fill="{colour}"><title>'
            f"{html.escape(m.name)}: {delta * scale:+.2f}{unit}{ci_text}</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_values(metrics: list[MetricResult], title: str) -> str:
    """Horizontal bars of value (and baseline marker) for metrics on a 0..1 scale, grouped by category."""
    rows = [m for m in metrics if 0.0 <= m.value <= 1.0]
    if not rows:
        return ""
    width, left, right, row_h = 720, 260, 70, 24
    height = 20 + row_h * len(rows)
    span = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}">'
    ]
    for i, m in enumerate(rows):
        y = 10 + i * row_h
        label = m.name
        parts.append(
            f'<text x="{left - 8}" y="{y + 13}" font-size="12" text-anchor="end">{html.escape(label)}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y}" width="{span}" height="16" fill="#f6f8fa"/>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{m.value * span:.1f}" height="16" fill="{_COLOURS[m.verdict]}">'
            f"<title>{html.escape(label)}: {m.value:.4g}</title></rect>"
        )
        for bound, colour in ((m.minimum, "#bf8700"), (m.maximum, "#bf8700"), (m.baseline, "#0969da")):
            if bound is not None and 0.0 <= bound <= 1.0:
                parts.append(
                    f'<line x1="{left + bound * span:.1f}" y1="{y - 2}" x2="{left + bound * span:.1f}" '
                    f'y2="{y + 18}" stroke="{colour}" stroke-width="2"/>'
                )
        parts.append(f'<text x="{left + span + 6}" y="{y + 13}" font-size="12">{m.value:.3g}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(card: Scorecard) -> str:
    """A self-contained HTML page (inline CSS and SVG, no scripts)."""
    e = html.escape
    rows = "\n".join(
        f"<tr class='{m.verdict}'><td>{e(m.name)}</td>"
        f"<td>{_num(m.value)}</td><td>{_num(m.baseline)}</td><td>{e(_delta(m))}</td><td>{e(_ci(m))}</td>"
        f"<td>{e(_threshold(m))}</td><td>{e(m.verdict)}</td><td>{e(m.reason)}</td></tr>"
        for m in card.metrics
    )
    categorised = [m for m in card.metrics if m.category]
    plain = [m for m in card.metrics if not m.category]
    sections = []
    forest = _svg_forest(card.metrics)
    if forest:
        sections.append(
            "<h2>Change versus baseline</h2><p>Dots: relative change of the candidate; lines: "
            "confidence interval; dashed: tolerated regression.</p>" + forest
        )
    values = _svg_values(plain, "Metric values")
    if values:
        sections.append(
            "<h2>Metric values</h2><p>Bars: candidate; blue: baseline; amber: absolute bound.</p>" + values
        )
    per_category = _svg_values(categorised, "Per-category metrics")
    if per_category:
        sections.append("<h2>Per category</h2>" + per_category)
    if card.synthetic:
        banner = (
            "<p class='warn'>Synthetic responses: these scores come from "
            f"{'cassettes' if card.provenance.get('mode') == 'replay' else 'an endpoint'} that are not a "
            "real "
            f"model ({e(str(card.provenance.get('syntheticReason') or 'see the cassettes below'))}).</p>"
        )
    else:
        banner = ""
    base = (
        f"Baseline: <code>{e(card.baseline.source)}</code> (version {e(card.baseline.version or '?')})"
        if card.baseline
        else "<strong>No baseline</strong>: absolute thresholds apply."
    )
    cassettes = "".join(
        f"<li><code>{e(str(c.get('file')))}</code> - {e(str(c.get('model')))} from "
        f"{e(str(c.get('endpoint')))} at {e(str(c.get('recordedAt')))}"
        f"{' (synthetic: ' + e(str(c.get('syntheticReason'))) + ')' if c.get('synthetic') else ''}"
        f"</li>"
        for c in card.provenance.get("cassettes", [])
    )
    examples = ""
    if card.examples:
        names = sorted({k for ex in card.examples for k in ex.get("scores", {})})
        body = "\n".join(
            "<tr><td>"
            + e(str(ex.get("id")))
            + "</td><td>"
            + e(str(ex.get("category") or ""))
            + "</td>"
            + "".join(f"<td>{e(_example_value(ex.get('scores', {}).get(n)))}</td>" for n in names)
            + "</tr>"
            for ex in card.examples
        )
        examples = (
            f"<details><summary>Per-example scores ({len(card.examples)})</summary><table><tr><th>example"
            f"</th><th>category</th>{''.join(f'<th>{e(n)}</th>' for n in names)}</tr>{body}</table></details>"
        )
    title = f"{card.kind} {card.id} {card.version or ''}".strip()
    prov = card.provenance
    facts = (
        f"Mode {prov.get('mode', '?')}, {prov.get('calls', 0)} endpoint calls, "
        f"{prov.get('cacheHits', 0)} cache hits"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Scorecard: {e(title)}</title>
<style>
body {{
  font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; max-width: 1000px; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #d0d7de; padding: 4px 8px; }}
tr.fail td {{ background: #ffebe9; }}
.verdict-fail {{ color: #cf222e; }}
.verdict-pass {{ color: #1a7f37; }}
.warn {{ background: #fff8c5; border: 1px solid #d4a72c; padding: 8px; }}
</style></head><body>
<h1>Scorecard: {e(title)} - <span class="verdict-{card.verdict}">{card.verdict}</span></h1>
{banner}<p>{base}. Digest <code>{e(card.digest or "-")}</code>. {e(facts)}.</p>
<table><tr><th>metric</th><th>value</th><th>baseline</th><th>Δ</th><th>CI</th><th>threshold</th><th>verdict</th>
<th>reason</th></tr>
{rows}
</table>
{"".join(sections)}
{"<h2>Cassettes</h2><ul>" + cassettes + "</ul>" if cassettes else ""}
{examples}
</body></html>
"""


def _example_value(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_num(v, 3) for v in value)
    return _num(value, 3) if isinstance(value, (int, float)) else str(value)
