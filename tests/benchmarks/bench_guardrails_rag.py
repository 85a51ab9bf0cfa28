"""Benchmark: guardrail engine throughput and worst-case inputs; RAG embedding, indexing and query latency.

Prints figures; asserts nothing about speed.

* guardrails: compile time of each example policy, inputs/s over its curated suite, and the time of
  the slowest backtracking-shaped input at the policy's max_input_chars;
* RAG: hash-embedding throughput (texts/s), and for a synthetic corpus of N documents the time to
  build the embedded Qdrant index and the median query latency.

    .venv/bin/python tests/benchmarks/bench_guardrails_rag.py --documents 2000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import yaml

from genaiops import ragindex, vectorstore
from genaiops.beir import Document
from genaiops.embeddings import embedder_for
from genaiops.guardrails.engine import compile_policy
from genaiops.guardrails.suite import cases_from_data

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ("a", "1 ", "1-", "a@", "a.", "ignore ", "GB82 ", "AB 12 ", "\u200b", "[system]", "e\u0301", "AKIA")
WORDS = [
    "order",
    "refund",
    "invoice",
    "password",
    "account",
    "shipping",
    "delivery",
    "parcel",
    "warranty",
    "return",
    "exchange",
    "size",
    "colour",
    "payment",
    "card",
    "subscription",
    "newsletter",
    "login",
    "reset",
    "tracking",
    "courier",
    "damaged",
    "missing",
]


def bench_guardrails() -> None:
    for name in ("customer-support", "internal-data"):
        folder = ROOT / "artifacts/guardrails" / name
        started = time.perf_counter()
        policy = compile_policy(yaml.safe_load((folder / "policy.yaml").read_text(encoding="utf-8")))
        compile_s = time.perf_counter() - started
        cases = cases_from_data(yaml.safe_load((folder / "tests/suite.yaml").read_text(encoding="utf-8")))
        started = time.perf_counter()
        for _ in range(5):
            for case in cases:
                policy.evaluate(case.text)
        suite_s = (time.perf_counter() - started) / 5
        worst = 0.0
        worst_shape = ""
        for shape in SHAPES:
            text = shape * (policy.max_chars // len(shape) + 1)
            started = time.perf_counter()
            policy.evaluate(text)
            elapsed = time.perf_counter() - started
            if elapsed > worst:
                worst, worst_shape = elapsed, shape
        print(
            f"guardrail {name}: compile {compile_s * 1000:.1f} ms, suite {len(cases)} inputs in "
            f"{suite_s * 1000:.1f} ms ({len(cases) / suite_s:.0f} inputs/s), slowest hostile input "
            f"{worst * 1000:.1f} ms ({worst_shape!r} x {policy.max_chars} chars)"
        )


def bench_rag(documents: int) -> None:
    rng = random.Random(7)
    docs = [
        Document(f"d{i}", f"doc {i}", " ".join(rng.choice(WORDS) for _ in range(120)), "faq", None)
        for i in range(documents)
    ]
    embedder = embedder_for("genaiops/hash-embedding-256")
    texts = [d.text for d in docs[:500]]
    started = time.perf_counter()
    embedder.embed(texts)
    embed_s = time.perf_counter() - started
    spec = ragindex.RagSpec("genaiops/hash-embedding-256", 256, 32, 5, "bench-v1", "bench")
    store = vectorstore.connect(None)
    started = time.perf_counter()
    chunks = ragindex.build_index(store, spec, embedder, docs)
    index_s = time.perf_counter() - started
    vector = embedder.embed(["refund for a damaged parcel"])[0]
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        store.query("bench", vector, 5)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"embedding: {len(texts) / embed_s:.0f} texts/s (120 words each)")
    print(
        f"rag index: {documents} documents -> {chunks} chunks in {index_s:.2f} s; "
        f"median query {statistics.median(timings):.2f} ms (local mode, top_k 5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    bench_guardrails()
    bench_rag(args.documents)


if __name__ == "__main__":
    main()
