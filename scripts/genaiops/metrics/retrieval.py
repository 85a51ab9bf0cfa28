"""Retrieval metrics through pytrec_eval (the trec_eval reference implementation), ties broken explicitly.

Metrics at a cut-off k, averaged over the queries of the qrels:

* ``recall@k`` - relevant documents retrieved in the top k / relevant documents (trec_eval ``recall_k``);
* ``precision@k`` - relevant documents in the top k / k (``P_k``; a short ranking still divides by k);
* ``ndcg@k`` - trec_eval ``ndcg_cut_k``: **linear gain** (gain = the graded relevance label, not
  2^rel - 1), discount log2(rank + 1), ideal ranking from the qrels;
* ``mrr@k`` - reciprocal rank of the first relevant document within the top k (``recip_rank`` on the
  ranking truncated to k), 0 when none.

A document is relevant when its qrels label is >= 1. Ties: trec_eval orders equal scores by document id
*descending*, which makes results depend on id spelling; genaiops sorts each ranking by score
descending, then document id ascending, and hands pytrec_eval strictly decreasing rank scores, so the
order evaluated is exactly the documented one. Queries of the qrels that the run does not answer score 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytrec_eval

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Iterable[tuple[str, float]]]
METRICS = ("recall", "precision", "ndcg", "mrr")
_TREC = {"recall": "recall_{k}", "precision": "P_{k}", "ndcg": "ndcg_cut_{k}", "mrr": "recip_rank"}
_MEASURES = {"recall": "recall.{k}", "precision": "P.{k}", "ndcg": "ndcg_cut.{k}", "mrr": "recip_rank"}


def rank(results: Iterable[tuple[str, float]], k: int | None = None) -> list[str]:
    """Document ids by score descending, ties by id ascending; the top k when k is given."""
    ordered = sorted(results, key=lambda item: (-float(item[1]), str(item[0])))
    ids: list[str] = []
    seen: set[str] = set()
    for doc, _ in ordered:  # a document listed twice keeps its best position
        if doc not in seen:
            seen.add(doc)
            ids.append(str(doc))
    return ids if k is None else ids[:k]


@dataclass(frozen=True)
class RetrievalScores:
    """Per-query values and their means for one cut-off."""

    k: int
    per_query: dict[str, dict[str, float]]

    @property
    def means(self) -> dict[str, float]:
        if not self.per_query:
            return {f"{m}@{self.k}": 0.0 for m in METRICS}
        return {
            f"{m}@{self.k}": sum(q[m] for q in self.per_query.values()) / len(self.per_query) for m in METRICS
        }

    def metric(self, name: str) -> dict[str, float]:
        """One metric per query (e.g. for a paired bootstrap against a baseline)."""
        return {qid: values[name] for qid, values in self.per_query.items()}


def evaluate(qrels: Qrels, run: Run, k: int = 10) -> RetrievalScores:
    """recall@k, precision@k, nDCG@k (linear gain) and MRR@k per query of ``qrels``."""
    if k < 1:
        raise ValueError("k must be at least 1")
    clean_qrels = {str(q): {str(d): int(rel) for d, rel in docs.items()} for q, docs in qrels.items() if docs}
    trec_run: dict[str, dict[str, float]] = {}
    for qid, results in run.items():
        if str(qid) not in clean_qrels:
            continue
        ranked = rank(results, k)
        if ranked:
            trec_run[str(qid)] = {doc: float(len(ranked) - position) for position, doc in enumerate(ranked)}
    measures = {template.format(k=k) for template in _MEASURES.values()}
    evaluator = pytrec_eval.RelevanceEvaluator(clean_qrels, measures)
    computed = evaluator.evaluate(trec_run) if trec_run else {}
    per_query: dict[str, dict[str, float]] = {}
    for qid in sorted(clean_qrels):
        values = computed.get(qid, {})
        per_query[qid] = {name: float(values.get(key.format(k=k), 0.0)) for name, key in _TREC.items()}
    return RetrievalScores(k, per_query)
