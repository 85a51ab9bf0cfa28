"""Scorecard model and its Markdown/HTML renderings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np

from genaiops.metrics.compare import compare
from genaiops.scorecard import GITHUB_COMMENT_LIMIT, Baseline, MetricResult, Scorecard, combined_markdown


def _card(
    examples: int = 3, *, baseline: bool = True, synthetic: bool = False, regress: bool = False
) -> Scorecard:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 1.0, 100)
    cand = base * (0.9 if regress else 1.0) + rng.normal(0, 0.005, 100)
    metrics = [MetricResult.from_comparison(compare("rougeL", cand, base))] if baseline else []
    metrics.append(MetricResult.absolute("exact_match", 0.4, minimum=0.5))
    metrics.append(
        MetricResult.absolute(
            "bypass_rate", 0.03, maximum=0.05, higher_is_better=False, category="prompt-injection"
        )
    )
    cassette = {
        "file": "artifacts/prompts/x/eval/cassettes/m.jsonl",
        "model": "m",
        "endpoint": "http://127.0.0.1:1/v1",
        "recordedAt": "2026-11-22T00:00:00+00:00",
        "genaiopsVersion": "0.1.0",
        "synthetic": synthetic,
        "syntheticReason": "hand-written example" if synthetic else None,
    }
    return Scorecard(
        kind="prompt",
        id="summarise",
        version="1.2.0",
        digest="sha256:abc",
        environment="staging",
        metrics=metrics,
        baseline=Baseline("environments/prod/scorecards/prompt/summarise.json", "1.1.0")
        if baseline
        else None,
        provenance={
            "mode": "replay",
            "calls": 0,
            "cacheHits": 0,
            "cassettes": [cassette],
            "synthetic": synthetic,
        },
        nondeterminism={"repeats": 3, "unstableFraction": 0.1, "meanStd": 0.02},
        examples=[
            {"id": f"ex-{i}", "category": "faq", "scores": {"rougeL": [0.5, 0.6, 0.7], "em": 1.0}}
            for i in range(examples)
        ],
    )


def test_json_round_trip_keeps_everything() -> None:
    card = _card(regress=True)
    data = json.loads(json.dumps(card.to_json()))
    again = Scorecard.from_json(data)
    assert again.to_json() == card.to_json()
    assert data["artifact"] == {
        "kind": "prompt",
        "id": "summarise",
        "version": "1.2.0",
        "digest": "sha256:abc",
    }
    rouge = data["metrics"][0]
    assert rouge["verdict"] == "fail" and rouge["ci"][1] < 0 and rouge["threshold"] == 0.02
    assert again.example_scores("em") == {"ex-0": 1.0, "ex-1": 1.0, "ex-2": 1.0}


def test_verdict_fails_on_regression_or_absolute_bound() -> None:
    assert _card(regress=True).verdict == "fail"
    card = _card()
    assert [m.name for m in card.failures] == ["exact_match"]  # below its absolute minimum
    assert "below the minimum" in card.failures[0].reason
    assert MetricResult.absolute("latency_p95", 1.2).verdict == "info"


def test_no_baseline_is_stated() -> None:
    card = _card(baseline=False)
    assert card.to_json()["baselineNote"] == "no baseline: absolute thresholds"
    assert "**No baseline**: absolute thresholds apply." in card.to_markdown()


def test_synthetic_cassettes_are_flagged_everywhere() -> None:
    card = _card(synthetic=True)
    assert card.to_json()["synthetic"] is True
    assert "Synthetic responses" in card.to_markdown() and "hand-written example" in card.to_markdown()
    assert "Synthetic responses" in card.to_html()
    assert "Synthetic" not in _card().to_markdown()


def test_markdown_shows_metric_interval_threshold_and_reason() -> None:
    text = _card(regress=True).to_markdown()
    row = next(line for line in text.splitlines() if line.startswith("| rougeL"))
    assert "-10." in row and "[-" in row and "max drop 2.00%" in row and "fail" in row
    assert "- **rougeL**: regressed by" in text


def test_markdown_stays_under_github_limit_with_many_examples() -> None:
    card = _card(examples=20_000)
    text = card.to_markdown()
    assert len(text) <= 60_000 < GITHUB_COMMENT_LIMIT
    assert "more examples in the JSON scorecard" in text
    assert text.rstrip().endswith("</details>")
    assert text.count("<details>") == text.count("</details>")
    assert len(card.to_markdown(max_chars=10**6)) <= GITHUB_COMMENT_LIMIT


def test_combined_markdown_shares_the_budget() -> None:
    text = combined_markdown([_card(examples=5000), _card(examples=5000)], max_chars=30_000)
    assert len(text) <= 30_000
    assert text.count("### ") == 2


def test_markdown_and_html_escape_untrusted_text() -> None:
    card = _card()
    card.examples = [{"id": "<script>alert(1)</script>|x", "scores": {"em": 0.0}}]
    card.metrics.append(MetricResult.absolute("<img src=x>", 0.5))
    md, page = card.to_markdown(), card.to_html()
    assert "<script>" not in md and "<img" not in md
    assert "<script" not in page and "<img" not in page


def test_html_is_self_contained_with_svg_plots() -> None:
    page = _card(regress=True).to_html()
    assert page.count("<svg") == 3  # forest plot, values, per-category bars
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "http://127.0.0.1:1/v1", ""
    )
    for svg in page.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed XML


def test_regression_and_absolute_bound_are_both_reported() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0.6, 1.0, 50)
    metric = MetricResult.from_comparison(compare("ndcg@5", base * 0.5, base), minimum=0.55)
    assert metric.verdict == "fail"
    assert metric.reason.startswith("regressed by") and "below the minimum 0.55" in metric.reason
