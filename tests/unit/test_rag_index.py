"""Chunking, indexing and search of RAG artifacts (ragindex) on real embedded Qdrant collections."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from genaiops import beir, ragindex, vectorstore
from genaiops.embeddings import embedder_for
from genaiops.metrics.retrieval import evaluate

ROOT = Path(__file__).resolve().parents[2]


def test_chunks_respect_size_and_overlap() -> None:
    words = [f"w{i:03d}" for i in range(200)]  # 4 chars + space = 2 estimated tokens each
    chunks = ragindex.chunk_text(" ".join(words), size=20, overlap=4)
    assert all(ragindex.estimate_tokens(c + " ") <= 20 for c in chunks)
    assert chunks[0].split() == words[:10]
    assert chunks[1].split()[:2] == words[8:10]  # 4 tokens = two words repeated
    assert chunks[-1].split()[-1] == words[-1]


def test_a_word_longer_than_the_size_is_its_own_chunk() -> None:
    assert ragindex.chunk_text("short " + "x" * 500 + " tail", size=64, overlap=0) == [
        "short",
        "x" * 500,
        "tail",
    ]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_invalid_chunking_is_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        ragindex.chunk_text("a b c", size, overlap)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=600), st.integers(1, 80), st.data())
def test_chunking_covers_every_word_in_order(text: str, size: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(0, size - 1))
    numbers = itertools.count()  # every word made unique, so a chunk's overlap with the last is unambiguous
    text = re.sub(r"\S+", lambda word: f"{word.group(0)}~{next(numbers)}", text)
    chunks = ragindex.chunk_text(text, size, overlap)
    words = text.split()
    assert (not words) == (not chunks)
    seen: list[str] = []
    for chunk in chunks:  # drop each chunk's overlap with what came before, the rest appends
        parts = chunk.split()
        k = next(k for k in range(min(len(parts), len(seen)), -1, -1) if seen[len(seen) - k :] == parts[:k])
        assert k < len(parts)  # progress
        seen += parts[k:]
    assert seen == words


@pytest.mark.parametrize("artifact", ["support-docs", "internal-kb"])
def test_example_eval_sets_give_meaningful_metrics(artifact: str) -> None:
    root = ROOT / "artifacts/rag" / artifact
    data = yaml.safe_load((root / "rag.yaml").read_text(encoding="utf-8"))
    eval_set, problems = beir.load(root, ROOT, beir.Paths.from_manifest(data))
    assert problems == []
    spec = ragindex.RagSpec.from_manifest(data)
    embedder = embedder_for(spec.embedding_model)
    store = vectorstore.connect(None)
    assert ragindex.build_index(store, spec, embedder, eval_set.corpus.values()) >= len(eval_set.corpus)
    assert store.resolve(spec.alias or spec.collection) == spec.collection
    run = ragindex.search(store, spec, embedder, eval_set.queries)
    means: dict[str, float] = {}
    for name in data["thresholds"]:
        k = int(name.split("@")[1])
        means.update(evaluate(eval_set.qrels, run, k=k).means)
    for name, minimum in data["thresholds"].items():
        assert minimum <= means[name] < 1.0, (name, means[name])  # met, yet not trivially perfect
