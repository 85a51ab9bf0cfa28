"""Benchmark: lint speed on a generated repository of 1,000 artifacts (250 per kind).

Copies the repository's example artifacts under new ids until each kind has N artifacts (kinds
whose examples or lint check are missing are skipped and named), commits the result to a scratch
git repository, then times, each as a fresh `genaiops` process like CI runs it:

- full lint of every artifact,
- lint of one changed artifact via ``--changed-since HEAD`` (the working tree, untracked files included:
  git status with its untracked cache; the first look, which builds that cache, is printed apart) and
  via ``--changed-since HEAD~1...HEAD`` (commits only, as a pull request's CI on a clean checkout runs it),
- peak memory (max RSS) of the full lint,
- check-jsonschema over the same manifest files with the same schemas, and our time as a ratio
  (genaiops does the schema checks *plus* everything else lint does),
- the import time of ``genaiops --help``.

Prints figures; asserts nothing (targets on a 2-core machine: full < 3 s at 1,000 and < 10 s at
10,000 artifacts; one changed < 0.3 s, flat from 1,000 to 10,000).

    .venv/bin/python tests/benchmarks/bench_lint.py [--per-kind 250] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import measure

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCHEMAS = ROOT / "scripts/genaiops/schemas"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
# (kind folder, manifest, [(schema, glob of the files it covers, relative to the kind folder)])
KINDS = [
    ("prompts", "prompt.yaml", [("prompt", "*/prompt.yaml"), ("prompt-test-cases", "*/test_cases.yaml")]),
    ("model-configs", "model-config.yaml", [("model-config", "*/model-config.yaml")]),
    ("rag", "rag.yaml", [("rag", "*/rag.yaml")]),
    ("guardrails", "policy.yaml", [("guardrail-policy", "*/policy.yaml")]),
]
KIND_NAMES = {"prompts": "prompt", "model-configs": "model-config", "rag": "rag", "guardrails": "guardrail"}


def _lint_registered() -> set[str]:
    from genaiops.stages.registry import CHECKS

    return set(CHECKS["lint"])


def generate(dest: Path, per_kind: int) -> list[str]:
    """Fill ``dest`` with per_kind copies of each kind's examples; returns notes on skipped kinds."""
    notes = []
    shutil.copytree(ROOT / "artifacts/catalog", dest / "artifacts/catalog")
    if (ROOT / "genaiops.yaml").is_file():
        shutil.copy2(ROOT / "genaiops.yaml", dest / "genaiops.yaml")
    registered = _lint_registered()
    for folder, manifest, _ in KINDS:
        examples = sorted(p.parent for p in (ROOT / "artifacts" / folder).glob(f"*/{manifest}"))
        if not examples or KIND_NAMES[folder] not in registered:
            notes.append(
                f"{folder}: skipped ({'no examples' if not examples else 'no lint check registered'})"
            )
            continue
        # The originals keep their ids (prompts reference model configs by id); copies get new ones.
        for example in examples:
            shutil.copytree(example, dest / "artifacts" / folder / example.name)
        for index in range(per_kind - len(examples)):
            example = examples[index % len(examples)]
            new_id = f"{example.name[:50]}-b{index:04d}"
            target = dest / "artifacts" / folder / new_id
            shutil.copytree(example, target)
            path = target / manifest
            text = path.read_text(encoding="utf-8")
            path.write_text(
                re.sub(rf"(?m)^id: {re.escape(example.name)}\s*$", f"id: {new_id}", text, count=1),
                encoding="utf-8",
            )
    return notes


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=GIT_ENV, capture_output=True)


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, int, float]:
    """(wall seconds, exit code, max RSS in KiB, CPU seconds) of one process."""
    run = measure(cmd, cwd)
    return run.wall, run.exit_code, int(run.rss_mib * 1024), run.cpu


def best(cmd: list[str], cwd: Path, repeat: int) -> tuple[float, float, int, int, float]:
    """(best wall, median wall, exit code, peak RSS KiB, best CPU seconds) over ``repeat`` runs.

    CPU seconds (user + system) are printed next to wall time: on a shared machine the wall
    clock also measures the other tenants.
    """
    runs = [timed(cmd, cwd) for _ in range(repeat)]
    times = [r[0] for r in runs]
    return min(times), statistics.median(times), runs[-1][1], max(r[2] for r in runs), min(r[3] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate the repository here and keep it")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-lint-")
    repo = args.keep or Path(tmp) / "repo"
    try:
        notes = generate(repo, args.per_kind)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "generated")
        artifacts = sum(1 for _ in (repo / "artifacts").glob("*/*/") if _.parent.name != "catalog")
        print(f"repository: {artifacts} artifacts in {repo}")
        for note in notes:
            print(f"  note: {note}")
        report = Path(tmp) / "report.json"
        genaiops = str(BIN / "genaiops")

        full = best([genaiops, "lint", "artifacts", "-q", "--report", str(report)], repo, args.repeat)
        print(
            f"full lint:          best {full[0]:.2f} s, median {full[1]:.2f} s, CPU {full[4]:.2f} s "
            f"(exit {full[2]}), peak RSS {full[3] / 1024:.0f} MiB   [target < 3 s at 1,000, < 10 s at 10,000]"
        )

        for folder, _, _ in KINDS:
            if (repo / "artifacts" / folder).is_dir():
                part = best([genaiops, "lint", f"artifacts/{folder}", "-q", "--report", str(report)], repo, 1)
                print(f"  lint {folder:<14} wall {part[0]:.2f} s, CPU {part[4]:.2f} s (exit {part[2]})")

        changed = next((repo / "artifacts/prompts").iterdir())
        with (changed / "template.j2").open("a", encoding="utf-8") as handle:
            handle.write("\n")
        worktree_form = [genaiops, "lint", "--changed-since", "HEAD", "-q", "--report", str(report)]
        first = timed(worktree_form, repo)  # git status writes its untracked cache into the index
        one = best(worktree_form, repo, args.repeat)
        print(
            f"one changed:        best {one[0]:.2f} s, median {one[1]:.2f} s, CPU {one[4]:.2f} s "
            f"(exit {one[2]}), peak RSS {one[3] / 1024:.0f} MiB; first look {first[0]:.2f} s "
            "(git builds its untracked cache)   [target < 0.3 s, flat]"
        )

        git(repo, "commit", "-q", "-am", "one changed artifact")
        ranged = best(
            [genaiops, "lint", "--changed-since", "HEAD~1...HEAD", "-q", "--report", str(report)],
            repo,
            args.repeat,
        )
        print(
            f"one changed commit: best {ranged[0]:.2f} s, median {ranged[1]:.2f} s, CPU {ranged[4]:.2f} s "
            f"(exit {ranged[2]}), BASE...HEAD as a pull request's CI runs it   [target < 0.3 s, flat]"
        )

        help_time = best([genaiops, "--help"], repo, args.repeat)
        print(f"genaiops --help:    best {help_time[0]:.2f} s, CPU {help_time[4]:.2f} s")

        cjs_total = 0.0
        for folder, _, schemas in KINDS:
            for schema, pattern in schemas:
                files = sorted(str(p) for p in (repo / "artifacts" / folder).glob(pattern))
                schema_file = SCHEMAS / f"{schema}.schema.json"
                if not files or not schema_file.is_file():
                    continue
                elapsed = best(
                    [str(BIN / "check-jsonschema"), "--schemafile", str(schema_file), *files],
                    repo,
                    args.repeat,
                )
                cjs_total += elapsed[0]
                label = f"check-jsonschema {schema:<18} {len(files):>4} files:"
                print(f"{label} {elapsed[0]:.2f} s (exit {elapsed[2]})")
        if cjs_total:
            print(
                f"check-jsonschema total: {cjs_total:.2f} s; genaiops full lint / check-jsonschema = "
                f"{full[0] / cjs_total:.2f}"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
