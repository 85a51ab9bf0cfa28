"""`genaiops rollback` restores an earlier promotion byte for byte, from the lineage."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from genaiops.discovery import Artifact
from genaiops.lineage import read_lineage
from genaiops.promote.rollback import parse_artifact_ref
from tests.conftest import TOOLS_BIN
from tests.unit.promote_support import World, git, make_world

ENV_DIR = "environments/dev"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("REPORT_PATH", str(tmp_path / "command-report.json"))
    return make_world(tmp_path)


def _promote(run_cli: Any, world: World, artifact: Artifact, env: str = "dev") -> None:
    world.write_reports([artifact])
    result = run_cli(
        "promote",
        "--env",
        env,
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(artifact.root),
    )
    assert result.code == 0, result.stderr


def _manifests(world: World, ref: str) -> dict[str, str]:
    """Every file of the environment except the lineage (which grows by design)."""
    names = git(world.remote, "ls-tree", "-r", "--name-only", ref, ENV_DIR).splitlines()
    return {n: git(world.remote, "show", f"{ref}:{n}") for n in names if "/lineage/" not in n}


def _rollback(run_cli: Any, world: World, *args: str) -> Any:
    return run_cli("rollback", "--env", "dev", "--repo", str(world.repo), *args, report=False)


def _build(world: World, ref: str, dest: Path) -> str:
    git(world.remote, "worktree", "add", "-q", "--detach", str(dest), ref)
    return subprocess.run(
        [str(TOOLS_BIN / "kustomize"), "build", str(dest / ENV_DIR)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_rollback_restores_the_previous_promotion_byte_for_byte(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    greeter = world.write_artifact("prompt", "greeter", "1.0.0", text="v1")
    (greeter.root / "notes.txt").write_text("v1 only\n", encoding="utf-8")
    _promote(run_cli, world, greeter)
    after_v1 = git(world.remote, "rev-parse", "main").strip()
    (greeter.root / "notes.txt").unlink()
    world.write_artifact("prompt", "greeter", "2.0.0", text="v2")
    _promote(run_cli, world, greeter)
    assert _manifests(world, "main") != _manifests(world, after_v1)

    result = _rollback(run_cli, world, "prompt/greeter")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "pushed"
    assert (summary["from"]["version"], summary["to"]["version"]) == ("2.0.0", "1.0.0")
    assert _manifests(world, "main") == _manifests(world, after_v1)
    assert (
        git(world.remote, "log", "-1", "--format=%s", "main").strip()
        == "roll back prompt/greeter 1.0.0 in dev"
    )

    clone = world.clone_remote(tmp_path / "check")
    entries = read_lineage(clone, "dev", "prompt", "greeter")
    assert [(e.action, e.version) for e in entries] == [
        ("promote", "1.0.0"),
        ("promote", "2.0.0"),
        ("rollback", "1.0.0"),
    ]
    assert entries[2].rolled_back_from == "2.0.0"
    assert (entries[2].digest, entries[2].snapshot_tree, entries[2].scorecard) == (
        entries[0].digest,
        entries[0].snapshot_tree,
        entries[0].scorecard,
    )  # the baseline is v1's again
    if (TOOLS_BIN / "kustomize").exists():
        assert _build(world, "main", tmp_path / "now") == _build(world, after_v1, tmp_path / "then")

    again = _rollback(run_cli, world, "prompt/greeter", "--to", "1.0.0")
    assert json.loads(again.stdout)["status"] == "unchanged"


def test_rollback_to_a_version_keeps_other_artifacts(world: World, run_cli: Any) -> None:
    greeter = world.write_artifact("prompt", "greeter", "1.0.0", text="v1")
    _promote(run_cli, world, greeter)
    v1_files = {k: v for k, v in _manifests(world, "main").items() if "/greeter/" in k}
    for version in ("1.1.0", "1.2.0"):
        world.write_artifact("prompt", "greeter", version, text=version)
        _promote(run_cli, world, greeter)
    other = world.write_artifact("model-config", "chat", "1.0.0")
    _promote(run_cli, world, other)

    result = _rollback(run_cli, world, "prompt/greeter", "--to", "1.0.0")
    assert result.code == 0, result.stderr
    now = _manifests(world, "main")
    assert {k: v for k, v in now.items() if "/greeter/" in k} == v1_files
    assert f"{ENV_DIR}/artifacts/model-config/chat/model-config.yaml" in now
    assert "genaiops-model-config-chat" in now[f"{ENV_DIR}/kustomization.yaml"]


def test_rollback_errors_are_clear(world: World, run_cli: Any) -> None:
    missing = _rollback(run_cli, world, "prompt/never")
    assert missing.code == 2 and "never promoted" in missing.stderr
    greeter = world.write_artifact("prompt", "greeter", "1.0.0")
    _promote(run_cli, world, greeter)
    only_one = _rollback(run_cli, world, "prompt/greeter")
    assert only_one.code == 2 and "no earlier version" in only_one.stderr
    unknown = _rollback(run_cli, world, "prompt/greeter", "--to", "9.9.9")
    assert unknown.code == 2 and "never deployed at version 9.9.9" in unknown.stderr
    assert _rollback(run_cli, world, "nonsense").code == 2
    with pytest.raises(Exception, match="not KIND/ID"):
        parse_artifact_ref("widget/x")
