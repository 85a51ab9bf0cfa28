"""Promotion follows the chain of environments: a version reaches N only once N-1 deploys it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from genaiops.lineage import read_lineage
from genaiops.project import load_project
from tests.unit.promote_support import World, git, make_world, promote_cli, promote_upstream


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _refusal(result: Any) -> str:
    assert result.code == 1, result.stderr
    [artifact] = result.report["artifacts"]
    [finding] = [f for f in artifact["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "promote/out-of-order"
    assert "promotion" not in artifact["details"]
    return str(finding["message"])


def _refs(world: World) -> str:
    return git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)")


def test_the_chain_is_genaiops_yaml_order(world: World) -> None:
    project = load_project(world.repo)
    assert project.previous_environment("dev") is None
    assert [project.previous_environment(e).name for e in ("staging", "prod")] == ["dev", "staging"]  # type: ignore[union-attr]


def test_a_version_the_previous_environment_lacks_is_refused_and_nothing_is_pushed(
    world: World, run_cli: Any
) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    before = _refs(world)
    message = _refusal(promote_cli(run_cli, world, "staging", artifact.root))
    assert (
        "prompt/greeter 1.0.0 cannot reach staging before dev: dev does not deploy prompt/greeter" in message
    )
    assert _refs(world) == before

    # prod needs approval: no merge-request branch either
    promote_upstream(run_cli, world, "staging", artifact.root)  # dev only
    before = _refs(world)
    message = _refusal(promote_cli(run_cli, world, "prod", artifact.root))
    assert "cannot reach prod before staging" in message
    assert _refs(world) == before


def test_only_the_version_the_previous_environment_deploys_now_passes(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0", text="first")
    world.write_reports([artifact])
    assert promote_cli(run_cli, world, "dev", artifact.root).code == 0
    world.write_artifact("prompt", "greeter", "1.1.0", text="second")
    world.write_reports([artifact])
    message = _refusal(promote_cli(run_cli, world, "staging", artifact.root))
    assert "dev deploys prompt/greeter 1.0.0" in message

    # dev takes 1.1.0, then rolls it back (a watch breach): dev no longer runs it, staging may not take it
    assert promote_cli(run_cli, world, "dev", artifact.root).code == 0
    rollback = run_cli("rollback", "--env", "dev", "--repo", str(world.repo), "prompt/greeter", report=False)
    assert rollback.code == 0, rollback.stderr
    message = _refusal(promote_cli(run_cli, world, "staging", artifact.root))
    assert "dev deploys prompt/greeter 1.0.0" in message

    assert promote_cli(run_cli, world, "dev", artifact.root).code == 0  # fixed forward: dev runs 1.1.0 again
    result = promote_cli(run_cli, world, "staging", artifact.root)
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    assert promotion["status"] == "pushed" and promotion["deployedIn"] == "dev"
    assert git(world.remote, "log", "-1", "--format=%s").strip() == "promote prompt/greeter 1.1.0 in staging"


def test_same_version_with_other_content_is_refused(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0", text="first")
    world.write_reports([artifact])
    assert promote_cli(run_cli, world, "dev", artifact.root).code == 0
    world.write_artifact("prompt", "greeter", "1.0.0", text="edited without a version bump")
    world.write_reports([artifact])
    message = _refusal(promote_cli(run_cli, world, "staging", artifact.root))
    assert "dev deploys prompt/greeter 1.0.0 with other content" in message


def test_skipping_is_an_explicit_recorded_exception(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("guardrail", "pii", "2.0.0")
    world.write_reports([artifact])
    reason = "hotfix for INC-7, approved by the on-call lead"
    result = promote_cli(run_cli, world, "staging", artifact.root, "--skip-order", reason)
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    assert promotion["status"] == "pushed" and promotion["orderException"] == f"skipped dev: {reason}"
    assert "deployedIn" not in promotion
    clone = world.clone_remote(world.repo.parent / "check")
    [entry] = read_lineage(clone, "staging", "guardrail", "pii")
    assert entry.order_exception == f"skipped dev: {reason}"
    assert f"Genaiops-Order-Exception: skipped dev: {reason}" in git(world.remote, "log", "-1", "--format=%B")


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_skip_without_a_reason_is_a_usage_error(world: World, run_cli: Any, reason: str) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    before = _refs(world)
    result = promote_cli(run_cli, world, "staging", artifact.root, "--skip-order", reason)
    assert result.code == 2 and "--skip-order needs a reason" in result.stderr
    assert _refs(world) == before


def test_the_first_environment_has_no_order_to_keep(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("model-config", "chat", "1.0.0")
    world.write_reports([artifact])
    result = promote_cli(run_cli, world, "dev", artifact.root)
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    assert "deployedIn" not in promotion and "orderException" not in promotion


def _prompt_naming(world: World, artifact_id: str, model_config: str) -> Path:
    artifact = world.write_artifact("prompt", artifact_id, "1.0.0")
    with artifact.manifest_path.open("a", encoding="utf-8") as manifest:
        manifest.write(f"model_config: {model_config}\n")
    return artifact.root


def test_a_prompt_waits_for_the_model_config_it_names(world: World, run_cli: Any) -> None:
    prompt = _prompt_naming(world, "greeter", "chat")
    world.write_reports([world.artifact("prompt", "greeter")])
    before = _refs(world)
    result = promote_cli(run_cli, world, "dev", prompt)
    assert result.code == 1
    [finding] = [f for f in result.report["artifacts"][0]["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "promote/missing-dependency"
    assert "names model_config: chat, and dev does not deploy model-config/chat" in finding["message"]
    assert _refs(world) == before

    # one run with both: the model config goes first, then the prompt finds it deployed
    chat = world.write_artifact("model-config", "chat", "2.0.0")
    world.write_reports([world.artifact("prompt", "greeter"), chat])
    both = promote_cli(run_cli, world, "dev", prompt, str(chat.root))
    assert both.code == 0, both.stderr
    assert git(world.remote, "log", "-2", "--format=%s").splitlines() == [
        "promote prompt/greeter 1.0.0 in dev",
        "promote model-config/chat 2.0.0 in dev",
    ]


def test_a_model_config_a_deployed_prompt_names_cannot_be_retired(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    chat = world.write_artifact("model-config", "chat", "2.0.0")
    prompt = _prompt_naming(world, "greeter", "chat")
    world.write_reports([chat, world.artifact("prompt", "greeter")])
    assert promote_cli(run_cli, world, "dev", chat.root).code == 0
    assert promote_cli(run_cli, world, "dev", prompt).code == 0
    shutil.rmtree(chat.root)
    before = _refs(world)

    def retire() -> Any:
        return run_cli("promote", "--env", "dev", "--repo", str(world.repo), "--retire", "model-config/chat")

    refused = retire()
    assert refused.code == 1
    [finding] = [f for f in refused.report["artifacts"][0]["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "promote/retire-referenced"
    assert "model-config/chat is named by prompt/greeter (model_config) in dev" in finding["message"]
    assert _refs(world) == before

    shutil.rmtree(prompt)  # the prompt leaves first, then nothing names the model config
    assert (
        run_cli("promote", "--env", "dev", "--repo", str(world.repo), "--retire", "prompt/greeter").code == 0
    )
    retired = retire()
    assert retired.code == 0, retired.stderr
    assert retired.report["artifacts"][0]["details"]["retirement"]["status"] == "retired"
