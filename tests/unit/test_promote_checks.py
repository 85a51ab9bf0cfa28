"""A failed scheduled check of what an environment deploys keeps that version from the next environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.discovery import Artifact
from genaiops.report import ArtifactResult, Report, write_report
from tests.unit.promote_support import World, deployed_in_dev, git, make_world, promote_cli


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _check_report(
    tmp_path: Path, artifact: Artifact, outcome: str, *, env: str = "dev", deployed: bool = True
) -> Path:
    """An eval report as `genaiops eval --deployed --env ENV` writes it, with the given verdict."""
    report = Report(stage="eval")
    if deployed:
        report.context["deployed"] = {"environment": env, "repo": "/work/src"}
    result = ArtifactResult(kind=artifact.kind.name, id=artifact.id, path=artifact.relpath, digest="x")
    if outcome == "fail":
        result.add("eval/regression", "exact_match fell from 0.9 to 0.4")
    elif outcome == "error":
        result.infra_error = "the model endpoint did not answer"
    report.artifacts.append(result)
    path = tmp_path / f"drift-{outcome}-{len(list(tmp_path.glob('drift-*')))}.json"
    write_report(report, path)
    return path


def _record(run_cli: Any, world: World, report: Path, env: str = "dev") -> Any:
    return run_cli(
        "record-check", "--env", env, "--repo", str(world.repo), "--workflow", "drift-1", str(report)
    )


def _recorded(world: World, env: str = "dev") -> dict[str, Any]:
    text = git(world.remote, "show", f"main:environments/{env}/checks.yaml")
    return yaml.safe_load(text)["artifacts"]


def _errors(result: Any) -> list[str]:
    return [
        f["ruleId"] for a in result.report["artifacts"] for f in a["findings"] if f["severity"] == "error"
    ]


def test_a_failed_check_upstream_blocks_the_version_until_a_check_passes(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    artifact = deployed_in_dev(run_cli, world)
    recorded = _record(run_cli, world, _check_report(tmp_path, artifact, "fail"))
    assert recorded.code == 0, recorded.stderr
    # the step's report (a workflow keeps it as an output artifact)
    context = recorded.report["context"]["recordCheck"]
    assert context["status"] == "pushed" and context["failed"] == ["prompt/greeter"]
    assert recorded.report["stage"] == "record-check" and recorded.report["exitCode"] == 0
    record = _recorded(world)["prompt/greeter"]
    assert (record["version"], record["status"], record["findings"]) == ("1.0.0", "fail", ["eval/regression"])
    assert record["digest"].startswith("sha256:") and record["workflow"] == "drift-1"
    message = git(world.remote, "log", "-1", "--format=%B", "main")
    assert "Genaiops-Action: record-check" in message and "Genaiops-Failed: prompt/greeter" in message

    before = git(world.remote, "rev-parse", "main")
    refused = promote_cli(run_cli, world, "staging", artifact.root)
    assert refused.code == 1
    assert _errors(refused) == ["promote/failed-upstream-check"]
    finding = refused.report["artifacts"][0]["findings"][0]
    assert "the eval check of it in dev failed" in finding["message"] and "drift-1" in finding["message"]
    assert git(world.remote, "rev-parse", "main") == before

    # an errored check is no verdict: the failure stays on record
    assert _record(run_cli, world, _check_report(tmp_path, artifact, "error")).code == 0
    assert _recorded(world)["prompt/greeter"]["status"] == "fail"
    assert promote_cli(run_cli, world, "staging", artifact.root).code == 1

    # a passing check lifts the block
    assert _record(run_cli, world, _check_report(tmp_path, artifact, "pass")).code == 0
    assert _recorded(world)["prompt/greeter"]["status"] == "pass"
    assert promote_cli(run_cli, world, "staging", artifact.root).code == 0


def test_the_block_is_for_that_version_only_and_skipping_is_recorded(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    artifact = deployed_in_dev(run_cli, world, text="first")
    assert _record(run_cli, world, _check_report(tmp_path, artifact, "fail")).code == 0

    skipped = promote_cli(run_cli, world, "staging", artifact.root, "--skip-order", "INC-7: check was flaky")
    assert skipped.code == 0, skipped.report["artifacts"][0]["findings"]

    # a fixed version reaches dev and goes on: the failure named 1.0.0's content
    world.write_artifact("prompt", "greeter", "1.1.0", text="second")
    world.write_reports([artifact])
    assert promote_cli(run_cli, world, "dev", artifact.root).code == 0
    assert promote_cli(run_cli, world, "staging", artifact.root).code == 0


def test_recording_the_same_verdict_again_changes_nothing(world: World, run_cli: Any, tmp_path: Path) -> None:
    artifact = deployed_in_dev(run_cli, world)
    report = _check_report(tmp_path, artifact, "pass")
    assert _record(run_cli, world, report).code == 0
    head = git(world.remote, "rev-parse", "main")
    again = _record(run_cli, world, report)
    assert again.code == 0 and '"status": "unchanged"' in again.stdout
    assert git(world.remote, "rev-parse", "main") == head


def test_artifacts_the_environment_does_not_deploy_are_not_recorded(
    world: World, run_cli: Any, tmp_path: Path
) -> None:
    deployed = deployed_in_dev(run_cli, world)
    other = world.write_artifact("prompt", "farewell", "1.0.0")
    assert _record(run_cli, world, _check_report(tmp_path, deployed, "pass")).code == 0
    assert _record(run_cli, world, _check_report(tmp_path, other, "fail")).code == 0
    assert list(_recorded(world)) == ["prompt/greeter"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "did not check what dev deploys"),
        ("not json", "is not JSON"),
        ('{"stage": "lint", "artifacts": []}', "is not an eval or validate report"),
    ],
)
def test_reports_that_are_not_deployed_checks_are_usage_errors(
    world: World, run_cli: Any, tmp_path: Path, content: str | None, message: str
) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    if content is None:
        path = _check_report(tmp_path, artifact, "fail", deployed=False)
    else:
        path = tmp_path / "garbage.json"
        path.write_text(content)
    before = git(world.remote, "rev-parse", "main")
    result = _record(run_cli, world, path)
    assert result.code == 2
    assert message in result.stderr
    assert git(world.remote, "rev-parse", "main") == before


def test_an_unknown_environment_is_a_usage_error(world: World, run_cli: Any, tmp_path: Path) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    result = _record(run_cli, world, _check_report(tmp_path, artifact, "pass", env="qa"), env="qa")
    assert result.code == 2 and "unknown environment 'qa'" in result.stderr
