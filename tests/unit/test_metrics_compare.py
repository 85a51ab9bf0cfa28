"""Paired bootstrap comparison, repeats and the regression decision rule."""

from __future__ import annotations

import numpy as np
import pytest

from genaiops.metrics.compare import compare, nondeterminism, pair, per_example_means


def _baseline(n: int = 150, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.4, 1.0, n)


def test_clear_regression_fails_with_interval_excluding_zero() -> None:
    base = _baseline()
    cand = base * 0.9 + np.random.default_rng(4).normal(0, 0.01, base.size)
    result = compare("rougeL", cand, base)
    assert result.verdict == "fail"
    assert result.delta == pytest.approx(-0.1, abs=0.01)
    assert result.ci_high < 0
    assert "excludes zero" in result.reason


def test_noise_does_not_fail() -> None:
    base = _baseline()
    cand = base + np.random.default_rng(5).normal(0, 0.05, base.size)
    result = compare("rougeL", cand, base)
    assert result.verdict == "pass"
    assert result.ci_low < 0 < result.ci_high or abs(result.delta) < 0.02


def test_large_but_insignificant_drop_passes() -> None:
    base = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    cand = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])  # mean 1/3 vs 1/2: -33%, but 6 noisy examples
    result = compare("em", cand, base)
    assert result.regression > 0.02
    assert result.verdict == "pass"
    assert "not significant" in result.reason


def test_small_significant_drop_within_threshold_passes() -> None:
    base = _baseline()
    cand = base * 0.99
    result = compare("f1", cand, base, threshold=0.02)
    assert result.verdict == "pass"
    assert result.method == "degenerate" or result.ci_high < 0
    assert compare("f1", cand, base, threshold=0.005).verdict == "fail"


def test_lower_is_better_metrics_fail_when_they_rise() -> None:
    base = _baseline()
    cand = base * 1.2 + np.random.default_rng(6).normal(0, 0.01, base.size)
    assert compare("latency_p95", cand, base, higher_is_better=False).verdict == "fail"
    assert compare("latency_p95", base * 0.8, base, higher_is_better=False).verdict == "pass"


def test_seeded_interval_is_reproducible() -> None:
    base = _baseline()
    cand = base + np.random.default_rng(8).normal(-0.01, 0.05, base.size)
    one, two = compare("m", cand, base, seed=1), compare("m", cand, base, seed=1)
    assert (one.ci_low, one.ci_high) == (two.ci_low, two.ci_high)


def test_repeats_are_averaged_and_measured() -> None:
    repeats = [[1.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.5, 0.5, 0.5], [0.2, 0.4, 0.6]]
    assert per_example_means(repeats).tolist() == pytest.approx([1.0, 2 / 3, 0.5, 0.4])
    spread = nondeterminism(repeats)
    assert spread.repeats == 3
    assert spread.unstable_fraction == pytest.approx(0.5)
    assert spread.mean_std > 0
    assert nondeterminism([[1.0], [0.0]]).unstable_fraction == 0.0


def test_zero_baseline_uses_absolute_difference() -> None:
    result = compare("bypass", [0.0, 0.5, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0], higher_is_better=False)
    assert not result.relative
    assert result.delta == pytest.approx(0.25)


def test_pairing_by_example_id() -> None:
    ids, cand, base = pair({"a": 1, "b": 2, "c": 3}, {"b": 20, "c": 30, "d": 40})
    assert (ids, cand, base) == (["b", "c"], [2, 3], [20, 30])


@pytest.mark.parametrize(
    "cand, base, message",
    [
        ([1.0, 2.0], [1.0], "pair them"),
        ([1.0], [1.0], "at least 2"),
        ([1.0, float("nan")], [1.0, 1.0], "finite"),
    ],
)
def test_bad_inputs(cand: list, base: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare("m", cand, base)
