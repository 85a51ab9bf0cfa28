"""Benchmark: eval throughput against the local reference server, and the cost of an unchanged re-run.

Evaluates N examples (default 1,000: one chat call each, scored with token F1 and ROUGE-L) against
``genaiops.llm.localserver`` with a per-request latency, at several client concurrencies, then runs the
same evaluation twice with the response cache and reports the second run's call count and wall time.
Prints figures; asserts nothing about speed (see docs/eval.md for how to read them).

    .venv/bin/python tests/benchmarks/bench_eval.py --examples 1000 --latency 0.05 --server-limit 64
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from genaiops.llm.config import ProviderConfig
from genaiops.llm.localserver import ReferenceModel, ReferenceServer, ServerOptions
from genaiops.llm.provider import Provider
from genaiops.llm.types import ChatRequest
from genaiops.metrics.text import rouge_l, token_f1


def _requests(count: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            "genaiops/reference-chat",
            (
                {"role": "system", "content": "Answer in one short sentence."},
                {"role": "user", "content": f"Question {i}: what is the capital of country number {i}?"},
            ),
            {"temperature": 0, "max_tokens": 64},
        )
        for i in range(count)
    ]


def _evaluate(provider: Provider, requests: list[ChatRequest]) -> tuple[float, float]:
    """Run and score every request; returns (wall seconds, mean token F1)."""
    started = time.perf_counter()
    responses = provider.chat_many(requests)
    scores = [
        token_f1(r.content, q.messages[-1]["content"]) + rouge_l(r.content, q.messages[-1]["content"])
        for r, q in zip(responses, requests, strict=True)
    ]
    return time.perf_counter() - started, sum(scores) / (2 * len(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="server-side seconds per request")
    parser.add_argument("--server-limit", type=int, default=64, help="requests the server processes at once")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    requests = _requests(args.examples)
    options = ServerOptions(latency=args.latency, max_concurrency=args.server_limit)
    with ReferenceServer(options=options, model=ReferenceModel()) as server:
        print(
            f"reference server {server.base_url}: latency {args.latency * 1000:.0f} ms, "
            f"limit {args.server_limit} concurrent; {args.examples} examples"
        )
        print(f"{'concurrency':>11} {'wall s':>8} {'req/s':>8} {'speed-up':>8} {'ideal':>6}")
        first_rate = None
        for concurrency in args.concurrency:
            config = ProviderConfig(base_url=server.base_url, concurrency=concurrency, timeout_s=30)
            with Provider(config, local_embedders={}) as provider:
                wall, _ = _evaluate(provider, requests)
                assert provider.calls == len(requests)
            rate = len(requests) / wall
            first_rate = first_rate or rate
            ideal = min(concurrency, args.server_limit)
            print(f"{concurrency:>11} {wall:>8.2f} {rate:>8.1f} {rate / first_rate:>8.2f} {ideal:>6}")
        with tempfile.TemporaryDirectory() as tmp:
            config = ProviderConfig(base_url=server.base_url, concurrency=max(args.concurrency), timeout_s=30)
            with Provider(config, cache_dir=Path(tmp)) as cold:
                cold_wall, cold_score = _evaluate(cold, requests)
                cold_calls = cold.calls
            before = server.stats.snapshot()["chat"]
            with Provider(config, cache_dir=Path(tmp)) as warm:
                warm_wall, warm_score = _evaluate(warm, requests)
                warm_calls, hits = warm.calls, warm.cache_hits
            served = server.stats.snapshot()["chat"] - before
        print(f"cold run with cache: {cold_calls} calls, {cold_wall:.2f} s")
        print(
            f"unchanged re-run:    {warm_calls} calls ({served} reached the server), {hits} cache hits, "
            f"{warm_wall:.2f} s, same scores: {abs(cold_score - warm_score) < 1e-12}"
        )


if __name__ == "__main__":
    main()
