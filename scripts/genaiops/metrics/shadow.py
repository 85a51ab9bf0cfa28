"""Shadow comparison of a candidate model config against the current one on the same requests.

For each replayed request both configurations answer; the pair's cosine similarity (of the two
responses' embeddings) measures behavioural change. A pair below the similarity threshold - 0.85 by
default - is *flagged*. When a config declares ``expected_drift`` the similarity threshold is relaxed
(default 0.6) and a rubric score is expected to carry the decision instead. Serving telemetry is
summarised as latency percentiles (p50/p95, linear interpolation between ranks, as ``numpy.percentile``)
and token usage (mean prompt/completion tokens per request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genaiops.metrics.text import cosine_similarity

DEFAULT_SIMILARITY = 0.85
DRIFT_SIMILARITY = 0.6


@dataclass(frozen=True)
class PairResult:
    """One request answered by both configurations."""

    id: str
    similarity: float
    flagged: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "similarity": round(self.similarity, 6), "flagged": self.flagged}


@dataclass
class ShadowComparison:
    """Per-pair similarities and the summary the scorecard shows."""

    threshold: float
    pairs: list[PairResult] = field(default_factory=list)

    @property
    def mean_similarity(self) -> float:
        return float(np.mean([p.similarity for p in self.pairs])) if self.pairs else 0.0

    @property
    def flagged(self) -> list[PairResult]:
        return [p for p in self.pairs if p.flagged]

    @property
    def flagged_rate(self) -> float:
        return len(self.flagged) / len(self.pairs) if self.pairs else 0.0


def similarity_threshold(expected_drift: bool, override: float | None = None) -> float:
    """The per-pair threshold: ``override`` if given, else 0.85, relaxed to 0.6 with expected drift."""
    if override is not None:
        if not -1.0 <= override <= 1.0:
            raise ValueError("a cosine similarity threshold must be within [-1, 1]")
        return override
    return DRIFT_SIMILARITY if expected_drift else DEFAULT_SIMILARITY


def compare_pairs(
    ids: Sequence[str],
    current: Sequence[Sequence[float]],
    candidate: Sequence[Sequence[float]],
    threshold: float = DEFAULT_SIMILARITY,
) -> ShadowComparison:
    """Cosine similarity of each (current, candidate) embedding pair; pairs below ``threshold`` flagged."""
    if not len(ids) == len(current) == len(candidate):
        raise ValueError("ids, current and candidate embeddings must have the same length")
    result = ShadowComparison(threshold)
    for request_id, a, b in zip(ids, current, candidate, strict=True):
        similarity = cosine_similarity(a, b)
        result.pairs.append(PairResult(str(request_id), similarity, similarity < threshold))
    return result


def latency_percentiles(
    latencies_s: Sequence[float | None], percentiles: Sequence[float] = (50, 95)
) -> dict[str, float]:
    """``{"latency_p50_ms": ..., "latency_p95_ms": ...}`` over the measured latencies (None ignored)."""
    values = np.asarray([v for v in latencies_s if v is not None], dtype=float) * 1000.0
    if values.size == 0:
        return {}
    return {f"latency_p{p:g}_ms": float(np.percentile(values, p)) for p in percentiles}


def token_usage(
    prompt_tokens: Sequence[int | None], completion_tokens: Sequence[int | None]
) -> dict[str, float]:
    """Mean prompt and completion tokens per request (requests without usage ignored)."""
    out: dict[str, float] = {}
    for name, values in (
        ("prompt_tokens_mean", prompt_tokens),
        ("completion_tokens_mean", completion_tokens),
    ):
        known = [v for v in values if v is not None]
        if known:
            out[name] = float(np.mean(known))
    return out
