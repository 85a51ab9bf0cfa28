"""Benchmark: the manifest validation harness on this repository.

Times, each as the median of --repeat runs:

- schema generation for every pin into an empty cache (Go module cache warm: no download),
- `genaiops manifests` on the repository with a warm schema cache, as a fresh process like CI,
- `genaiops init --check` on the repository, as a fresh process.

Prints figures and the harness's own tally; asserts nothing.

    .venv/bin/python tests/benchmarks/bench_manifests.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "scripts"))

from genaiops.manifests.schemas import ensure_schemas  # noqa: E402


def _median(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s (min {min(samples):.2f}, n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    generation: list[float] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            folders = ensure_schemas(Path(cache))
            generation.append(time.perf_counter() - start)
            files = sum(1 for folder in folders for _ in folder.rglob("*.json"))
    print(f"schema generation ({files} files): {_median(generation)}")

    harness: list[float] = []
    tally = ""
    for _ in range(args.repeat):
        start = time.perf_counter()
        proc = subprocess.run(
            [str(BIN / "genaiops"), "manifests", "--repo", str(ROOT), "-q"],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ.copy(),
        )
        harness.append(time.perf_counter() - start)
        tally = proc.stdout
    print(f"genaiops manifests (warm cache, exit {proc.returncode}): {_median(harness)}")

    check: list[float] = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run(
            [str(BIN / "genaiops"), "init", "--repo", str(ROOT), "--check"], capture_output=True, check=False
        )
        check.append(time.perf_counter() - start)
    print(f"genaiops init --check: {_median(check)}")
    print(tally.strip().splitlines()[-2] if tally.strip() else "(no tally)")


if __name__ == "__main__":
    main()
