"""The promotion gate refuses what was not checked, not passed, or not good enough - and pushes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genaiops.errors import UsageError
from genaiops.project import load_project
from genaiops.promote.gate import Bound, check_scorecard, evaluate_gate, load_thresholds
from tests.unit.promote_support import World, default_scorecard, git, make_world, promote_upstream


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _promote(run_cli: Any, world: World, *paths: str, env: str = "dev") -> Any:
    return run_cli(
        "promote", "--env", env, "--repo", str(world.repo), "--reports", str(world.reports), *paths
    )


def _rule_ids(result: Any) -> list[str]:
    return [
        f["ruleId"] for a in result.report["artifacts"] for f in a["findings"] if f["severity"] == "error"
    ]


def _remote_commits(world: World) -> int:
    return len(git(world.remote, "rev-list", "--all").split())


def test_missing_reports_are_named_and_nothing_is_pushed(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], stages=("lint",))
    before = _remote_commits(world)
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    messages = [f["message"] for f in result.report["artifacts"][0]["findings"]]
    assert _rule_ids(result) == ["promote/missing-report", "promote/missing-report"]
    assert any("no validate report" in m for m in messages) and any("no eval report" in m for m in messages)
    assert _remote_commits(world) == before


def test_failing_report_refuses(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("model-config", "chat", "2.0.0")
    world.write_reports([artifact], statuses={"validate": "fail"})
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    assert _rule_ids(result) == ["promote/failed-report"]
    assert (
        "validate report says 'fail' (model-config/broken)"
        in result.report["artifacts"][0]["findings"][0]["message"]
    )


def test_reports_for_other_content_are_a_digest_mismatch(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact])
    (artifact.root / "template.j2").write_text("changed after the checks\n", encoding="utf-8")
    before = _remote_commits(world)
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    assert _rule_ids(result) == ["promote/digest-mismatch"] * 3
    assert _remote_commits(world) == before


def test_scorecard_below_environment_threshold_refuses(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    scorecard = default_scorecard(artifact)
    scorecard["metrics"][0]["value"] = 0.3  # dev requires exact_match >= 0.5
    scorecard["metrics"][1]["value"] = 2500.0  # and prompt latency_ms <= 2000
    world.write_reports([artifact], scorecard=scorecard)
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    messages = sorted(f["message"] for f in result.report["artifacts"][0]["findings"])
    assert messages == ["metric exact_match: 0.3 < minimum 0.5", "metric latency_ms: 2500 > maximum 2000"]


def test_eval_report_without_scorecard_refuses(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("rag", "kb", "0.1.0")
    world.write_reports([artifact], with_scorecard=False)
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    assert _rule_ids(result) == ["promote/no-scorecard"]


def test_scorecard_without_a_thresholded_metric_refuses(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("rag", "kb", "0.1.0")
    world.write_reports([artifact], scorecard={"verdict": "pass", "metrics": []})
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    assert _rule_ids(result) == ["promote/below-threshold"]
    assert "exact_match is required" in result.report["artifacts"][0]["findings"][0]["message"]


def test_latest_matching_report_wins_and_other_artifacts_are_ignored(world: World) -> None:
    greeter = world.write_artifact("prompt", "greeter", "1.0.0")
    other = world.write_artifact("prompt", "other", "1.0.0")
    world.write_reports([other, greeter], suffix="-a")
    from genaiops.discovery import digest

    thresholds = {"exact_match": Bound(min=0.5)}
    gate = evaluate_gate("prompt", "greeter", digest(greeter), world.reports, thresholds, "staging")
    assert gate.passed, gate.problems
    assert gate.reports == {
        "lint": "lint-report-a.json",
        "validate": "validate-report-a-staging.json",
        "eval": "eval-report-a-staging.json",
    }
    assert gate.eval_dataset_digest == "sha256:" + "d" * 64


def test_thresholds_merge_flat_star_and_kind_layers(world: World) -> None:
    settings = world.repo / "environments" / "dev" / "settings.yaml"
    settings.write_text(
        "thresholds:\n  exact_match: 0.6\n  '*': {f1: {min: 0.4}}\n"
        "  prompt: {exact_match: {min: 0.7, max: 1}}\n  rag: {ndcg: 0.9}\n",
        encoding="utf-8",
    )
    project = load_project(world.repo)
    assert load_thresholds(project, "dev", "prompt") == {"exact_match": Bound(0.7, 1.0), "f1": Bound(min=0.4)}
    assert load_thresholds(project, "dev", "rag") == {
        "exact_match": Bound(min=0.6),
        "f1": Bound(min=0.4),
        "ndcg": Bound(min=0.9),
    }
    settings.write_text("thresholds:\n  exact_match: high\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"thresholds\.exact_match"):
        load_thresholds(load_project(world.repo), "dev", "prompt")


def test_scorecard_verdicts_and_shapes() -> None:
    as_mapping = {
        "verdict": "regression",
        "metrics": {"rouge_l": {"value": 0.2, "verdict": "fail"}, "f1": 0.8},
    }
    messages = check_scorecard(as_mapping, {"f1": Bound(min=0.9), "bleu": Bound(min=0.1)})
    assert messages == [
        "the scorecard's verdict is 'regression'",
        "metric rouge_l: verdict 'fail'",
        "metric bleu is required by the environment's thresholds but not in the scorecard",
        "metric f1: 0.8 < minimum 0.9",
    ]
    assert (
        check_scorecard({"verdict": "pass", "metrics": [{"name": "f1", "value": 0.95}]}, {"f1": Bound(0.9)})
        == []
    )


def test_missing_reports_folder_is_a_usage_error(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    result = run_cli(
        "promote",
        "--env",
        "dev",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.repo / "nowhere"),
        str(artifact.root),
    )
    assert result.code == 2
    assert "reports folder" in result.report["findings"][0]["message"]


def test_the_eval_stages_scorecard_is_understood(world: World, run_cli: Any) -> None:
    from genaiops.discovery import digest
    from genaiops.scorecard import MetricResult, Scorecard

    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    card = Scorecard(
        kind="prompt",
        id="greeter",
        version="1.0.0",
        digest=digest(artifact),
        environment="prod",
        metrics=[
            MetricResult(name="exact_match", value=0.8, verdict="pass"),
            MetricResult(name="latency_ms", value=300.0, verdict="pass"),
        ],
        provenance={"datasetDigest": "sha256:" + "e" * 64},
    )
    world.write_reports([artifact], scorecard=card.to_json())
    promote_upstream(run_cli, world, "prod", artifact.root)
    result = run_cli(
        "promote",
        "--env",
        "prod",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(artifact.root),
    )
    assert result.code == 0, result.stderr
    promotion = result.report["artifacts"][0]["details"]["promotion"]
    request = Path(promotion["request"]).read_text(encoding="utf-8")
    assert "<details><summary>Full scorecard</summary>" in request and "exact_match" in request
    lineage = git(
        world.remote, "show", f"{promotion['branch']}:environments/prod/lineage/prompt/greeter.yaml"
    )
    assert "evalDatasetDigest: sha256:" + "e" * 64 in lineage

    failing = Scorecard(
        kind="prompt",
        id="greeter",
        version="1.0.0",
        digest=digest(artifact),
        metrics=[MetricResult(name="exact_match", value=0.8, minimum=0.9, verdict="fail")],
    )
    assert check_scorecard(failing.to_json(), {}) == [
        "the scorecard's verdict is 'fail'",
        "metric exact_match: verdict 'fail'",
    ]
    stale = card.to_json()
    stale["artifact"]["digest"] = "sha256:" + "0" * 64
    world.write_reports([artifact], scorecard=stale)
    refused = run_cli(
        "promote",
        "--env",
        "dev",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(artifact.root),
    )
    assert refused.code == 1
    assert (
        "the scorecard was computed for sha256:000"
        in refused.report["artifacts"][0]["findings"][0]["message"]
    )


def test_reports_made_for_another_environment_do_not_count(world: World, run_cli: Any) -> None:
    """An eval against dev says nothing about what prod runs: promoting to staging with dev's reports is
    refused, naming the environment the reports were made for, and nothing is pushed."""
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=("dev",))
    before = _remote_commits(world)
    result = _promote(run_cli, world, str(artifact.root), env="staging")
    assert result.code == 1
    assert _rule_ids(result) == ["promote/wrong-environment", "promote/wrong-environment"]
    messages = [f["message"] for f in result.report["artifacts"][0]["findings"]]
    assert "the validate report of prompt/greeter was made for dev, not for staging" in messages
    assert _remote_commits(world) == before
    assert _promote(run_cli, world, str(artifact.root), env="dev").code == 0


def test_reports_made_without_an_environment_do_not_count(world: World, run_cli: Any) -> None:
    artifact = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([artifact], envs=(None,))
    result = _promote(run_cli, world, str(artifact.root))
    assert result.code == 1
    assert _rule_ids(result) == ["promote/wrong-environment", "promote/wrong-environment"]
    assert (
        "made for no environment (no --env), not for dev"
        in result.report["artifacts"][0]["findings"][0]["message"]
    )
    assert "--env" in result.report["artifacts"][0]["findings"][0]["hint"]


def test_the_target_environment_s_report_wins_over_a_newer_one_for_another(world: World) -> None:
    """A newer eval for dev (failing) does not hide the staging eval that passed."""
    greeter = world.write_artifact("prompt", "greeter", "1.0.0")
    world.write_reports([greeter], envs=("staging",))
    world.write_reports([greeter], envs=("dev",), statuses={"eval": "fail"}, suffix="-newer")
    from genaiops.discovery import digest

    gate = evaluate_gate("prompt", "greeter", digest(greeter), world.reports, {}, "staging")
    assert gate.passed, gate.problems
    assert gate.reports["eval"] == "eval-report-staging.json"
