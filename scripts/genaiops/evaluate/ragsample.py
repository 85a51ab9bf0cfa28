"""The documents RAG eval indexes: a seeded sample of the corpus, stratified by document type, plus
every document the qrels judge.

A rag.yaml may name its production corpus with ``corpus.path`` (relative to the artifact folder): a
JSON Lines file of documents in the BEIR corpus format (``{"_id", "title", "text", "metadata": {"type",
"updated_at"}}``) or a folder whose ``*.jsonl`` files (searched recursively, in path order) hold them.
Eval then draws ``corpus.sampling.fraction`` (bounded to 5-10%) of each document type with
``numpy.random.default_rng(corpus.sampling.seed)`` - at least one document of every non-empty type -
and adds every document referenced by the qrels, so the judged documents are always retrievable and
the sample acts as realistic distractors. A judged document is taken from the corpus when it is there,
else from the eval corpus (``eval.corpus``).

Without ``corpus.path`` the committed eval corpus *is* the sample (it was drawn when the eval set was
built) and is indexed whole.

    sample = draw(eval_set, corpus_docs, fraction=0.08, seed=2026, types=["faq", "how-to"])
    sample.documents      # {doc id: Document} to index
    sample.provenance()   # per type: population, sampled, judged, indexed
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genaiops import beir
from genaiops.errors import ArtifactError

MIN_FRACTION = 0.05
MAX_FRACTION = 0.10
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Stratum:
    """One document type: how many documents the corpus has, how many were drawn, judged, indexed."""

    type: str
    population: int
    sampled: int
    judged: int
    indexed: int

    def to_json(self) -> dict[str, int]:
        return {
            "population": self.population,
            "sampled": self.sampled,
            "judged": self.judged,
            "indexed": self.indexed,
        }


@dataclass
class Sample:
    """The documents to index and how they were chosen."""

    documents: dict[str, beir.Document]
    source: str
    fraction: float | None = None
    seed: int | None = None
    strata: list[Stratum] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def provenance(self) -> dict[str, Any]:
        """The scorecard's ``provenance.sample``."""
        return {
            "source": self.source,
            "fraction": self.fraction,
            "seed": self.seed,
            "stratifyBy": "type" if self.fraction is not None else None,
            "documents": len(self.documents),
            "perType": {s.type: s.to_json() for s in self.strata},
        }


def clamp_fraction(value: Any) -> float:
    """The sampling fraction, bounded to 5-10% (the schema enforces it; this guards direct callers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return MIN_FRACTION
    return min(MAX_FRACTION, max(MIN_FRACTION, float(value)))


def load_corpus(root: Path, repo: Path, rel: str) -> tuple[dict[str, beir.Document], list[beir.Problem]]:
    """Read ``corpus.path``: one JSONL file, or every ``*.jsonl`` under a folder (sorted by path).

    Raises ``ArtifactError`` when the path does not exist or a file cannot be read.
    """
    path = root / rel
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        if not files:
            raise ArtifactError(f"corpus.path {rel}/ holds no *.jsonl file")
    elif path.is_file():
        files = [path]
    else:
        raise ArtifactError(f"corpus.path {rel} does not exist")
    into, problems = beir.EvalSet(), []
    for file in files:
        beir.load_corpus(file, repo, into, problems)
    return into.corpus, problems


def stratified_ids(corpus: Mapping[str, beir.Document], fraction: float, seed: int) -> dict[str, list[str]]:
    """Per document type, the sorted ids drawn: ``max(1, round(fraction * n))`` of the type's ``n``
    documents, without replacement, from one generator seeded with ``seed`` (types in sorted order,
    ids sorted within a type, so the same corpus and seed always give the same sample)."""
    by_type: dict[str, list[str]] = {}
    for doc_id in sorted(corpus):
        by_type.setdefault(corpus[doc_id].type, []).append(doc_id)
    rng = np.random.default_rng(seed)
    drawn: dict[str, list[str]] = {}
    for doc_type in sorted(by_type):
        ids = by_type[doc_type]
        size = min(len(ids), max(1, round(fraction * len(ids))))
        picks = rng.choice(len(ids), size=size, replace=False)
        drawn[doc_type] = sorted(ids[int(i)] for i in picks)
    return drawn


def draw(
    eval_set: beir.EvalSet,
    corpus: Mapping[str, beir.Document],
    *,
    fraction: float,
    seed: int,
    types: Sequence[str],
    source: str,
) -> Sample:
    """Sample ``corpus`` by type and add the judged documents (from ``corpus``, else the eval corpus)."""
    fraction = clamp_fraction(fraction)
    drawn = stratified_ids(corpus, fraction, seed)
    documents: dict[str, beir.Document] = {doc_id: corpus[doc_id] for ids in drawn.values() for doc_id in ids}
    judged_ids = sorted({doc_id for judged in eval_set.qrels.values() for doc_id in judged})
    judged: dict[str, beir.Document] = {}
    missing: list[str] = []
    for doc_id in judged_ids:
        doc = corpus.get(doc_id) or eval_set.corpus.get(doc_id)
        if doc is None:
            missing.append(doc_id)
        else:
            judged[doc_id] = doc
    documents.update(judged)
    notes = []
    if missing:
        notes.append(f"{len(missing)} judged document(s) are in neither corpus: {', '.join(missing[:10])}")
    undeclared = sorted({d.type for d in corpus.values()} - set(types))
    if undeclared:
        notes.append(f"corpus document types not in corpus.document_types: {', '.join(undeclared)}")
    population: dict[str, int] = {}
    for doc in corpus.values():
        population[doc.type] = population.get(doc.type, 0) + 1
    strata = [
        Stratum(
            doc_type,
            population.get(doc_type, 0),
            len(drawn.get(doc_type, [])),
            sum(1 for d in judged.values() if d.type == doc_type),
            sum(1 for d in documents.values() if d.type == doc_type),
        )
        for doc_type in sorted(set(population) | set(types) | {d.type for d in judged.values()})
    ]
    return Sample(documents, source, fraction, seed, strata, notes)


def whole(eval_set: beir.EvalSet, source: str) -> Sample:
    """The committed eval corpus as the sample (no ``corpus.path``)."""
    counts: dict[str, int] = {}
    for doc in eval_set.corpus.values():
        counts[doc.type] = counts.get(doc.type, 0) + 1
    judged_ids = {doc_id for judged in eval_set.qrels.values() for doc_id in judged}
    strata = [
        Stratum(
            t,
            n,
            n,
            sum(1 for i in judged_ids if i in eval_set.corpus and eval_set.corpus[i].type == t),
            n,
        )
        for t, n in sorted(counts.items())
    ]
    return Sample(dict(eval_set.corpus), source, strata=strata)
