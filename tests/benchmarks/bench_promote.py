"""Benchmark: promotions racing for one environment branch of a local bare remote.

Runs N `genaiops promote` processes at once (default 20), each promoting a different prompt to
``dev``, and prints the wall time, the push attempts each needed (a lost race costs one attempt),
and the time of one uncontended promotion and of a no-op re-promotion. Asserts nothing about speed.

    .venv/bin/python tests/benchmarks/bench_promote.py [--concurrency 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.unit.promote_support import make_world


def _promote(world_repo: Path, reports: Path, report: Path, artifact: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genaiops",
            "promote",
            "--env",
            "dev",
            "--repo",
            str(world_repo),
            "--reports",
            str(reports),
            "--report",
            str(report),
            "-q",
            str(artifact),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _attempts(report: Path) -> int:
    data = json.loads(report.read_text(encoding="utf-8"))
    return int(data["artifacts"][0]["metrics"].get("promotionAttempts", 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="keep the scratch repositories here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-promote-"))
    try:
        world = make_world(scratch)
        solo = world.write_artifact("prompt", "solo", "1.0.0")
        artifacts = [world.write_artifact("prompt", f"p{i:03d}", f"1.0.{i}") for i in range(args.concurrency)]
        world.write_reports([solo, *artifacts])

        started = time.perf_counter()
        proc = _promote(world.repo, world.reports, scratch / "solo.json", solo.root)
        proc.communicate()
        single = time.perf_counter() - started
        started = time.perf_counter()
        proc = _promote(world.repo, world.reports, scratch / "solo-again.json", solo.root)
        proc.communicate()
        noop = time.perf_counter() - started

        started = time.perf_counter()
        procs = [_promote(world.repo, world.reports, scratch / f"{a.id}.json", a.root) for a in artifacts]
        errors = [p.communicate()[1] for p in procs]
        wall = time.perf_counter() - started
        failed = [e for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
        attempts = [_attempts(scratch / f"{a.id}.json") for a in artifacts]
        commits = subprocess.run(
            ["git", "-C", str(world.remote), "rev-list", "--count", "--first-parent", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        print(f"one promotion (clone, gate, commit, push): {single:.2f} s")
        print(f"re-promotion of the deployed version (no-op): {noop:.2f} s")
        print(f"{args.concurrency} concurrent promotions: {wall:.2f} s wall, {len(failed)} failed")
        print(
            f"push attempts per promotion: min {min(attempts)}, median {statistics.median(attempts):g}, "
            f"max {max(attempts)}, total {sum(attempts)}"
        )
        print(f"commits on main (first parent): {commits}")
        for error in failed[:3]:
            print(f"failure: {error.strip()[:300]}")
        if args.keep:
            shutil.copytree(scratch, args.keep, dirs_exist_ok=True)
        return 1 if failed else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
