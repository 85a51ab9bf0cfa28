"""genaiops reject: a rejected version (or its exact content) is accepted by no environment again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.discovery import digest
from tests.unit.promote_support import World, git, make_world, promote_upstream, remote_file


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _reject(run_cli: Any, world: World, ref: str, version: str, *extra: str) -> Any:
    return run_cli("reject", ref, version, "--repo", str(world.repo), *extra, report=False)


def _promote(run_cli: Any, world: World, env: str, path: Path) -> Any:
    return run_cli(
        "promote", "--env", env, "--repo", str(world.repo), "--reports", str(world.reports), str(path)
    )


def _refusal(result: Any) -> str:
    assert result.code == 1, result.stderr
    [finding] = [f for f in result.report["artifacts"][0]["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "promote/rejected"
    return str(finding["message"])


def test_a_rejected_version_is_recorded_once_with_its_reason(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    result = _reject(
        run_cli, world, "prompt/greeter", "1.0.0", "--reason", "INC-42: leaks\nPII", "--by", "carol"
    )
    assert result.code == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "rejected" and outcome["branch"] == "main"
    assert git(world.remote, "rev-parse", "main").strip() == outcome["commit"]
    message = git(world.remote, "log", "-1", "--format=%B").splitlines()
    assert message[0] == "reject prompt/greeter 1.0.0"
    # a newline in the reason cannot forge a trailer
    assert "Genaiops-Reason: INC-42: leaks PII" in message and "PII" not in message
    assert "Genaiops-Action: reject" in message and "Genaiops-Rejected-By: carol" in message
    recorded = yaml.safe_load(remote_file(world, "main", "environments/rejected/prompt/greeter.yaml"))
    [entry] = recorded["entries"]
    assert entry["version"] == "1.0.0" and entry["digest"] == digest(artifact)  # the checkout has it
    assert (entry["reason"], entry["by"]) == ("INC-42: leaks PII", "carol") and entry["time"]

    again = _reject(run_cli, world, "prompt/greeter", "1.0.0", "--reason", "still bad")
    assert again.code == 0 and json.loads(again.stdout)["status"] == "unchanged"
    assert git(world.remote, "rev-parse", "main").strip() == outcome["commit"]


def test_no_environment_accepts_a_rejected_version(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0", text="first")
    world.write_reports([artifact])
    promote_upstream(run_cli, world, "staging", artifact.root)  # dev has it
    assert _reject(run_cli, world, "prompt/greeter", "1.0.0", "--reason", "wrong tone").code == 0
    before = git(world.remote, "rev-parse", "main").strip()

    message = _refusal(_promote(run_cli, world, "staging", artifact.root))
    assert "prompt/greeter 1.0.0: it was rejected by" in message and "wrong tone" in message
    assert git(world.remote, "rev-parse", "main").strip() == before

    world.write_artifact("prompt", "greeter", "1.0.1", text="fixed")  # a new version: accepted
    world.write_reports([artifact])
    assert _promote(run_cli, world, "dev", artifact.root).code == 0

    other = world.write_artifact("guardrail", "pii", "1.0.0")  # other artifacts are not affected
    world.write_reports([other])
    assert _promote(run_cli, world, "dev", other.root).code == 0


def test_a_version_the_checkout_does_not_have_is_rejected_by_version(world: World, run_cli: Any) -> None:
    """Rejecting a version ahead of time (not the checkout's) records no digest; promote refuses it."""
    assert _reject(run_cli, world, "model-config/chat", "2.0.0", "--reason", "wrong model").code == 0
    recorded = yaml.safe_load(remote_file(world, "main", "environments/rejected/model-config/chat.yaml"))
    assert recorded["entries"][0]["digest"] is None
    artifact = world.write_artifact("model-config", "chat", "2.0.0")
    world.write_reports([artifact])
    assert "wrong model" in _refusal(_promote(run_cli, world, "dev", artifact.root))


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_a_rejection_needs_a_reason(world: World, run_cli: Any, reason: str) -> None:
    world.write_artifact("prompt", "greeter", "1.0.0")
    before = git(world.remote, "rev-parse", "main").strip()
    result = _reject(run_cli, world, "prompt/greeter", "1.0.0", "--reason", reason)
    assert result.code == 2 and "--reason is required" in result.stderr
    assert git(world.remote, "rev-parse", "main").strip() == before


def test_a_malformed_reference_is_a_usage_error(world: World, run_cli: Any) -> None:
    result = _reject(run_cli, world, "prompts/greeter", "1.0.0", "--reason", "x")
    assert result.code == 2 and "genaiops reject prompt/support-answer 1.2.0" in result.stderr


def test_an_unreachable_gitops_remote_is_a_retryable_error(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    """The GitOps server is down: exit 3 (the step is retried), a clear message, nothing written."""
    missing = tmp_path / "nowhere.git"
    result = _reject(run_cli, world, "prompt/greeter", "1.0.0", "--reason", "x", "--remote", str(missing))
    assert result.code == 3 and "cannot clone the GitOps repository" in result.stderr
    assert not (world.repo / "environments" / "rejected").exists()
