"""The lineage file: append-only bytes, readable entries, the baseline for the next evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaiops.errors import UsageError
from genaiops.lineage import LineageEntry, append_lineage, baseline_for, lineage_relpath, read_lineage


def _entry(version: str, **extra: object) -> LineageEntry:
    return LineageEntry(version=version, digest=f"sha256:{version}", snapshot_tree="t" * 40, **extra)  # type: ignore[arg-type]


def test_entries_are_appended_without_rewriting_history(tmp_path: Path) -> None:
    path = append_lineage(tmp_path, "dev", "prompt", "greeter", _entry("1.0.0", scorecard={"metrics": []}))
    first = path.read_bytes()
    append_lineage(tmp_path, "dev", "prompt", "greeter", _entry("1.1.0", workflow="ci-1", approver="bob"))
    second = path.read_bytes()
    append_lineage(
        tmp_path, "dev", "prompt", "greeter", _entry("1.0.0", action="rollback", rolled_back_from="1.1.0")
    )
    third = path.read_bytes()
    assert second.startswith(first) and third.startswith(second)
    entries = read_lineage(tmp_path, "dev", "prompt", "greeter")
    assert [(e.action, e.version) for e in entries] == [
        ("promote", "1.0.0"),
        ("promote", "1.1.0"),
        ("rollback", "1.0.0"),
    ]
    assert entries[1].approver == "bob" and entries[2].rolled_back_from == "1.1.0"
    assert path == tmp_path / lineage_relpath("dev", "prompt", "greeter")


def test_baseline_is_the_deployed_entrys_scorecard(tmp_path: Path) -> None:
    assert baseline_for("dev", "prompt", "greeter", repo=tmp_path) is None
    append_lineage(tmp_path, "dev", "prompt", "greeter", _entry("1.0.0", scorecard={"verdict": "pass"}))
    append_lineage(tmp_path, "dev", "prompt", "greeter", _entry("2.0.0"))
    assert baseline_for("dev", "prompt", "greeter", repo=tmp_path) is None  # the deployed one has none
    append_lineage(
        tmp_path, "dev", "prompt", "greeter", _entry("3.0.0", scorecard={"verdict": "pass", "n": 3})
    )
    baseline = baseline_for("dev", "prompt", "greeter", repo=tmp_path)
    assert baseline == {
        "verdict": "pass",
        "n": 3,
        "baselineOf": {"environment": "dev", "version": "3.0.0", "digest": "sha256:3.0.0"},
    }


def test_corrupt_or_hand_edited_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / lineage_relpath("dev", "prompt", "greeter")
    path.parent.mkdir(parents=True)
    path.write_text("entries: [oops\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid YAML"):
        read_lineage(tmp_path, "dev", "prompt", "greeter")
    path.write_text("entries:\n  - version: '1.0.0'\n", encoding="utf-8")
    with pytest.raises(UsageError, match="lacks digest, snapshotTree"):
        read_lineage(tmp_path, "dev", "prompt", "greeter")
    path.write_text("entries: []\nkind: Lineage\n", encoding="utf-8")
    with pytest.raises(UsageError, match="must be the last key"):
        append_lineage(tmp_path, "dev", "prompt", "greeter", _entry("1.0.0"))
