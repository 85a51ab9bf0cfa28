"""Build and search a RAG artifact's index: chunk, embed, upsert into Qdrant, query by document.

Shared by RAG validate (the embedded default needs an index to inspect), eval (retrieval metrics on
the BEIR eval set) and promote. Chunking follows the artifact's ``chunking.size``/``overlap`` in
tokens, estimated like the catalog's ``char-estimate`` tokenizer (ceil(characters / 3), spaces
included) on whitespace-separated words: a chunk is the longest run of whole words that fits the
size, and the next chunk starts so that about ``overlap`` tokens of words are repeated. A single
word longer than the size becomes its own chunk.

    spec = RagSpec.from_manifest(doc.data)
    store = vectorstore.connect(None)
    build_index(store, spec, embedder, eval_set.corpus.values())      # collection + alias
    run = search(store, spec, embedder, eval_set.queries)             # {query id: [(doc id, score)]}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genaiops.beir import Document
from genaiops.embeddings import Embedder
from genaiops.vectorstore import Point, VectorStore

CHARS_PER_TOKEN = 3
CHUNK_FETCH_FACTOR = 4
"""Chunks fetched per wanted document when ranking documents (several chunks may share one)."""


@dataclass(frozen=True)
class RagSpec:
    """What indexing and search need from a schema-valid rag.yaml."""

    embedding_model: str
    chunk_size: int
    overlap: int
    top_k: int
    collection: str
    alias: str | None
    distance: str = "cosine"
    url: str | None = None
    timeout: float = 10.0
    score_threshold: float | None = None
    max_latency_ms: float = 500.0
    batch_size: int = 64

    @property
    def query_name(self) -> str:
        """The name queries use: the alias when there is one."""
        return self.alias or self.collection

    @classmethod
    def from_manifest(cls, data: Mapping[str, Any]) -> RagSpec:
        store, retrieval = data["vector_store"], data["retrieval"]
        return cls(
            embedding_model=data["embedding"]["model"],
            chunk_size=data["chunking"]["size"],
            overlap=data["chunking"]["overlap"],
            top_k=retrieval["top_k"],
            collection=store["collection"],
            alias=store.get("alias"),
            distance=store.get("distance", "cosine"),
            url=store.get("url"),
            timeout=float(store.get("timeout_seconds", 10)),
            score_threshold=retrieval.get("score_threshold"),
            max_latency_ms=float(retrieval.get("max_latency_ms", 500)),
            batch_size=int(data["embedding"].get("batch_size", 64)),
        )


def estimate_tokens(text: str) -> int:
    """The char-estimate token count of ``text``."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def chunk_text(text: str, size: int, overlap: int) -> list[str]:
    """Split ``text`` into overlapping word windows of at most ``size`` estimated tokens."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"chunk size {size} and overlap {overlap}: need size >= 1 and 0 <= overlap < size")
    words = text.split()
    costs = [estimate_tokens(w + " ") for w in words]
    chunks: list[str] = []
    start = 0
    while start < len(words):
        end, used = start, 0
        while end < len(words) and (end == start or used + costs[end] <= size):
            used += costs[end]
            end += 1
        chunks.append(" ".join(words[start:end]))
        if end >= len(words):
            break
        back, shared = end, 0
        while back - 1 > start and shared + costs[back - 1] <= overlap:
            back -= 1
            shared += costs[back]
        start = back
    return chunks


def chunk_points(docs: Iterable[Document], spec: RagSpec, embedder: Embedder) -> list[Point]:
    """Chunks of every document, embedded, as points carrying doc id, chunk number and metadata."""
    pending: list[tuple[Document, int, str]] = [
        (doc, number, chunk)
        for doc in docs
        for number, chunk in enumerate(chunk_text(doc.content, spec.chunk_size, spec.overlap))
    ]
    points: list[Point] = []
    for start in range(0, len(pending), spec.batch_size):
        batch = pending[start : start + spec.batch_size]
        vectors = embedder.embed([text for _, _, text in batch])
        for (doc, number, text), vector in zip(batch, vectors, strict=True):
            points.append(
                Point(
                    doc.id,
                    number,
                    vector,
                    {
                        "title": doc.title,
                        "type": doc.type,
                        "text": text,
                        "updated_at": doc.updated_at.isoformat() if doc.updated_at else None,
                    },
                )
            )
    return points


def build_index(store: VectorStore, spec: RagSpec, embedder: Embedder, docs: Iterable[Document]) -> int:
    """(Re)create the spec's collection from ``docs`` and point its alias at it; returns the chunk count."""
    store.create_collection(spec.collection, embedder.dimension, spec.distance, recreate=True)
    points = chunk_points(docs, spec, embedder)
    store.upsert(spec.collection, points)
    if spec.alias:
        store.swap_alias(spec.alias, spec.collection)
    return len(points)


def search(
    store: VectorStore, spec: RagSpec, embedder: Embedder, queries: Mapping[str, str], k: int | None = None
) -> dict[str, list[tuple[str, float]]]:
    """For each query, documents ranked by their best chunk's score (the top ``k``, default top_k)."""
    wanted = k or spec.top_k
    ids = list(queries)
    vectors = embedder.embed([queries[q] for q in ids])
    run: dict[str, list[tuple[str, float]]] = {}
    for query_id, vector in zip(ids, vectors, strict=True):
        best: dict[str, float] = {}
        for hit in store.query(spec.query_name, vector, wanted * CHUNK_FETCH_FACTOR, spec.score_threshold):
            best[hit.doc_id] = max(best.get(hit.doc_id, float("-inf")), hit.score)
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        run[query_id] = ranked[:wanted]
    return run
