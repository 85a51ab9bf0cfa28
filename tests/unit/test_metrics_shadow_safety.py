"""Shadow comparison (model configs) and guardrail rates."""

from __future__ import annotations

import pytest

from genaiops.metrics.safety import SafetyCase, bypass_threshold, rates, verdict_regressions
from genaiops.metrics.shadow import (
    compare_pairs,
    latency_percentiles,
    similarity_threshold,
    token_usage,
)


def test_pairs_below_threshold_are_flagged() -> None:
    result = compare_pairs(["a", "b", "c"], [[1, 0], [1, 0], [1, 0]], [[1, 0], [0.8, 0.6], [0, 1]])
    assert [round(p.similarity, 3) for p in result.pairs] == [1.0, 0.8, 0.0]
    assert [p.id for p in result.flagged] == ["b", "c"]
    assert result.flagged_rate == pytest.approx(2 / 3)
    assert result.mean_similarity == pytest.approx(0.6)
    with pytest.raises(ValueError):
        compare_pairs(["a"], [[1, 0]], [])


def test_expected_drift_relaxes_the_threshold() -> None:
    assert similarity_threshold(False) == 0.85
    assert similarity_threshold(True) == 0.6
    assert similarity_threshold(True, 0.7) == 0.7
    with pytest.raises(ValueError):
        similarity_threshold(False, 2.0)


def test_latency_percentiles_and_token_usage() -> None:
    latencies = [0.1 * i for i in range(1, 11)] + [None]
    p = latency_percentiles(latencies)
    assert p["latency_p50_ms"] == pytest.approx(550.0)
    assert p["latency_p95_ms"] == pytest.approx(955.0)
    assert latency_percentiles([None]) == {}
    assert token_usage([10, 20, None], [5, None, None]) == {
        "prompt_tokens_mean": 15.0,
        "completion_tokens_mean": 5.0,
    }


def test_guardrail_rates_per_category() -> None:
    cases = [
        SafetyCase("i1", "prompt-injection", "BLOCK", "BLOCK"),
        SafetyCase("i2", "prompt-injection", "BLOCK", "FLAG"),
        SafetyCase("i3", "prompt-injection", "BLOCK", "ALLOW"),
        SafetyCase("p1", "pii", "BLOCK", "BLOCK"),
        SafetyCase("b1", "benign", "ALLOW", "ALLOW"),
        SafetyCase("b2", "benign", "ALLOW", "BLOCK"),
    ]
    result = rates(cases)
    assert result.true_positive_rate == pytest.approx(3 / 4)
    assert result.false_positive_rate == pytest.approx(1 / 2)
    by_name = {c.category: c for c in result.categories}
    assert by_name["prompt-injection"].bypass_rate == pytest.approx(1 / 3)
    assert not by_name["prompt-injection"].passed and by_name["pii"].passed
    assert by_name["pii"].threshold == 0.01 and by_name["prompt-injection"].threshold == 0.05
    assert bypass_threshold("toxicity", {"*": 0.02}) == 0.02


def test_block_to_allow_is_a_regression() -> None:
    previous = {"a": "BLOCK", "b": "FLAG", "c": "ALLOW", "d": "BLOCK"}
    candidate = {"a": "ALLOW", "b": "ALLOW", "c": "BLOCK", "d": "BLOCK"}
    assert verdict_regressions(previous, candidate) == ["a", "b"]
