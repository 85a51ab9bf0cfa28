"""`validate`/`eval --deployed`: the stages check what an environment deploys (its promoted snapshots),
not the working tree's artifacts/ - the nightly drift and RAG freshness checks depend on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genaiops.deployed import deployed_tree
from tests.unit.promote_support import World, git, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _promote(run_cli: Any, world: World, path: Path, env: str) -> None:
    result = run_cli(
        "promote", "--env", env, "--repo", str(world.repo), "--reports", str(world.reports), str(path)
    )
    assert result.code == 0, result.stderr


def test_the_deployed_version_is_checked_not_the_working_tree(world: World, run_cli: Any) -> None:
    deployed = world.write_artifact("prompt", "greeter", "1.0.0", text="deployed")
    world.write_reports([deployed])
    world.commit_source()
    _promote(run_cli, world, deployed.root, "dev")
    git(world.repo, "pull", "-q", "--rebase", "origin", "main")
    world.write_artifact("prompt", "greeter", "2.0.0", text="newer, never promoted")
    world.write_artifact("prompt", "other", "1.0.0")  # not deployed anywhere

    result = run_cli("validate", "--deployed", "--env", "dev", "--repo", str(world.repo))
    assert result.report is not None
    assert result.report["context"]["deployed"] == {"environment": "dev", "repo": str(world.repo)}
    assert [(a["id"], a["version"]) for a in result.report["artifacts"]] == [("greeter", "1.0.0")]
    # the working tree is untouched
    assert 'version: "2.0.0"' in (world.repo / "artifacts/prompts/greeter/prompt.yaml").read_text()


def test_a_path_selects_among_the_deployed_artifacts(world: World, run_cli: Any) -> None:
    deployed = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([deployed])
    world.commit_source()
    _promote(run_cli, world, deployed.root, "dev")
    git(world.repo, "pull", "-q", "--rebase", "origin", "main")
    rag = run_cli("validate", "artifacts/rag", "--deployed", "--env", "dev", "--repo", str(world.repo))
    assert rag.code == 0 and rag.report["artifacts"] == []  # no RAG config deployed: nothing to check
    prompts = run_cli(
        "validate", "artifacts/prompts", "--deployed", "--env", "dev", "--repo", str(world.repo)
    )
    assert [a["id"] for a in prompts.report["artifacts"]] == ["greeter"]


def test_deployed_needs_an_environment(world: World, run_cli: Any) -> None:
    result = run_cli("eval", "--deployed", "--repo", str(world.repo))
    assert result.code == 2
    assert "--deployed needs --env" in result.stderr


def test_an_unknown_environment_is_a_usage_error(world: World, run_cli: Any) -> None:
    result = run_cli("validate", "--deployed", "--env", "nowhere", "--repo", str(world.repo))
    assert result.code == 2


def test_the_tree_holds_shared_files_and_is_removed(world: World) -> None:
    (world.repo / "artifacts" / "catalog").mkdir(parents=True)
    (world.repo / "artifacts" / "catalog" / "models.yaml").write_text("models: []\n")
    with deployed_tree(world.repo, "dev") as tree:
        assert (tree / "genaiops.yaml").is_file()
        assert (tree / "artifacts" / "catalog" / "models.yaml").is_file()
        assert (tree / "environments" / "dev").is_dir()
        assert sorted(p.name for p in (tree / "artifacts").iterdir()) == sorted(
            ["catalog", "prompts", "model-configs", "rag", "guardrails"]
        )
    assert not tree.exists()
