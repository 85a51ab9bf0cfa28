"""Benchmark: promotions racing for one environment branch of a local bare remote.

Runs N `genaiops promote` processes at once (default 20), each promoting a different prompt to
``dev``, twice: first promotions (each adds its ConfigMap entry to the environment's kustomization, so
every lost race applies the change again), then updates to new versions (each touches only its own
files, so a lost race rebases the one commit). Prints the wall time of each round against one
uncontended promotion, the push attempts each needed (a lost race costs one attempt), and the time of
a no-op re-promotion. Asserts nothing about speed.

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

from tests.unit.promote_support import World, make_world

from genaiops.discovery import Artifact


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


def _race(
    world: World, scratch: Path, artifacts: list[Artifact], tag: str
) -> tuple[float, list[str], list[int]]:
    """Promote every artifact at once, one process each; wall time, failures, push attempts per artifact."""
    started = time.perf_counter()
    reports = {a.id: scratch / f"{a.id}-{tag}.json" for a in artifacts}
    procs = [_promote(world.repo, world.reports, reports[a.id], a.root) for a in artifacts]
    errors = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - started
    failed = [e for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
    return wall, failed, [_attempts(reports[a.id]) for a in artifacts]


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

        wall, failed, attempts = _race(world, scratch, artifacts, "first")
        # the same artifacts again, each at a new version: updates touch only their own files
        updated = [world.write_artifact("prompt", a.id, f"2.0.{i}") for i, a in enumerate(artifacts)]
        world.write_reports(updated)
        update_wall, update_failed, update_attempts = _race(world, scratch, updated, "update")
        commits = subprocess.run(
            ["git", "-C", str(world.remote), "rev-list", "--count", "--first-parent", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        print(f"one promotion (clone, gate, commit, push): {single:.2f} s")
        print(f"re-promotion of the deployed version (no-op): {noop:.2f} s")
        for what, seconds, errors, tries in (
            ("first promotions (each adds a ConfigMap entry)", wall, failed, attempts),
            ("updates (new versions of deployed artifacts)", update_wall, update_failed, update_attempts),
        ):
            print(
                f"{args.concurrency} concurrent {what}: {seconds:.2f} s wall ({seconds / single:.1f}x one), "
                f"{len(errors)} failed; push attempts min {min(tries)}, median {statistics.median(tries):g}, "
                f"max {max(tries)}, total {sum(tries)}"
            )
        print(f"commits on main (first parent): {commits}")
        for error in (failed + update_failed)[:3]:
            print(f"failure: {error.strip()[:300]}")
        if args.keep:
            shutil.copytree(scratch, args.keep, dirs_exist_ok=True)
        return 1 if failed or update_failed else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
