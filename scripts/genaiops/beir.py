"""The BEIR retrieval eval set of a RAG artifact: corpus.jsonl, queries.jsonl, qrels/test.tsv.

Layout (docs/artifacts/rag.md):

* ``corpus.jsonl``: ``{"_id", "title", "text", "metadata": {"type", "updated_at"}}`` per line;
* ``queries.jsonl``: ``{"_id", "text"}`` per line;
* ``qrels/test.tsv``: a header ``query-id<TAB>corpus-id<TAB>score`` then one judgement per line,
  score an integer >= 0 (graded relevance; >= 1 is relevant).

``load(root, repo, paths)`` reads all three through ``safeio`` (inside the repo, size limits,
strict UTF-8) and returns an ``EvalSet`` plus a list of ``Problem`` (file, line, kind, message);
callers map problem kinds to their rule ids (lint) or refuse to run (eval). Nothing here raises
for bad content except ``ArtifactError`` from ``safeio`` for unreadable files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genaiops.errors import ArtifactError
from genaiops.safeio import display_path, iter_jsonl, read_text

QRELS_HEADER = ("query-id", "corpus-id", "score")


@dataclass(frozen=True)
class Document:
    """One corpus document."""

    id: str
    title: str
    text: str
    type: str
    updated_at: dt.date | None

    @property
    def content(self) -> str:
        """Title and text, as indexed."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Problem:
    """Something wrong with the eval set.

    ``kind``: unreadable, format, duplicate-id, dangling-qrel or unjudged.
    """

    kind: str
    file: str
    line: int | None
    message: str


@dataclass
class EvalSet:
    """The parsed eval set (records with problems are left out)."""

    corpus: dict[str, Document] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Paths:
    """Where the three files are, relative to the artifact folder."""

    corpus: str = "eval/corpus.jsonl"
    queries: str = "eval/queries.jsonl"
    qrels: str = "eval/qrels/test.tsv"

    @classmethod
    def from_manifest(cls, data: Mapping[str, Any]) -> Paths:
        spec = data.get("eval") if isinstance(data.get("eval"), Mapping) else {}
        assert isinstance(spec, Mapping)
        return cls(
            **{k: str(spec[k]) for k in ("corpus", "queries", "qrels") if isinstance(spec.get(k), str)}
        )


def _text(record: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str | None:
    value = record.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        return None
    return value


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def load_corpus(path: Path, repo: Path, out: EvalSet, problems: list[Problem]) -> None:
    rel = display_path(path, repo)
    for line, record in iter_jsonl(path, repo):
        if not isinstance(record, Mapping):
            problems.append(Problem("format", rel, line, "a corpus line must be a JSON object"))
            continue
        doc_id, text = _text(record, "_id"), _text(record, "text")
        title = record.get("title", "")
        metadata = record.get("metadata")
        missing = [
            name
            for name, ok in (
                ("_id", doc_id),
                ("text", text),
                ("title", isinstance(title, str)),
                ("metadata", isinstance(metadata, Mapping)),
            )
            if not ok
        ]
        if missing:
            problems.append(
                Problem(
                    "format",
                    rel,
                    line,
                    f"corpus record needs string {', '.join(missing)} "
                    "(metadata: an object with type and updated_at)",
                )
            )
            continue
        assert doc_id is not None and text is not None and isinstance(metadata, Mapping)
        doc_type = metadata.get("type")
        updated = _parse_date(metadata.get("updated_at"))
        if not isinstance(doc_type, str) or not doc_type or updated is None:
            problems.append(
                Problem(
                    "format",
                    rel,
                    line,
                    f"document {doc_id!r}: metadata needs a string `type` "
                    "and an ISO date `updated_at` (YYYY-MM-DD)",
                )
            )
            continue
        if doc_id in out.corpus:
            problems.append(Problem("duplicate-id", rel, line, f"document id {doc_id!r} appears twice"))
            continue
        out.corpus[doc_id] = Document(doc_id, str(title), text, doc_type, updated)


def load_queries(path: Path, repo: Path, out: EvalSet, problems: list[Problem]) -> None:
    rel = display_path(path, repo)
    for line, record in iter_jsonl(path, repo):
        query_id = _text(record, "_id") if isinstance(record, Mapping) else None
        text = _text(record, "text") if isinstance(record, Mapping) else None
        if query_id is None or text is None:
            problems.append(
                Problem(
                    "format",
                    rel,
                    line,
                    "a query line must be an object with string `_id` and non-empty `text`",
                )
            )
            continue
        if query_id in out.queries:
            problems.append(Problem("duplicate-id", rel, line, f"query id {query_id!r} appears twice"))
            continue
        out.queries[query_id] = text


def load_qrels(path: Path, repo: Path, out: EvalSet, problems: list[Problem]) -> list[tuple[int, str, str]]:
    """Parse the qrels; returns (line, query id, corpus id) of every judgement for reference checks."""
    rel = display_path(path, repo)
    lines = read_text(path, repo).splitlines()
    refs: list[tuple[int, str, str]] = []
    if not lines or tuple(c.strip() for c in lines[0].split("\t")) != QRELS_HEADER:
        problems.append(
            Problem("format", rel, 1, "the first line must be the header 'query-id<TAB>corpus-id<TAB>score'")
        )
        return refs
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        cells = raw.split("\t")
        if len(cells) != 3 or not cells[0].strip() or not cells[1].strip():
            problems.append(
                Problem(
                    "format",
                    rel,
                    number,
                    "a judgement is three tab-separated columns: query-id, corpus-id, score",
                )
            )
            continue
        query_id, doc_id, score_text = (c.strip() for c in cells)
        try:
            score = int(score_text)
        except ValueError:
            score = -1
        if score < 0:
            problems.append(Problem("format", rel, number, f"score {score_text!r} is not an integer >= 0"))
            continue
        if doc_id in out.qrels.get(query_id, {}):
            problems.append(Problem("duplicate-id", rel, number, f"({query_id}, {doc_id}) is judged twice"))
            continue
        out.qrels.setdefault(query_id, {})[doc_id] = score
        refs.append((number, query_id, doc_id))
    return refs


def _unreadable(path: Path, repo: Path, exc: ArtifactError) -> Problem:
    return Problem(
        "unreadable",
        getattr(exc, "file", None) or display_path(path, repo),
        getattr(exc, "line", None),
        str(exc),
    )


def load(root: Path, repo: Path, paths: Paths) -> tuple[EvalSet, list[Problem]]:
    """Read and cross-check the eval set of the artifact at ``root`` (see the module doc)."""
    out = EvalSet()
    problems: list[Problem] = []
    refs: list[tuple[int, str, str]] = []
    try:
        load_corpus(root / paths.corpus, repo, out, problems)
    except ArtifactError as exc:
        problems.append(_unreadable(root / paths.corpus, repo, exc))
    try:
        load_queries(root / paths.queries, repo, out, problems)
    except ArtifactError as exc:
        problems.append(_unreadable(root / paths.queries, repo, exc))
    try:
        refs = load_qrels(root / paths.qrels, repo, out, problems)
    except ArtifactError as exc:
        problems.append(_unreadable(root / paths.qrels, repo, exc))
    if any(p.kind == "unreadable" for p in problems):
        return out, problems
    rel = display_path(root / paths.qrels, repo)
    for number, query_id, doc_id in refs:
        if query_id not in out.queries:
            problems.append(
                Problem("dangling-qrel", rel, number, f"query id {query_id!r} is not in the queries")
            )
        if doc_id not in out.corpus:
            problems.append(
                Problem("dangling-qrel", rel, number, f"corpus id {doc_id!r} is not in the corpus")
            )
    judged = {q for q, docs in out.qrels.items() if any(s >= 1 for s in docs.values())}
    for query_id in out.queries:
        if query_id not in judged:
            problems.append(
                Problem(
                    "unjudged",
                    display_path(root / paths.queries, repo),
                    None,
                    f"query {query_id!r} has no relevant document in the qrels",
                )
            )
    return out, problems
