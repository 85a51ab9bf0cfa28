"""Benchmark: start-up of each stage, the part of every Argo step that is not its work.

Runs each stage on one example artifact per kind as a fresh ``genaiops`` process (as an Argo step does),
several times, and prints per (stage, artifact) the median wall time, the median work (the report's
``artifacts[].timings.totalMs``: the checks themselves, including what they import on first use) and
their difference: start-up (interpreter, CLI, settings, discovery, the stage's check modules, writing the
report). Also ``genaiops --help``. Eval replays the recorded cassettes (no endpoint needed).

Prints figures; asserts nothing (targets on a 2-core machine: start-up < 0.5 s, ``--help`` < 0.15 s).
Bytecode is compiled by ``make setup`` (``uv sync --compile-bytecode``) and in the pipeline image.

    .venv/bin/python tests/benchmarks/bench_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENAIOPS = Path(sys.executable).parent / "genaiops"
EXAMPLES = {
    "prompt": "artifacts/prompts/review-sentiment",
    "model-config": "artifacts/model-configs/support-assistant",
    "rag": "artifacts/rag/internal-kb",
    "guardrail": "artifacts/guardrails/customer-support",
}
STAGES = {"lint": [], "validate": [], "eval": ["--replay"]}


def _run(args: list[str], report: Path | None) -> tuple[float, float]:
    """(wall seconds, work seconds) of one fresh process."""
    started = time.perf_counter()
    proc = subprocess.run([str(GENAIOPS), *args], cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if report is None:
        return wall, 0.0
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        command = " ".join(args)
        problem = f"genaiops {command} wrote no report (exit {proc.returncode})"
        raise SystemExit(f"{problem}:\n{proc.stderr}") from None
    work = sum(a.get("timings", {}).get("totalMs", 0.0) for a in data.get("artifacts", [])) / 1000
    return wall, work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        report = Path(scratch) / "report.json"
        walls = [_run(["--help"], None)[0] for _ in range(args.repeat)]
        rows.append(("--help", "", statistics.median(walls), 0.0))
        for stage, extra in STAGES.items():
            for kind, folder in EXAMPLES.items():
                runs = [
                    _run([stage, *extra, "-q", "--report", str(report), folder], report)
                    for _ in range(args.repeat)
                ]
                wall = statistics.median(r[0] for r in runs)
                work = statistics.median(r[1] for r in runs)
                rows.append((stage, kind, wall, work))
    print(f"{'command':<10} {'artifact':<13} {'wall s':>7} {'work s':>7} {'start-up s':>10}")
    for command, kind, wall, work in rows:
        print(f"{command:<10} {kind:<13} {wall:7.3f} {work:7.3f} {wall - work:10.3f}")
    worst = max(wall - work for command, _, wall, work in rows if command != "--help")
    print(f"slowest stage start-up: {worst:.3f} s (target < 0.5 s)")
    print(f"genaiops --help: {rows[0][2]:.3f} s (target < 0.15 s)")


if __name__ == "__main__":
    main()
