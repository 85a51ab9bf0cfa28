"""Benchmark: genaiops eval and promptfoo side by side, on the same prompt tests against the same endpoint.

Both tools evaluate N tests (default 1,000) of one JSON prompt: one chat call each, then a JSON validity
check (genaiops: the prompt's ``json_valid`` and ``exact_match`` metrics; promptfoo: an ``is-json``
assertion). The endpoint is ``genaiops serve-llm`` in its own process, with a fixed latency per request
(default 20 ms) and room for 64 requests at once; a fresh server per run, whose ``/health`` then says how
many requests reached it and how many were in flight at most. Each tool runs end to end as a fresh process
(start-up included), with its response cache off, at client concurrency 1, 8 and 32 (genaiops:
``llm.concurrency``; promptfoo: ``-j``). Printed per run: wall time, throughput, the tool's CPU time
(user + system, children included), peak memory, and the requests in flight at most; then genaiops'
throughput as a multiple of promptfoo's. Asserts nothing about speed.

promptfoo is the version pinned in tests/promptfoo/package-lock.json, installed by ``make promptfoo``, and
runs offline: telemetry, update checks, sharing and remote generation off, nothing written to its
database (``--no-write``).

    make promptfoo
    .venv/bin/python tests/benchmarks/bench_eval_vs_promptfoo.py [--tests 1000] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from measure import measure

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOOLS = Path(os.environ.get("GENAIOPS_TOOLS_DIR", ROOT / ".tools"))
PROMPTFOO = TOOLS / "promptfoo/node_modules/.bin/promptfoo"
TEMPLATE = 'Answer with one JSON object {"answer": "..."}. Question: {{ question }}'
PROMPT_YAML = """\
id: bench-json
version: "1.0.0"
description: Benchmark prompt - answers a question as one JSON object.
owner: bench@example.com
model_config: support-assistant
variables:
  type: object
  required: [question]
  properties:
    question: {type: string}
output:
  format: json
eval:
  dataset: eval/dataset.jsonl
  repeats: 1
  thresholds:
    - metric: json_valid
      threshold: 0.0
"""
PROMPTFOO_OFFLINE = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "PROMPTFOO_DISABLE_UPDATE": "1",
    "PROMPTFOO_DISABLE_SHARING": "1",
    "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1",
}


@dataclass(frozen=True)
class Run:
    """One tool at one concurrency."""

    tool: str
    concurrency: int
    wall: float
    cpu: float
    rss_mib: float
    calls: int
    max_in_flight: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
        return dict(json.load(response))


def _server(latency: float) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    command = [str(BIN / "genaiops"), "serve-llm", "--port", str(port), "--latency", str(latency)]
    proc = subprocess.Popen(
        [*command, "--max-concurrency", "64"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _health(port)
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("serve-llm did not come up within 30 s")


def _measure(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MiB, exit code) of one process and its children."""
    run = measure(command, cwd, env)
    return run.wall, run.cpu, run.rss_mib, run.exit_code


def _team_repo(scratch: Path, tests: int) -> Path:
    """A repository with genaiops.yaml, the model config the prompt names, and the benchmark prompt."""
    repo = scratch / "repo"
    prompt = repo / "artifacts/prompts/bench-json"
    (prompt / "eval").mkdir(parents=True)
    shutil.copy2(ROOT / "genaiops.yaml", repo / "genaiops.yaml")
    shutil.copytree(
        ROOT / "artifacts/model-configs/support-assistant", repo / "artifacts/model-configs/support-assistant"
    )
    (prompt / "prompt.yaml").write_text(PROMPT_YAML, encoding="utf-8")
    (prompt / "template.j2").write_text(TEMPLATE + "\n", encoding="utf-8")
    with (prompt / "eval/dataset.jsonl").open("w", encoding="utf-8") as out:
        for row in _rows(tests):
            out.write(json.dumps(row) + "\n")
    return repo


def _rows(tests: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"q{i:05d}",
            "vars": {"question": f"What is the capital of country number {i}?"},
            "expected": {"answer": f"city {i}"},
        }
        for i in range(tests)
    ]


def _promptfoo_config(scratch: Path, tests: int, port: int) -> Path:
    config = {
        "description": "genaiops side-by-side benchmark",
        "prompts": [TEMPLATE],
        "providers": [
            {
                "id": "openai:chat:gpt-4o",
                "config": {
                    "apiBaseUrl": f"http://127.0.0.1:{port}/v1",
                    "apiKey": "not-needed",
                    "temperature": 0,
                    "max_tokens": 1024,
                    "seed": 42,
                },
            }
        ],
        "tests": [{"vars": row["vars"], "assert": [{"type": "is-json"}]} for row in _rows(tests)],
    }
    path = scratch / f"promptfooconfig-{port}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _run_genaiops(repo: Path, scratch: Path, concurrency: int, port: int) -> tuple[float, float, float, int]:
    settings = (ROOT / "genaiops.yaml").read_text(encoding="utf-8")
    (repo / "genaiops.yaml").write_text(f"{settings}\nllm:\n  concurrency: {concurrency}\n", encoding="utf-8")
    env = {**os.environ, "GENAIOPS_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1"}
    report = scratch / f"eval-{concurrency}.json"
    command = [str(BIN / "genaiops"), "eval", "artifacts/prompts/bench-json", "--no-cache", "-q"]
    return _measure([*command, "--report", str(report)], repo, env)


def _run_promptfoo(scratch: Path, tests: int, concurrency: int, port: int) -> tuple[float, float, float, int]:
    config = _promptfoo_config(scratch, tests, port)
    env = {**os.environ, **PROMPTFOO_OFFLINE, "PROMPTFOO_CONFIG_DIR": str(scratch / "promptfoo-home")}
    command = [str(PROMPTFOO), "eval", "-c", str(config), "--no-write", "--no-cache", "--no-table"]
    output = scratch / f"promptfoo-{concurrency}.json"
    return _measure([*command, "-j", str(concurrency), "-o", str(output)], scratch, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="server-side seconds per request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    if not PROMPTFOO.is_file():
        print(f"promptfoo is not installed at {PROMPTFOO}: run `make promptfoo` first", file=sys.stderr)
        return 2
    version = subprocess.run(
        [str(PROMPTFOO), "--version"],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | PROMPTFOO_OFFLINE,
    ).stdout.strip()
    runs: list[Run] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-vs-promptfoo-"))
    try:
        repo = _team_repo(scratch, args.tests)
        for concurrency in args.concurrency:
            for tool in ("genaiops", "promptfoo"):
                server, port = _server(args.latency)
                try:
                    if tool == "genaiops":
                        wall, cpu, rss, code = _run_genaiops(repo, scratch, concurrency, port)
                    else:
                        wall, cpu, rss, code = _run_promptfoo(scratch, args.tests, concurrency, port)
                    seen = _health(port)
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                if code not in (0, 1, 100):  # a failed check is fine here (exit 1; promptfoo: 100)
                    raise SystemExit(f"{tool} at concurrency {concurrency} exited {code}")
                if seen["chat"] != args.tests:
                    raise SystemExit(f"{tool} made {seen['chat']} chat calls, expected {args.tests}")
                runs.append(Run(tool, concurrency, wall, cpu, rss, seen["chat"], seen["maxInFlight"]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"{args.tests} tests, one chat call each, endpoint latency {args.latency * 1000:.0f} ms; "
        f"promptfoo {version}; {len(os.sched_getaffinity(0))} CPUs"
    )
    print(f"{'tool':<10} {'conc':>4} {'wall s':>7} {'req/s':>7} {'CPU s':>6} {'RSS MiB':>7} {'in flight':>9}")
    for run in runs:
        print(
            f"{run.tool:<10} {run.concurrency:>4} {run.wall:>7.2f} {run.calls / run.wall:>7.0f} "
            f"{run.cpu:>6.2f} {run.rss_mib:>7.0f} {run.max_in_flight:>9}"
        )
    for concurrency in args.concurrency:
        ours, theirs = (
            next(r for r in runs if r.tool == t and r.concurrency == concurrency)
            for t in ("genaiops", "promptfoo")
        )
        print(f"concurrency {concurrency}: genaiops throughput = {theirs.wall / ours.wall:.2f}x promptfoo's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
