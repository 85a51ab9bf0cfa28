"""Lint in worker processes gives the same report as lint in one process, in the same order."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genaiops.errors import UsageError
from genaiops.kinds import BY_NAME
from genaiops.stages import parallel
from tests.conftest import PRESENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
# the kinds this repository ships (a rendered project keeps only the selected ones' examples)
KINDS = {BY_NAME[name].folder: BY_NAME[name].manifest for name in PRESENT_KINDS}
PER_KIND = 72 // len(KINDS)  # 72 artifacts in all: enough for two workers (parallel.MIN_ARTIFACTS)


def _repo(dest: Path) -> Path:
    """The repository's examples copied to PER_KIND artifacts per kind, a few of them broken."""
    shutil.copytree(ROOT / "artifacts/catalog", dest / "artifacts/catalog")
    shutil.copy2(ROOT / "genaiops.yaml", dest / "genaiops.yaml")
    for folder, manifest in KINDS.items():
        examples = sorted(p.parent for p in (ROOT / "artifacts" / folder).glob(f"*/{manifest}"))
        assert examples, folder
        for example in examples:
            shutil.copytree(example, dest / "artifacts" / folder / example.name)
        for index in range(PER_KIND - len(examples)):
            example = examples[index % len(examples)]
            new_id = f"{example.name[:40]}-c{index:02d}"
            target = dest / "artifacts" / folder / new_id
            shutil.copytree(example, target)
            path = target / manifest
            if index % 9 == 4:
                continue  # keeps the example's id: core/id-mismatch
            text = path.read_text(encoding="utf-8")
            path.write_text(
                re.sub(rf"(?m)^id: {re.escape(example.name)}\s*$", f"id: {new_id}", text, count=1),
                encoding="utf-8",
            )
            if index == 7:
                path.write_text("rules: [\n", encoding="utf-8")  # core/invalid-yaml
    return dest


def _stable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without wall-clock fields."""
    kept = {k: v for k, v in report.items() if k not in {"startedAt", "finishedAt", "durationMs"}}
    kept["artifacts"] = [{k: v for k, v in a.items() if k != "timings"} for a in report["artifacts"]]
    return kept


def test_parallel_lint_report_equals_serial(
    tmp_path: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path / "repo")
    count = PER_KIND * len(KINDS)
    monkeypatch.setenv(parallel.ENV_JOBS, "1")
    serial = run_cli("lint", "artifacts", cwd=repo)
    monkeypatch.setenv(parallel.ENV_JOBS, "2")
    assert parallel.jobs_for("lint", count) == 2  # the second run really forks
    forked = run_cli("lint", "artifacts", cwd=repo)
    assert serial.code == forked.code == 1
    assert len(serial.report["artifacts"]) == count
    failed = {(a["kind"], a["id"]) for a in serial.report["artifacts"] if a["status"] != "pass"}
    assert len(failed) >= len(KINDS) * 2  # id mismatches and unparsable manifests in every kind
    assert _stable(forked.report) == _stable(serial.report)


def _pid_of(item: int, state: int) -> tuple[int, int]:
    return item * state, os.getpid()


def test_map_forked_keeps_input_order_and_runs_in_children() -> None:
    results = parallel.map_forked(_pid_of, list(range(100)), 3, jobs=2)
    assert [value for value, _ in results] == [i * 3 for i in range(100)]
    assert os.getpid() not in {pid for _, pid in results}
    assert parallel.map_forked(_pid_of, [1, 2], 5, jobs=1) == [(5, os.getpid()), (10, os.getpid())]


def test_jobs_only_for_lint_and_large_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parallel.ENV_JOBS, "4")
    assert parallel.jobs_for("lint", 1000) == 4
    assert parallel.jobs_for("lint", parallel.MIN_ARTIFACTS - 1) == 1
    assert parallel.jobs_for("eval", 1000) == 1
    assert parallel.jobs_for("promote", 1000) == 1
    monkeypatch.setenv(parallel.ENV_JOBS, "1")
    assert parallel.jobs_for("lint", 1000) == 1
    monkeypatch.delenv(parallel.ENV_JOBS)
    assert 1 <= parallel.jobs_for("lint", 1000) <= min(parallel.available_cpus(), parallel.MAX_JOBS)


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_bad_jobs_setting_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(parallel.ENV_JOBS, value)
    with pytest.raises(UsageError, match=parallel.ENV_JOBS):
        parallel.jobs_for("lint", 1000)
    with pytest.raises(UsageError, match=parallel.ENV_JOBS):
        parallel.jobs_for("lint", 1)  # a typo is reported even when the run is too small to fork
