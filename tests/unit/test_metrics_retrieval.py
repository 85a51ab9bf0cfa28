"""Retrieval metrics through pytrec_eval, with hand-computed expectations and explicit tie-breaking."""

from __future__ import annotations

import math

import pytest

from genaiops.metrics.retrieval import evaluate, rank


def test_ties_break_by_document_id_ascending() -> None:
    assert rank([("d2", 0.5), ("d1", 0.5), ("d3", 0.9)]) == ["d3", "d1", "d2"]
    assert rank([("b", 1.0), ("a", 1.0)], k=1) == ["a"]
    assert rank([("a", 0.1), ("a", 0.9), ("b", 0.5)]) == ["a", "b"]


def test_metrics_match_hand_computation_with_linear_gain() -> None:
    qrels = {"q1": {"d1": 1, "d2": 2}, "q2": {"d9": 1}}
    run = {"q1": [("d3", 0.9), ("d2", 0.5), ("d1", 0.5)]}
    scores = evaluate(qrels, run, k=2)
    q1 = scores.per_query["q1"]
    # top 2 after tie-breaking: d3 (not relevant), d1 (rel 1)
    assert q1["recall"] == pytest.approx(0.5)
    assert q1["precision"] == pytest.approx(0.5)
    assert q1["mrr"] == pytest.approx(0.5)
    dcg = 1 / math.log2(3)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)  # linear gain: the label itself, not 2**rel - 1
    assert q1["ndcg"] == pytest.approx(dcg / ideal)
    # q2 has no results: it still counts, with zeros
    assert scores.per_query["q2"] == {"recall": 0.0, "precision": 0.0, "ndcg": 0.0, "mrr": 0.0}
    assert scores.means["recall@2"] == pytest.approx(0.25)


def test_mrr_is_cut_at_k() -> None:
    qrels = {"q": {"rel": 1}}
    run = {"q": [("x", 3.0), ("y", 2.0), ("rel", 1.0)]}
    assert evaluate(qrels, run, k=2).per_query["q"]["mrr"] == 0.0
    assert evaluate(qrels, run, k=3).per_query["q"]["mrr"] == pytest.approx(1 / 3)


def test_perfect_ranking_scores_one() -> None:
    qrels = {"q": {"a": 2, "b": 1}}
    scores = evaluate(qrels, {"q": [("a", 0.9), ("b", 0.8)]}, k=2)
    assert scores.means == {"recall@2": 1.0, "precision@2": 1.0, "ndcg@2": 1.0, "mrr@2": 1.0}
    assert scores.metric("ndcg") == {"q": 1.0}


def test_bad_cutoff() -> None:
    with pytest.raises(ValueError):
        evaluate({"q": {"a": 1}}, {}, k=0)
