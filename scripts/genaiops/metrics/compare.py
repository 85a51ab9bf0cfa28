"""Candidate vs baseline: paired bootstrap interval of the relative difference, repeats, the decision.

Scores are per example; with repeats each example has N scores (N runs of the same prompt), averaged
per example before comparing, and their spread is reported as the measured non-determinism.

The statistic is the relative difference of means ``(mean(candidate) - mean(baseline)) / |mean(baseline)|``
(the absolute difference when the baseline mean is 0). Its confidence interval comes from
``scipy.stats.bootstrap`` with ``paired=True`` (examples are resampled together, so per-example
difficulty cancels), a fixed seed (same data -> same interval) and the BCa method, falling back to the
percentile method when BCa is undefined (e.g. all differences equal).

Decision rule: a metric **fails** when the regression (the relative difference in the direction that
is worse: down for higher-is-better metrics, up for lower-is-better ones) exceeds the threshold
(default 2%) **and** the interval excludes zero. A large drop whose interval contains zero is reported as
not significant (more examples or repeats would tell); a significant drop smaller than the threshold
passes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_THRESHOLD = 0.02
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 20240229


def per_example_means(scores: Sequence[Sequence[float]] | Sequence[float]) -> np.ndarray:
    """Average the repeats of each example: shape (n,) or (n, repeats) -> (n,)."""
    array = np.asarray(scores, dtype=float)
    if array.ndim == 1:
        return array
    if array.ndim == 2:
        return array.mean(axis=1)
    raise ValueError("scores must be one value or one list of repeats per example")


@dataclass(frozen=True)
class Nondeterminism:
    """How much repeated runs of the same example disagree."""

    repeats: int
    unstable_fraction: float
    """Share of examples whose repeats did not all score the same."""
    mean_std: float
    """Mean over examples of the standard deviation across repeats."""

    def to_json(self) -> dict[str, Any]:
        return {
            "repeats": self.repeats,
            "unstableFraction": round(self.unstable_fraction, 6),
            "meanStd": round(self.mean_std, 6),
        }


def nondeterminism(scores: Sequence[Sequence[float]]) -> Nondeterminism:
    """Spread of per-example repeats (an (n, repeats) table)."""
    array = np.asarray(scores, dtype=float)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError("nondeterminism needs one list of repeats per example")
    if array.shape[1] < 2:
        return Nondeterminism(int(array.shape[1]), 0.0, 0.0)
    unstable = np.any(~np.isclose(array, array[:, :1]), axis=1)
    return Nondeterminism(
        int(array.shape[1]), float(unstable.mean()), float(array.std(axis=1, ddof=1).mean())
    )


def pair(candidate: Mapping[str, Any], baseline: Mapping[str, Any]) -> tuple[list[str], list[Any], list[Any]]:
    """Align per-example scores by example id; returns (ids, candidate values, baseline values)."""
    ids = sorted(set(candidate) & set(baseline))
    return ids, [candidate[i] for i in ids], [baseline[i] for i in ids]


def _relative(candidate: np.ndarray, baseline: np.ndarray, axis: int = -1) -> np.ndarray:
    base = np.mean(baseline, axis=axis)
    diff = np.mean(candidate, axis=axis) - base
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base == 0, diff, diff / np.abs(base))


@dataclass(frozen=True)
class Comparison:
    """The outcome for one metric."""

    metric: str
    candidate: float
    baseline: float
    delta: float
    """Relative difference (absolute when the baseline is 0); positive = candidate higher."""
    relative: bool
    ci_low: float
    ci_high: float
    confidence: float
    threshold: float
    higher_is_better: bool
    n: int
    method: str
    verdict: str
    """pass or fail."""
    reason: str

    @property
    def regression(self) -> float:
        """How much worse the candidate is (positive = worse), in the metric's direction."""
        return -self.delta if self.higher_is_better else self.delta

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "delta": self.delta,
            "deltaKind": "relative" if self.relative else "absolute",
            "ci": [self.ci_low, self.ci_high],
            "confidence": self.confidence,
            "threshold": self.threshold,
            "higherIsBetter": self.higher_is_better,
            "n": self.n,
            "method": self.method,
            "verdict": self.verdict,
            "reason": self.reason,
        }


def compare(
    metric: str,
    candidate: Sequence[Any],
    baseline: Sequence[Any],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    higher_is_better: bool = True,
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """Paired bootstrap comparison of per-example scores (aligned lists; repeats allowed per example)."""
    cand, base = per_example_means(candidate), per_example_means(baseline)
    if cand.shape != base.shape:
        raise ValueError(
            f"{metric}: candidate has {cand.size} examples, baseline {base.size}: pair them first"
        )
    if cand.size < 2:
        raise ValueError(f"{metric}: a paired bootstrap needs at least 2 examples, got {cand.size}")
    if not (np.all(np.isfinite(cand)) and np.all(np.isfinite(base))):
        raise ValueError(f"{metric}: scores must be finite numbers")
    if threshold < 0:
        raise ValueError("the regression threshold must not be negative")
    relative = float(np.mean(base)) != 0.0
    delta = float(_relative(cand, base))
    low, high, method = _interval(cand, base, confidence, n_resamples, seed)
    regression = -delta if higher_is_better else delta
    worse_low, worse_high = (-high, -low) if higher_is_better else (low, high)
    significant = worse_low > 0 or worse_high < 0
    unit = "%" if relative else ""
    shown = f"{regression * 100:.2f}%" if relative else f"{regression:.4g}"
    if regression > threshold and worse_low > 0:
        verdict = "fail"
        reason = (
            f"regressed by {shown} (threshold {threshold * 100:.2f}{unit or ' absolute'}) and the "
            f"{confidence:.0%} interval excludes zero"
        )
    elif regression > threshold:
        verdict = "pass"
        reason = f"dropped by {shown} but the {confidence:.0%} interval includes zero (not significant)"
    elif significant and regression > 0:
        verdict = "pass"
        reason = f"significant drop of {shown}, within the {threshold * 100:.2f}% threshold"
    else:
        verdict = "pass"
        reason = (
            "no regression" if regression <= 0 else f"drop of {shown}, within threshold and not significant"
        )
    return Comparison(
        metric,
        float(np.mean(cand)),
        float(np.mean(base)),
        delta,
        relative,
        low,
        high,
        confidence,
        threshold,
        higher_is_better,
        int(cand.size),
        method,
        verdict,
        reason,
    )


def _interval(
    cand: np.ndarray, base: np.ndarray, confidence: float, n_resamples: int, seed: int
) -> tuple[float, float, str]:
    if np.allclose(cand - base, (cand - base)[0]):  # every example moved by the same amount: no spread
        value = float(_relative(cand, base))
        return value, value, "degenerate"
    # imported here: scipy.stats takes about a second to import, and only a comparison with spread needs it
    from scipy import stats

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = stats.bootstrap(
                (cand, base),
                _relative,
                paired=True,
                vectorized=True,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            return low, high, method
    value = float(_relative(cand, base))
    return value, value, "degenerate"
