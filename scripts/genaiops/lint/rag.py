"""Lint of RAG configs: schema, catalog embedding model, chunking and top_k bounds, the BEIR eval set.

Checks (rule ids in docs/rules.md; the format in docs/artifacts/rag.md):
- ``rag/schema``: rag.yaml matches schemas/rag.schema.json (chunk size, overlap and top_k integers);
- ``rag/unknown-embedding-model``, ``rag/not-embedding-model``: the embedding model is in the catalog
  and is an embedding model; ``rag/deprecated-model`` (warning);
- ``rag/chunk-size``: 64 <= size <= 4096 tokens and within the embedding model's context window;
- ``rag/chunk-overlap``: 0 <= overlap < size and overlap <= 50% of size;
- ``rag/top-k``: 1 <= top_k <= the vector store's hard limit (Qdrant: 1000);
- ``rag/threshold-cutoff``: a quality threshold's cut-off (metric@k) is at most top_k;
- ``rag/eval-set``, ``rag/duplicate-id``, ``rag/dangling-qrel``: the BEIR files parse, ids are unique and
  qrels reference existing queries and documents; ``rag/unjudged-query`` (warning);
- ``rag/document-type``: every eval document's metadata.type is a declared corpus document type, and
  every declared type has a document in the sample (the sample is stratified by type).
Lint is pure: no vector store, no network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genaiops import beir, rules, schemacheck
from genaiops.catalog import load_catalog

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument
    from genaiops.stages.runner import StageContext

DOCS = "See docs/artifacts/rag.md."
CHUNK_MIN, CHUNK_MAX = 64, 4096
MAX_OVERLAP_SHARE = 0.5
TOP_K_LIMITS = {"qdrant": 1000}
"""Hard limit of top_k per vector store kind (genaiops' limit for Qdrant queries; docs/artifacts/rag.md)."""

SCHEMA = rules.rule("rag/schema", "lint", "rag.yaml breaks its schema (schemas/rag.schema.json).", DOCS)
UNKNOWN_MODEL = rules.rule(
    "rag/unknown-embedding-model",
    "lint",
    "embedding.model is not in the model catalog.",
    "Use an embedding model listed in artifacts/catalog/models.yaml, or add it there.",
)
NOT_EMBEDDING = rules.rule(
    "rag/not-embedding-model",
    "lint",
    "embedding.model is a chat model in the catalog, not an embedding model.",
    "Pick a catalog model of type embedding (e.g. genaiops/hash-embedding-256).",
)
DEPRECATED = rules.rule(
    "rag/deprecated-model",
    "lint",
    "The catalog marks the embedding model deprecated (a warning).",
    "Move to a supported embedding model.",
)
CHUNK_SIZE = rules.rule(
    "rag/chunk-size",
    "lint",
    f"chunking.size is outside {CHUNK_MIN}..{CHUNK_MAX} tokens or exceeds the embedding "
    "model's context window.",
    DOCS,
)
CHUNK_OVERLAP = rules.rule(
    "rag/chunk-overlap",
    "lint",
    "chunking.overlap is negative, not smaller than the size, or more than 50% of it.",
    DOCS,
)
TOP_K = rules.rule(
    "rag/top-k", "lint", "retrieval.top_k is below 1 or above the vector store's hard limit.", DOCS
)
THRESHOLD_CUTOFF = rules.rule(
    "rag/threshold-cutoff",
    "lint",
    "A quality threshold is measured at a cut-off k larger than retrieval.top_k, "
    "i.e. on documents production never retrieves.",
    "Use metric@k with k <= top_k.",
)
EVAL_SET = rules.rule(
    "rag/eval-set",
    "lint",
    "A BEIR eval file is missing, unreadable, or has a malformed record or header.",
    DOCS,
)
DUPLICATE_ID = rules.rule(
    "rag/duplicate-id",
    "lint",
    "A document or query id appears twice, or a (query, document) pair is judged twice.",
)
DANGLING_QREL = rules.rule(
    "rag/dangling-qrel", "lint", "qrels/test.tsv names a query or document id that does not exist."
)
UNJUDGED = rules.rule(
    "rag/unjudged-query",
    "lint",
    "A query has no relevant document in the qrels, so it cannot score (a warning).",
)
DOCUMENT_TYPE = rules.rule(
    "rag/document-type",
    "lint",
    "An eval document's metadata.type is not in corpus.document_types, or a declared "
    "type has no document in the stratified sample.",
    DOCS,
)
PROBLEM_RULES = {
    "unreadable": EVAL_SET,
    "format": EVAL_SET,
    "duplicate-id": DUPLICATE_ID,
    "dangling-qrel": DANGLING_QREL,
    "unjudged": UNJUDGED,
}
MAX_PROBLEMS = 50


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Lint one RAG config artifact."""
    doc = ctx.manifest(artifact)
    if schemacheck.check_document(doc, artifact.kind.schema, result, SCHEMA, hint=DOCS):
        return
    data = doc.data
    _check_model(doc, artifact, result)
    _check_bounds(doc, result)
    _check_eval_set(doc, artifact, result)
    result.metrics["chunk_size"] = data["chunking"]["size"]
    result.metrics["top_k"] = data["retrieval"]["top_k"]


def _check_model(doc: YamlDocument, artifact: Artifact, result: ArtifactResult) -> None:
    catalog = load_catalog(artifact.repo)
    name = doc.data["embedding"]["model"]

    def line() -> int | None:  # composed only for a finding
        return doc.line_of(["embedding", "model"])

    entry = catalog.get(name)
    if entry is None:
        result.add(
            UNKNOWN_MODEL,
            f"embedding model {name!r} is not in the catalog (embedding models: "
            f"{', '.join(catalog.names(type='embedding')) or 'none'})",
            file=doc.file,
            line=line(),
        )
        return
    if entry.type != "embedding":
        result.add(
            NOT_EMBEDDING,
            f"{name!r} is a {entry.type} model; embedding models: "
            f"{', '.join(catalog.names(type='embedding'))}",
            file=doc.file,
            line=line(),
        )
        return
    if entry.deprecated:
        result.add(
            DEPRECATED,
            f"embedding model {name!r} is deprecated in the catalog",
            severity="warning",
            file=doc.file,
            line=line(),
        )
    size = doc.data["chunking"]["size"]
    if size > entry.context_window:
        result.add(
            CHUNK_SIZE,
            f"chunking.size {size} exceeds {name}'s context window of {entry.context_window} tokens",
            file=doc.file,
            line=doc.line_of(["chunking", "size"]),
        )


def _check_bounds(doc: YamlDocument, result: ArtifactResult) -> None:
    data = doc.data
    size, overlap = data["chunking"]["size"], data["chunking"]["overlap"]
    if not CHUNK_MIN <= size <= CHUNK_MAX:
        result.add(
            CHUNK_SIZE,
            f"chunking.size {size} is outside {CHUNK_MIN}..{CHUNK_MAX} tokens",
            file=doc.file,
            line=doc.line_of(["chunking", "size"]),
        )

    def where() -> int | None:  # composed only for a finding
        return doc.line_of(["chunking", "overlap"])

    if overlap < 0:
        result.add(CHUNK_OVERLAP, f"chunking.overlap {overlap} is negative", file=doc.file, line=where())
    elif overlap >= size:
        result.add(
            CHUNK_OVERLAP,
            f"chunking.overlap {overlap} must be smaller than the size {size}",
            file=doc.file,
            line=where(),
        )
    elif overlap > size * MAX_OVERLAP_SHARE:
        result.add(
            CHUNK_OVERLAP,
            f"chunking.overlap {overlap} is more than 50% of the size {size} "
            f"(at most {int(size * MAX_OVERLAP_SHARE)})",
            file=doc.file,
            line=where(),
        )
    top_k, kind = data["retrieval"]["top_k"], data["vector_store"]["kind"]
    limit = TOP_K_LIMITS[kind]
    if not 1 <= top_k <= limit:
        result.add(
            TOP_K,
            f"retrieval.top_k {top_k} is outside 1..{limit} ({kind}'s hard limit)",
            file=doc.file,
            line=doc.line_of(["retrieval", "top_k"]),
        )
    for name in data.get("thresholds") or {}:
        cutoff = int(name.split("@", 1)[1])
        if cutoff > top_k:
            result.add(
                THRESHOLD_CUTOFF,
                f"threshold {name} is measured at k={cutoff} but top_k is {top_k}",
                file=doc.file,
                line=doc.line_of(["thresholds", name]),
            )


def _check_eval_set(doc: YamlDocument, artifact: Artifact, result: ArtifactResult) -> None:
    eval_set, problems = beir.load(artifact.root, artifact.repo, beir.Paths.from_manifest(doc.data))
    for problem in problems[:MAX_PROBLEMS]:
        result.add(
            PROBLEM_RULES[problem.kind],
            problem.message,
            file=problem.file,
            line=problem.line,
            severity="warning" if problem.kind == "unjudged" else "error",
        )
    if len(problems) > MAX_PROBLEMS:
        result.add(
            EVAL_SET, f"{len(problems) - MAX_PROBLEMS} more eval-set problems not shown", file=doc.file
        )
    declared = doc.data["corpus"]["document_types"]
    corpus_file = artifact.rel(artifact.root / beir.Paths.from_manifest(doc.data).corpus)
    seen = {d.type for d in eval_set.corpus.values()}
    for doc_id, document in eval_set.corpus.items():
        if document.type not in declared:
            result.add(
                DOCUMENT_TYPE,
                f"document {doc_id!r} has type {document.type!r}, not one of "
                f"corpus.document_types ({', '.join(declared)})",
                file=corpus_file,
            )
    if eval_set.corpus and not any(p.kind == "unreadable" for p in problems):
        for missing in [t for t in declared if t not in seen]:
            result.add(
                DOCUMENT_TYPE,
                f"declared document type {missing!r} has no document in the eval sample "
                "(the sample is stratified by type)",
                file=doc.file,
                line=doc.line_of(["corpus", "document_types"]),
            )
    result.metrics["eval_documents"] = len(eval_set.corpus)
    result.metrics["eval_queries"] = len(eval_set.queries)
    result.metrics["eval_judgements"] = sum(len(v) for v in eval_set.qrels.values())
