"""Validate of RAG configs: the vector store is there, holds the right vectors, and answers in time.

Which store (docs/artifacts/rag.md#validate): the target environment's ``vectorStore.url``
(environments/<env>/settings.yaml) when it is a server URL, else the artifact's ``vector_store.url``;
empty or ``embedded`` means Qdrant's local mode. In local mode genaiops first builds the index from the
artifact's eval corpus (chunk, embed with the offline model, create the collection, point the alias),
so the checks below run on a real collection; a server is only inspected, never written.

Checks (rule ids in docs/rules.md):
- ``rag/embedding-unavailable``: the embedding model is a catalog embedding model available in the
  target environment, and, for the embedded store, one genaiops can run offline;
- ``rag/eval-set-invalid``: the eval set loads (lint reports the details);
- ``rag/collection-missing``: the alias (or, without one, the collection) exists;
- ``rag/dimension-mismatch``: the collection's vector size equals the model's embedding dimension;
- ``rag/empty-collection``: the collection holds points and a sample query returns hits;
- ``rag/query-latency``: the median of three sample queries is within ``retrieval.max_latency_ms``.
A server that is unreachable or does not answer within ``vector_store.timeout_seconds`` is an
InfraError (exit 3).
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from typing import TYPE_CHECKING

import numpy as np

from genaiops import beir, rules
from genaiops.catalog import ModelEntry, load_catalog
from genaiops.embeddings import EmbeddingUnavailable, embedder_for, is_offline_model
from genaiops.errors import UsageError
from genaiops.ragindex import RagSpec, build_index
from genaiops.trusted import vector_store_key_env
from genaiops.validate.environment import _settings, resolve_target
from genaiops.vectorstore import VectorStore, connect, is_embedded

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument
    from genaiops.stages.runner import StageContext

DOCS = "See docs/artifacts/rag.md#validate."
EMBEDDING_UNAVAILABLE = rules.rule(
    "rag/embedding-unavailable",
    "validate",
    "The embedding model is not a catalog embedding model available in the target environment, or the "
    "embedded vector store needs an offline model (genaiops/hash-embedding-*) to build its index.",
    DOCS,
)
EVAL_SET_INVALID = rules.rule(
    "rag/eval-set-invalid",
    "validate",
    "The BEIR eval set does not load, so the embedded index cannot be built.",
    "Run `genaiops lint` on the artifact for the details.",
)
COLLECTION_MISSING = rules.rule(
    "rag/collection-missing",
    "validate",
    "The vector store has neither the configured alias nor the collection.",
    "Create and index the collection (promotion does it) or fix the names.",
)
DIMENSION_MISMATCH = rules.rule(
    "rag/dimension-mismatch",
    "validate",
    "The collection's vector size differs from the embedding model's dimension.",
    "Re-index with the configured embedding model, or fix embedding.model.",
)
EMPTY_COLLECTION = rules.rule(
    "rag/empty-collection",
    "validate",
    "The collection has no points, or a sample query returns nothing.",
    "Index the corpus before pointing the alias at the collection.",
)
QUERY_LATENCY = rules.rule(
    "rag/query-latency",
    "validate",
    "Sample queries take longer than retrieval.max_latency_ms (median of three).",
    "Scale the vector store, tune HNSW, or raise the bound if it is unrealistic.",
)
SAMPLE_QUERIES = 3


def store_url(data_url: str | None, ctx: StageContext) -> str | None:
    """The server URL to check, or None for the embedded store (see the module doc)."""
    target = resolve_target(ctx)
    if target.listed:
        settings = _settings(ctx.project.root, target.name)
        section = settings.get("vectorStore") or {}
        env_url = section.get("url") if isinstance(section, dict) else None
        if env_url is not None and not isinstance(env_url, str):
            raise UsageError(f"environments/{target.name}/settings.yaml: vectorStore.url must be a string")
        if env_url and not is_embedded(env_url):
            return env_url.strip()
    return None if is_embedded(data_url) else str(data_url).strip()


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Validate one RAG config against its vector store."""
    doc = ctx.manifest(artifact)
    spec = RagSpec.from_manifest(doc.data)
    entry = _embedding_entry(doc, artifact, spec, result, ctx)
    if entry is None or entry.embedding_dimension is None:
        return
    url = store_url(spec.url, ctx)
    result.details["vector_store"] = url or "embedded"
    if url is None:
        store = _embedded_store(doc, artifact, spec, result)
        if store is None:
            return
    else:
        api_key = _api_key(doc, artifact, url)
        store = connect(url, timeout=spec.timeout, api_key=api_key)
    try:
        _inspect(store, doc, spec, entry.embedding_dimension, result)
    finally:
        store.close()


def _embedding_entry(
    doc: YamlDocument, artifact: Artifact, spec: RagSpec, result: ArtifactResult, ctx: StageContext
) -> ModelEntry | None:
    line = doc.line_of(["embedding", "model"])
    entry = load_catalog(artifact.repo).get(spec.embedding_model)
    if entry is None or entry.type != "embedding" or entry.embedding_dimension is None:
        result.add(
            EMBEDDING_UNAVAILABLE,
            f"{spec.embedding_model!r} is not an embedding model of the catalog with an embedding_dimension",
            file=doc.file,
            line=line,
        )
        return None
    target = resolve_target(ctx)
    if target.listed and not entry.available_in(target.name):
        result.add(
            EMBEDDING_UNAVAILABLE,
            f"embedding model {spec.embedding_model!r} is not available in "
            f"environment {target.name!r} (catalog: {', '.join(entry.environments)})",
            file=doc.file,
            line=line,
        )
        return None
    return entry


def _api_key(doc: YamlDocument, artifact: Artifact, url: str) -> str | None:
    """The vector store's key, unless a trusted commit says it may not go to ``url`` (trusted.py)."""
    name = vector_store_key_env(
        artifact.repo, f"{artifact.relpath}/{artifact.kind.manifest}", doc.data["vector_store"], url
    )
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        raise UsageError(f"environment variable {name} (vector_store.api_key_env) is not set")
    return value


def _embedded_store(
    doc: YamlDocument, artifact: Artifact, spec: RagSpec, result: ArtifactResult
) -> VectorStore | None:
    """An in-memory Qdrant indexed from the eval corpus, or None (with a finding) if it cannot be built."""
    try:
        embedder = embedder_for(spec.embedding_model)
    except EmbeddingUnavailable as exc:
        result.add(
            EMBEDDING_UNAVAILABLE,
            f"the embedded vector store is built offline, but {exc}",
            file=doc.file,
            line=doc.line_of(["embedding", "model"]),
        )
        return None
    eval_set, problems = beir.load(artifact.root, artifact.repo, beir.Paths.from_manifest(doc.data))
    errors = [p for p in problems if p.kind != "unjudged"]
    if errors or not eval_set.corpus:
        first = errors[0].message if errors else "the corpus is empty"
        result.add(
            EVAL_SET_INVALID,
            f"cannot build the embedded index: {first} ({len(errors)} problem(s))",
            file=errors[0].file if errors else doc.file,
            line=errors[0].line if errors else None,
        )
        return None
    store = connect(None, timeout=spec.timeout)
    started = time.perf_counter()
    chunks = build_index(store, spec, embedder, eval_set.corpus.values())
    result.metrics["indexed_documents"] = len(eval_set.corpus)
    result.metrics["indexed_chunks"] = chunks
    result.timings["indexMs"] = round((time.perf_counter() - started) * 1000, 3)
    result.details["sample_query"] = next(iter(eval_set.queries.values()), None)
    return store


def _probe_vector(text: str | None, model: str, dimension: int) -> np.ndarray:
    """The sample query's vector: the real embedding when the model runs offline, else a fixed unit vector."""
    if text and is_offline_model(model):
        return embedder_for(model).embed([text])[0]
    seed = int.from_bytes(hashlib.blake2b(model.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dimension)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _inspect(
    store: VectorStore, doc: YamlDocument, spec: RagSpec, dimension: int, result: ArtifactResult
) -> None:
    name = spec.query_name
    collection = store.resolve(name)
    key = "alias" if spec.alias else "collection"
    if collection is None:
        result.add(
            COLLECTION_MISSING,
            f"{store.location} has no {key} {name!r} (collections: "
            f"{', '.join(store.collections()) or 'none'})",
            file=doc.file,
            line=doc.line_of(["vector_store", key]),
        )
        return
    result.details["collection"] = collection
    sizes = store.dimensions(collection)
    result.metrics["vector_dimension"] = sizes.get("", next(iter(sizes.values()), 0))
    if set(sizes.values()) != {dimension}:
        shown = ", ".join(f"{k or 'default'}={v}" for k, v in sizes.items()) or "none"
        result.add(
            DIMENSION_MISMATCH,
            f"collection {collection!r} stores vectors of size {shown}, but "
            f"{spec.embedding_model} embeds to {dimension}",
            file=doc.file,
            line=doc.line_of(["embedding", "model"]),
        )
        return
    points = store.count(collection)
    result.metrics["points"] = points
    vector = _probe_vector(result.details.get("sample_query"), spec.embedding_model, dimension)
    timings: list[float] = []
    hits = []
    for _ in range(SAMPLE_QUERIES):
        started = time.perf_counter()
        hits = store.query(name, vector, spec.top_k)
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    result.metrics["sample_query_ms"] = round(median, 3)
    result.metrics["sample_query_hits"] = len(hits)
    if points == 0 or not hits:
        result.add(
            EMPTY_COLLECTION,
            f"collection {collection!r} has {points} point(s) and the sample query "
            f"returned {len(hits)} hit(s)",
            file=doc.file,
            line=doc.line_of(["vector_store", key]),
        )
    if median > spec.max_latency_ms:
        result.add(
            QUERY_LATENCY,
            f"sample queries took {median:.1f} ms (median of {SAMPLE_QUERIES}), above "
            f"retrieval.max_latency_ms {spec.max_latency_ms:g}",
            file=doc.file,
            line=doc.line_of(["retrieval", "max_latency_ms"]),
        )
