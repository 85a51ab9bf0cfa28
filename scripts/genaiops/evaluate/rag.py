"""Eval of RAG configs: retrieval quality of the candidate config on its BEIR eval set, vs the baseline.

The documents indexed (``genaiops.evaluate.ragsample``): with ``corpus.path`` (the production corpus,
a JSONL file or a folder of them) a seeded sample of ``corpus.sampling.fraction`` (5-10%) of every
document type plus every document the qrels judge; without it the committed eval corpus
(``eval.corpus``, drawn when the eval set was built). They are chunked and embedded with the
*candidate* settings into a temporary in-memory Qdrant collection (``genaiops.ragindex``; never the
environment's store), every judged query is searched, and ``genaiops.metrics.retrieval`` scores the
ranking: recall@k, precision@k, nDCG@k (linear gain) and MRR@k for every cut-off named in
``thresholds`` (``ndcg@5: 0.55`` is a minimum) plus ``retrieval.top_k``. Per-query values go into the
scorecard, so a promoted scorecard is the next version's paired baseline; a regression beyond 2%
whose interval excludes zero fails. The sample size per type is in ``provenance.sample``.

With ``eval.generator`` (``genaiops.evaluate.raganswer``) the same temporary index also serves a
generator prompt, and end-to-end answer quality (``answer_token_f1``, ``answer_rouge_l``,
``answer_context_hit``) joins the scorecard.

Embeddings: offline models (``genaiops/hash-embedding-<dim>``) run in-process; any other model goes
through the provider layer (OpenAI-compatible ``/v1/embeddings``, cached, recordable as cassettes).
Freshness is reported (``freshness_age_days``: days since the newest indexed document); the SLA
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
from genaiops.errors import ArtifactError
from genaiops.llm.provider import Provider
from genaiops.llm.types import EmbeddingRequest
from genaiops.metrics.retrieval import METRICS, evaluate
from genaiops.ragindex import RagSpec, build_index, search
from genaiops.report import ArtifactResult
from genaiops.scorecard import MetricResult, Scorecard
from genaiops.stages.runner import StageContext
from genaiops.vectorstore import connect

from . import raganswer, ragsample
from .session import EvalSession, MetricSpec, file_digest

EVAL_SET_INVALID = rules.rule(
    "rag/eval-set-unusable",
    "eval",
    "The BEIR eval set cannot be used for retrieval eval (unreadable, empty, or dangling qrels).",
    "Run `genaiops lint` on the RAG config for each problem.",
)
CORPUS_UNUSABLE = rules.rule(
    "rag/eval-corpus-unusable",
    "eval",
    "The document corpus named by corpus.path cannot be sampled (missing, unreadable, malformed or "
    "duplicate documents).",
    "Fix the corpus files, or remove corpus.path to index the committed eval corpus.",
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
    sample = _sample(artifact, result, doc.data, eval_set, paths, doc.file)
    if sample is None:
        return
    generator_cfg = raganswer.configured(doc.data)
    generator = raganswer.load(artifact, generator_cfg, result) if generator_cfg else None
    if generator is None and any(f.rule_id == raganswer.GENERATOR_UNUSABLE for f in result.findings):
        return  # a broken generator fails the eval; a skipped one (warning) leaves retrieval eval to run
    session = EvalSession.open(artifact, result, ctx)
    try:
        _run(session, spec, eval_set, sample, generator, thresholds, cutoffs, paths)
    finally:
        session.close()


def _sample(
    artifact: Artifact,
    result: ArtifactResult,
    data: Mapping[str, Any],
    eval_set: beir.EvalSet,
    paths: beir.Paths,
    manifest_file: str,
) -> ragsample.Sample | None:
    """The documents to index: a stratified sample of ``corpus.path`` plus the judged documents, or
    the committed eval corpus; None (with a finding) when the corpus cannot be read."""
    corpus_cfg = data.get("corpus") if isinstance(data.get("corpus"), Mapping) else {}
    assert isinstance(corpus_cfg, Mapping)
    rel = corpus_cfg.get("path")
    if not isinstance(rel, str) or not rel:
        return ragsample.whole(eval_set, f"{paths.corpus} (committed eval sample)")
    try:
        corpus, problems = ragsample.load_corpus(artifact.root, artifact.repo, rel)
    except ArtifactError as exc:
        result.add(CORPUS_UNUSABLE, str(exc), file=manifest_file)
        return None
    if problems or not corpus:
        first = problems[0] if problems else None
        result.add(
            CORPUS_UNUSABLE,
            first.message if first else f"corpus.path {rel} holds no document",
            file=first.file if first else manifest_file,
            line=first.line if first else None,
        )
        return None
    sampling = corpus_cfg.get("sampling") if isinstance(corpus_cfg.get("sampling"), Mapping) else {}
    assert isinstance(sampling, Mapping)
    seed = sampling.get("seed")
    types = corpus_cfg.get("document_types")
    sample = ragsample.draw(
        eval_set,
        corpus,
        fraction=ragsample.clamp_fraction(sampling.get("fraction")),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else ragsample.DEFAULT_SEED,
        types=[str(t) for t in types] if isinstance(types, list) else [],
        source=rel,
    )
    return sample


def _run(
    session: EvalSession,
    spec: RagSpec,
    eval_set: beir.EvalSet,
    sample: ragsample.Sample,
    generator: raganswer.Generator | None,
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
        chunks = build_index(store, temporary, embedder, sample.documents.values())
        indexed = time.perf_counter() - started
        judged = {q: text for q, text in eval_set.queries.items() if q in eval_set.qrels}
        started = time.perf_counter()
        run = search(store, temporary, embedder, judged, k=max(cutoffs))
        searched = time.perf_counter() - started
        answers = (
            raganswer.run(
                session,
                generator,
                lambda questions: search(store, temporary, embedder, questions),
                sample.documents,
                spec.top_k,
            )
            if generator is not None
            else None
        )
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
    examples = [
        {
            "id": qid,
            "category": None,
            "scores": {name: per_example[name][qid] for name in order if qid in per_example[name]},
            "output": ", ".join(doc_id for doc_id, _ in run.get(qid, [])[: spec.top_k]),
        }
        for qid in sorted(judged)
    ]
    if answers is not None and generator is not None:
        for name in raganswer.METRICS:
            if name in answers.per_example:
                order.append(name)
                per_example[name] = answers.per_example[name]
                specs[name] = answers.specs[name]
        examples += [
            {
                "id": q.id,
                "category": q.category or "answer",
                "scores": {
                    name: answers.per_example[name][q.id]
                    for name in raganswer.METRICS
                    if q.id in answers.per_example.get(name, {})
                },
                "output": answers.outputs.get(q.id, ""),
            }
            for q in generator.questions
        ]
    metrics = session.score(per_example, specs, order)
    session.notes.extend(sample.notes)
    newest = max((d.updated_at for d in sample.documents.values() if d.updated_at), default=None)
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
        {"indexed_documents": len(sample.documents), "indexed_chunks": chunks, "queries": len(judged)}
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
            "sample": sample.provenance(),
            **(
                {
                    "generator": {
                        "prompt": generator.prompt_id,
                        "model": generator.model,
                        "dataset": artifact.rel(generator.dataset),
                        "datasetDigest": file_digest(generator.dataset),
                        "questions": len(generator.questions),
                    }
                }
                if generator is not None
                else {}
            ),
        },
        examples=examples,
    )
    session.publish(card)
