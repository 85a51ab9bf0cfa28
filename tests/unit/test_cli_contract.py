"""The CLI contract every stage shares: reports (schema-valid, always written), exit codes, formats."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from genaiops.discovery import Artifact
from genaiops.errors import ArtifactError, InfraError
from genaiops.report import ArtifactResult
from genaiops.stages.runner import StageContext
from tests.conftest import write

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "scripts/genaiops/schemas/report.schema.json").read_text(
        encoding="utf-8"
    )
)


def check_by_content(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """A check for these tests: behaviour chosen by a `behaviour` key in the manifest."""
    behaviour = ctx.manifest(artifact).data.get("behaviour")
    if behaviour == "fail":
        result.add("test/failing", "this artifact fails", file=artifact.relpath, line=3, hint="fix it")
    elif behaviour == "infra":
        raise InfraError("endpoint http://127.0.0.1:9 refused the connection")
    elif behaviour == "artifact-error":
        raise ArtifactError("cannot parse", rule_id="core/invalid-yaml", file="x.yaml", line=2)
    elif behaviour == "bug":
        raise ZeroDivisionError("division by zero")
    result.metrics["checked"] = 1


@pytest.fixture
def lint_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    from genaiops.stages import registry

    monkeypatch.setitem(
        registry.CHECKS,
        "lint",
        {**registry.CHECKS["lint"], "prompt": "tests.unit.test_cli_contract:check_by_content"},
    )


def _prompt(repo: Path, artifact_id: str, behaviour: str = "pass", version: str = '"1.0.0"') -> None:
    write(
        repo,
        f"artifacts/prompts/{artifact_id}/prompt.yaml",
        f"id: {artifact_id}\nversion: {version}\nbehaviour: {behaviour}\n",
    )


def _valid(report: dict) -> dict:  # type: ignore[type-arg]
    jsonschema.validate(report, SCHEMA, format_checker=jsonschema.FormatChecker())
    return report


@pytest.mark.usefixtures("lint_registered")
@pytest.mark.parametrize(
    ("behaviours", "code", "status"),
    [
        (["pass"], 0, "pass"),
        (["pass", "fail"], 1, "fail"),
        (["pass", "infra"], 3, "error"),
        (["fail", "infra"], 1, "fail"),  # a failed check is not worth retrying
        (["artifact-error"], 1, "fail"),
        (["bug", "pass"], 1, "fail"),  # a bug in one check still reports the others
    ],
)
def test_exit_codes_and_statuses(
    git_repo: Path, run_cli, behaviours: list[str], code: int, status: str
) -> None:  # type: ignore[no-untyped-def]
    for index, behaviour in enumerate(behaviours):
        _prompt(git_repo, f"p{index}", behaviour)
    result = run_cli("lint", ".", cwd=git_repo)
    assert result.code == code
    report = _valid(result.report)
    assert report["status"] == status and report["exitCode"] == code
    assert [a["id"] for a in report["artifacts"]] == [f"p{i}" for i in range(len(behaviours))]
    assert all(a["digest"].startswith("sha256:") for a in report["artifacts"])
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("lint_registered")
def test_manifest_preflight_findings(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    write(git_repo, "artifacts/prompts/wrong/prompt.yaml", "id: other\nversion: 1.0\n")
    write(git_repo, "artifacts/prompts/listy/prompt.yaml", "- not\n- a mapping\n")
    (git_repo / "artifacts/prompts/empty").mkdir()
    result = run_cli(
        "lint", "artifacts/prompts/wrong", "artifacts/prompts/listy", "artifacts/prompts/empty", cwd=git_repo
    )
    assert result.code == 1
    rules = {a["id"]: sorted(f["ruleId"] for f in a["findings"]) for a in _valid(result.report)["artifacts"]}
    assert rules == {
        "empty": ["core/missing-manifest"],
        "listy": ["core/manifest-not-mapping"],
        "wrong": ["core/id-mismatch", "core/invalid-version"],
    }
    wrong = next(a for a in result.report["artifacts"] if a["id"] == "wrong")
    assert {f["line"] for f in wrong["findings"]} == {1, 2}


def test_unimplemented_stage_exits_2_and_says_so(
    git_repo: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from genaiops.stages import registry

    monkeypatch.setitem(registry.CHECKS, "promote", {})
    write(git_repo, "genaiops.yaml", "environments:\n  - name: dev\n")
    _prompt(git_repo, "p0")
    result = run_cli("promote", "--env", "dev", ".", cwd=git_repo)
    assert result.code == 2
    assert "not implemented" in _valid(result.report)["findings"][0]["message"]
    assert result.report["artifacts"] == []
    unknown_env = run_cli("promote", "--env", "qa", ".", cwd=git_repo)
    assert (
        unknown_env.code == 2 and "unknown environment 'qa'" in unknown_env.report["findings"][0]["message"]
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["lint"],  # nothing selected
        ["lint", "does/not/exist"],
        ["lint", "/etc"],  # outside the repository
        ["lint", "--format", "yaml", "."],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_write_a_report_and_exit_2(
    git_repo: Path,
    run_cli,
    argv: list[str],  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ARTIFACT_PATH", raising=False)
    result = run_cli(*argv, cwd=git_repo)
    assert result.code == 2
    assert _valid(result.report)["findings"][0]["ruleId"] == "core/usage"
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("lint_registered")
def test_artifact_path_env_and_report_path_env(
    git_repo: Path,
    run_cli,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _prompt(git_repo, "p0")
    _prompt(git_repo, "p1", "fail")
    monkeypatch.setenv("ARTIFACT_PATH", "artifacts/prompts/p0")
    report_path = tmp_path / "from-env.json"
    monkeypatch.setenv("REPORT_PATH", str(report_path))
    result = run_cli("lint", cwd=git_repo, report=False)
    assert result.code == 0
    assert [a["id"] for a in _valid(json.loads(report_path.read_text()))["artifacts"]] == ["p0"]


@pytest.mark.usefixtures("lint_registered")
def test_changed_since_selects_only_changed_artifacts(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import git

    _prompt(git_repo, "old")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "old")
    _prompt(git_repo, "new")  # untracked counts as changed
    result = run_cli("lint", "--changed-since", "HEAD", cwd=git_repo)
    assert result.code == 0
    assert [a["id"] for a in result.report["artifacts"]] == ["new"]


@pytest.mark.usefixtures("lint_registered")
def test_changed_since_a_commit_range_compares_commits_only(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """``BASE...HEAD`` is what a pull request's commits changed: an untracked or uncommitted artifact
    in the working tree is not part of it (no walk over the tree for untracked files)."""
    from tests.conftest import git

    git(git_repo, "branch", "base")
    _prompt(git_repo, "committed")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "committed")
    _prompt(git_repo, "untracked")
    ranged = run_cli("lint", "--changed-since", "base...HEAD", cwd=git_repo)
    assert ranged.code == 0
    assert [a["id"] for a in ranged.report["artifacts"]] == ["committed"]
    assert [
        a["id"] for a in run_cli("lint", "--changed-since", "base...", cwd=git_repo).report["artifacts"]
    ] == ["committed"]
    worktree = run_cli("lint", "--changed-since", "base", cwd=git_repo)
    assert sorted(a["id"] for a in worktree.report["artifacts"]) == ["committed", "untracked"]
    for bad in ("...HEAD", "base...no-such-ref"):
        result = run_cli("lint", "--changed-since", bad, cwd=git_repo)
        assert result.code == 2, bad


@pytest.mark.usefixtures("lint_registered")
def test_machine_formats(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    _prompt(git_repo, "p0", "fail")
    sarif = json.loads(run_cli("lint", ".", "--format", "sarif", cwd=git_repo).stdout)
    result = sarif["runs"][0]["results"][0]
    assert sarif["version"] == "2.1.0" and result["ruleId"] == "test/failing"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    github = run_cli("lint", ".", "--format", "github", cwd=git_repo).stdout
    assert github.startswith("::error file=artifacts/prompts/p0,line=3,title=test/failing (prompt/p0)::")
    as_json = json.loads(run_cli("lint", ".", "--format", "json", cwd=git_repo).stdout)
    assert _valid(as_json)["artifacts"][0]["status"] == "fail"


def test_unwritable_report_location_is_reported(git_repo: Path, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("route", "x", "--report", str(blocker / "report.json"), cwd=git_repo, report=False)
    assert result.code == 2
    assert "cannot write report" in result.stderr


def test_help_and_version_exit_zero(capsys: pytest.CaptureFixture[str]) -> None:
    from genaiops.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "genaiops" in capsys.readouterr().out
    assert os.environ.get("GENAIOPS_DEBUG") is None
