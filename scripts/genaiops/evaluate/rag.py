"""Eval of RAG configs: retrieval quality of the candidate config on its BEIR eval set, vs the baseline.

The eval set (``eval.corpus``/``queries``/``qrels``; the committed, stratified sample of the corpus
described by ``corpus.sampling``) is chunked and embedded with the *candidate* settings into a
temporary in-memory Qdrant collection (``genaiops.ragindex``; never the environment's store), every
query is searched, and ``genaiops.metrics.retrieval`` scores the ranking: recall@k, precision@k,
nDCG@k (linear gain) and MRR@k for every cut-off named in ``thresholds`` (``ndcg@5: 0.55`` is a
minimum) plus ``retrieval.top_k``. Per-query values go into the scorecard, so a promoted scorecard is
the next version's paired baseline; a regression beyond 2% whose interval excludes zero fails.

Embeddings: offline models (``genaiops/hash-embedding-<dim>``) run in-process; any other model goes
through the provider layer (OpenAI-compatible ``/v1/embeddings``, cached, recordable as cassettes).
Freshness is reported (``freshness_age_days``: days since the newest document of the sample); the SLA
(``freshness.max_age_days``) concerns the production index, which validate inspects, so here it is
information only.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from genaiops import beir, rules
from genaiops.discovery import Artifact
from genaiops.embeddings import embedder_for, is_offline_model
from genaiops.llm.provider import Provider
from genaiops.llm.types import EmbeddingRequest
from genaiops.metrics.retrieval import METRICS, evaluate
from genaiops.ragindex import RagSpec, build_index, search
from genaiops.report import ArtifactResult
from genaiops.scorecard import MetricResult, Scorecard
from genaiops.stages.runner import StageContext
from genaiops.vectorstore import connect

from .session import EvalSession, MetricSpec, file_digest

EVAL_SET_INVALID = rules.rule(
    "rag/eval-set-unusable",
    "eval",
    "The BEIR eval set cannot be used for retrieval eval (unreadable, empty, or dangling qrels).",
    "Run `genaiops lint` on the RAG config for each problem.",
)
_CUTOFF = re.compile(r"^(ndcg|recall|precision|mrr)@([1-9][0-9]{0,2})$")


class ProviderEmbedder:
    """``genaiops.embeddings.Embedder`` over the provider layer (for models that are not offline)."""

    def __init__(self, provider: Provider, model: str, batch_size: int = 64) -> None:
        self.provider, self.name, self.batch_size = provider, model, batch_size
        self.dimension = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        requests = [
            EmbeddingRequest(self.name, tuple(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        rows = [row for response in self.provider.embed_many(requests) for row in response.vectors]
        array = np.asarray(rows, dtype=np.float32)
        if array.size:
            self.dimension = int(array.shape[1])
        return array


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Evaluate one RAG config's retrieval on its eval set and attach the scorecard."""
    doc = ctx.manifest(artifact)
    spec = RagSpec.from_manifest(doc.data)
    paths = beir.Paths.from_manifest(doc.data)
    eval_set, problems = beir.load(artifact.root, artifact.repo, paths)
    errors = [p for p in problems if p.kind != "unjudged"]
    if errors or not eval_set.corpus or not eval_set.qrels:
        first = errors[0] if errors else None
        result.add(
            EVAL_SET_INVALID,
            first.message if first else "the eval set has no corpus or no qrels",
            file=first.file if first else doc.file,
            line=first.line if first else None,
        )
        return
    thresholds = doc.data.get("thresholds") if isinstance(doc.data.get("thresholds"), Mapping) else {}
    cutoffs = sorted(
        {spec.top_k} | {int(m.group(2)) for name in thresholds if (m := _CUTOFF.match(str(name)))}
    )
    session = EvalSession.open(artifact, result, ctx)
    try:
        _run(session, spec, eval_set, thresholds, cutoffs, paths)
    finally:
        session.close()


def _run(
    session: EvalSession,
    spec: RagSpec,
    eval_set: beir.EvalSet,
    thresholds: Mapping[str, Any],
    cutoffs: list[int],
    paths: beir.Paths,
) -> None:
    artifact = session.artifact
    embedder: Any = (
        embedder_for(spec.embedding_model)
        if is_offline_model(spec.embedding_model)
        else ProviderEmbedder(session.provider, spec.embedding_model, spec.batch_size)
    )
    if isinstance(embedder, ProviderEmbedder):  # learn the dimension before creating the collection
        embedder.embed(["dimension probe"])
    temporary = replace(spec, collection=f"genaiops-eval-{artifact.id}", alias=None, url=None)
    store = connect(None, timeout=spec.timeout)
    try:
        started = time.perf_counter()
        chunks = build_index(store, temporary, embedder, eval_set.corpus.values())
        indexed = time.perf_counter() - started
        judged = {q: text for q, text in eval_set.queries.items() if q in eval_set.qrels}
        started = time.perf_counter()
        run = search(store, temporary, embedder, judged, k=max(cutoffs))
        searched = time.perf_counter() - started
    finally:
        store.close()
    per_example: dict[str, dict[str, list[float]]] = {}
    order: list[str] = []
    for k in cutoffs:
        scores = evaluate(eval_set.qrels, run, k)
        for metric in METRICS:
            name = f"{metric}@{k}"
            order.append(name)
            per_example[name] = {qid: [value] for qid, value in scores.metric(metric).items()}
    specs = {
        str(name): MetricSpec(str(name), minimum=float(value))
        for name, value in thresholds.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    metrics = session.score(per_example, specs, order)
    newest = max((d.updated_at for d in eval_set.corpus.values() if d.updated_at), default=None)
    if newest is not None:
        age = (dt.datetime.now(dt.UTC).date() - newest).days
        metrics.append(MetricResult.absolute("freshness_age_days", float(age), higher_is_better=False))
        sla = (session.ctx.manifest(artifact).data.get("freshness") or {}).get("max_age_days")
        if isinstance(sla, (int, float)):
            session.notes.append(
                f"freshness SLA {sla} days applies to the production index (validate); the "
                f"eval sample's newest document is {age} days old"
            )
    session.result.metrics.update(
        {"indexed_documents": len(eval_set.corpus), "indexed_chunks": chunks, "queries": len(judged)}
    )
    session.result.timings.update(
        {"indexMs": round(indexed * 1000, 3), "searchMs": round(searched * 1000, 3)}
    )
    corpus_path = artifact.root / paths.corpus
    card = Scorecard(
        kind="rag",
        id=artifact.id,
        version=session.result.version,
        digest=session.result.digest,
        environment=session.ctx.options.get("env"),
        metrics=metrics,
        provenance={
            "embeddingModel": spec.embedding_model,
            "chunking": {"size": spec.chunk_size, "overlap": spec.overlap},
            "topK": spec.top_k,
            "cutoffs": cutoffs,
            "datasetDigest": file_digest(corpus_path),
            "dataset": artifact.rel(corpus_path),
            "ndcgGain": "linear (gain = qrels label), log2 discount",
            "ties": "score desc, doc id asc",
        },
        examples=[
            {
                "id": qid,
                "category": None,
                "scores": {name: per_example[name][qid] for name in order if qid in per_example[name]},
                "output": ", ".join(doc_id for doc_id, _ in run.get(qid, [])[: spec.top_k]),
            }
            for qid in sorted(judged)
        ],
    )
    session.publish(card)
