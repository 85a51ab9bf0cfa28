"""Benchmark: promotions racing for one environment branch of a local bare remote.

Runs N `genaiops promote` processes at once (default 20), each promoting a different prompt to
``dev``, twice: first promotions (each adds its ConfigMap entry to the environment's kustomization, so
every lost race applies the change again), then updates to new versions (each touches only its own
files, so a lost race rebases the one commit). Prints the wall time of each round against one
uncontended promotion, the push attempts each needed (a lost race costs one attempt), and the time of
a no-op re-promotion, and the CPU the racing processes used (on a 2-core machine, N promotions that
each need C CPU seconds cannot finish in less than N*C/2 seconds however well they race: the printed
floor). ``--repo-artifacts N`` first commits N artifact folders (copies of the example prompts) to the
GitOps repository, as a team's monorepo holds them: the cost of every clone, reset and status then
shows whether it grows with the repository. Asserts nothing about speed.

    .venv/bin/python tests/benchmarks/bench_promote.py [--concurrency 20] [--repo-artifacts 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.unit.promote_support import World, git, make_world

from genaiops.discovery import Artifact

ROOT = Path(__file__).resolve().parents[2]


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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fill(world: World, count: int) -> None:
    """Commit ``count`` artifact folders (copies of the example prompts) to the GitOps repository."""
    examples = sorted(p.parent for p in (ROOT / "artifacts/prompts").glob("*/prompt.yaml"))
    for index in range(count):
        shutil.copytree(
            examples[index % len(examples)], world.repo / "artifacts/prompts" / f"filler-{index:05d}"
        )
    git(world.repo, "add", "-A")
    git(world.repo, "commit", "-q", "-m", f"{count} artifacts")
    git(world.repo, "push", "-q", "origin", "main")


def _race(
    world: World, scratch: Path, artifacts: list[Artifact], tag: str
) -> tuple[float, float, list[str], list[int]]:
    """Promote every artifact at once, one process each; wall time, CPU seconds, failures, push attempts
    per artifact."""
    cpu = _children_cpu()
    started = time.perf_counter()
    reports = {a.id: scratch / f"{a.id}-{tag}.json" for a in artifacts}
    procs = [_promote(world.repo, world.reports, reports[a.id], a.root) for a in artifacts]
    errors = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - started
    failed = [e for p, e in zip(procs, errors, strict=True) if p.returncode != 0]
    return wall, _children_cpu() - cpu, failed, [_attempts(reports[a.id]) for a in artifacts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repo-artifacts", type=int, default=0, help="artifact folders in the GitOps repo")
    parser.add_argument("--keep", type=Path, help="keep the scratch repositories here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-promote-"))
    try:
        world = make_world(scratch)
        if args.repo_artifacts:
            _fill(world, args.repo_artifacts)
        solo = world.write_artifact("prompt", "solo", "1.0.0")
        artifacts = [world.write_artifact("prompt", f"p{i:03d}", f"1.0.{i}") for i in range(args.concurrency)]
        world.write_reports([solo, *artifacts])

        cpu = _children_cpu()
        started = time.perf_counter()
        proc = _promote(world.repo, world.reports, scratch / "solo.json", solo.root)
        proc.communicate()
        single = time.perf_counter() - started
        single_cpu = _children_cpu() - cpu
        started = time.perf_counter()
        proc = _promote(world.repo, world.reports, scratch / "solo-again.json", solo.root)
        proc.communicate()
        noop = time.perf_counter() - started

        wall, wall_cpu, failed, attempts = _race(world, scratch, artifacts, "first")
        # the same artifacts again, each at a new version: updates touch only their own files
        updated = [world.write_artifact("prompt", a.id, f"2.0.{i}") for i, a in enumerate(artifacts)]
        world.write_reports(updated)
        update_wall, update_cpu, update_failed, update_attempts = _race(world, scratch, updated, "update")
        commits = subprocess.run(
            ["git", "-C", str(world.remote), "rev-list", "--count", "--first-parent", "main"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        cores = len(os.sched_getaffinity(0))
        floor = args.concurrency * single_cpu / cores
        print(f"GitOps repository: {args.repo_artifacts} artifact folders besides the environments")
        print(f"one promotion (clone, gate, commit, push): {single:.2f} s, CPU {single_cpu:.2f} s")
        print(f"re-promotion of the deployed version (no-op): {noop:.2f} s")
        print(
            f"CPU floor for {args.concurrency} at once on {cores} cores: {floor:.2f} s "
            f"({floor / single:.1f}x one; no scheduling of the races can go below it)"
        )
        for what, seconds, cpu_s, errors, tries in (
            ("first promotions (each adds a ConfigMap entry)", wall, wall_cpu, failed, attempts),
            (
                "updates (new versions of deployed artifacts)",
                update_wall,
                update_cpu,
                update_failed,
                update_attempts,
            ),
        ):
            print(
                f"{args.concurrency} concurrent {what}: {seconds:.2f} s wall ({seconds / single:.1f}x one, "
                f"{seconds / floor:.1f}x the floor), CPU {cpu_s:.2f} s, {len(errors)} failed; push attempts "
                f"min {min(tries)}, median {statistics.median(tries):g}, max {max(tries)}, total {sum(tries)}"
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
