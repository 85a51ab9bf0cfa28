"""genaiops route: files, name-status, push and pull_request payloads to deduplicated targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaiops.gitutil import FileChange, parse_name_status
from genaiops.route import route_changes, route_event, route_files
from tests.conftest import git, write

PROMPT = "artifacts/prompts/{}/prompt.yaml"


def _artifact(repo: Path, folder: str, manifest: str, artifact_id: str) -> None:
    write(repo, f"artifacts/{folder}/{artifact_id}/{manifest}", f'id: {artifact_id}\nversion: "1.0.0"\n')


def test_fifty_file_change_touching_three_artifacts_yields_exactly_three_targets(git_repo: Path) -> None:
    _artifact(git_repo, "prompts", "prompt.yaml", "sentiment")
    _artifact(git_repo, "rag", "rag.yaml", "kb")
    _artifact(git_repo, "guardrails", "policy.yaml", "support")
    files = [f"artifacts/prompts/sentiment/eval/part-{i}.jsonl" for i in range(20)]
    files += [f"artifacts/rag/kb/eval/corpus-{i}.jsonl" for i in range(15)]
    files += [f"artifacts/guardrails/support/tests/case-{i}.yaml" for i in range(5)]
    files += [f"docs/page-{i}.md" for i in range(8)] + ["README.md", "platform/base/kustomization.yaml"]
    assert len(files) == 50
    route = route_files(files, git_repo).to_json()
    assert [(t["kind"], t["id"]) for t in route["targets"]] == [
        ("guardrail", "support"),
        ("prompt", "sentiment"),
        ("rag", "kb"),
    ]
    assert route["kinds"] == ["guardrail", "prompt", "rag"]
    assert route["deletions"] == []
    assert len(route["ignored"]) == 10
    sentiment = route["targets"][1]
    assert sentiment["pipeline"] == "prompt-ci" and sentiment["fileCount"] == 20


def test_docs_only_change_skips_validate_and_eval(git_repo: Path) -> None:
    _artifact(git_repo, "prompts", "prompt.yaml", "qa")
    route = route_files(["artifacts/prompts/qa/README.md", "artifacts/prompts/qa/docs/notes.txt"], git_repo)
    assert route.targets[0]["stages"] == ["lint"] and route.targets[0]["eval"] is False
    route = route_files(["artifacts/prompts/qa/README.md", "artifacts/prompts/qa/template.j2"], git_repo)
    assert route.targets[0]["stages"] == ["lint", "validate", "eval"]


def test_deleted_artifact_is_a_deletion_not_a_target(git_repo: Path) -> None:
    route = route_files(
        ["artifacts/prompts/removed/prompt.yaml", "artifacts/prompts/removed/template.j2"], git_repo
    )
    assert route.targets == []
    assert route.deletions == [{"kind": "prompt", "id": "removed", "path": "artifacts/prompts/removed"}]


def test_rename_touches_both_old_and_new_artifact(git_repo: Path) -> None:
    _artifact(git_repo, "prompts", "prompt.yaml", "new-name")
    changes = parse_name_status(
        "R100\tartifacts/prompts/old-name/prompt.yaml\tartifacts/prompts/new-name/prompt.yaml\n"
    )
    assert changes == [
        FileChange("R", "artifacts/prompts/new-name/prompt.yaml", "artifacts/prompts/old-name/prompt.yaml")
    ]
    route = route_changes(changes, lambda rel: (git_repo / rel).exists())
    assert [t["id"] for t in route.targets] == ["new-name"]
    assert [d["id"] for d in route.deletions] == ["old-name"]


@pytest.mark.parametrize(
    "path",
    [
        "artifacts/prompts/README.md",  # the kind folder's own docs
        "artifacts/unknown-kind/x/file.yaml",  # not a kind folder
        "artifacts/prompts/Bad_ID/prompt.yaml",  # not a valid artifact id
        "artifacts/prompts/../../etc/passwd",  # traversal never maps to an artifact
        "scripts/genaiops/cli.py",
    ],
)
def test_paths_outside_artifacts_are_ignored(git_repo: Path, path: str) -> None:
    route = route_files([path], git_repo)
    assert route.targets == [] and route.deletions == [] and route.ignored == [path]


def test_push_payload_uses_git_history_when_both_commits_exist(git_repo: Path) -> None:
    before = git(git_repo, "rev-parse", "HEAD").strip()
    _artifact(git_repo, "prompts", "prompt.yaml", "sentiment")
    _artifact(git_repo, "model-configs", "model-config.yaml", "primary")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "add")
    git(git_repo, "rm", "-q", "-r", "artifacts/model-configs/primary")
    git(git_repo, "commit", "-q", "-m", "remove")
    after = git(git_repo, "rev-parse", "HEAD").strip()
    payload = {"ref": "refs/heads/main", "before": before, "after": after, "commits": []}
    route = route_event(payload, git_repo)
    assert [t["id"] for t in route.targets] == ["sentiment"]
    assert route.deletions == []  # added and removed again between before and after: no net change
    assert route.event.branch == "main" and route.event.sha == after


def test_push_payload_without_history_uses_commit_file_lists(tmp_path: Path) -> None:
    payload = {
        "ref": "refs/heads/feature",
        "before": "a" * 40,
        "after": "b" * 40,
        "commits": [
            {"added": ["artifacts/prompts/qa/prompt.yaml"], "modified": [], "removed": []},
            {
                "added": [],
                "modified": ["artifacts/rag/kb/rag.yaml"],
                "removed": ["artifacts/guardrails/old/policy.yaml"],
            },
        ],
    }
    route = route_event(payload, None)
    assert sorted(t["id"] for t in route.targets) == ["kb", "qa"]
    assert route.deletions == [{"kind": "guardrail", "id": "old", "path": "artifacts/guardrails/old"}]


def test_argo_events_envelope_and_branch_deletion() -> None:
    envelope = {
        "header": {"X-Github-Event": ["push"]},
        "body": {"ref": "refs/heads/gone", "deleted": True, "before": "a", "after": "0" * 40, "commits": []},
    }
    route = route_event(envelope, None)
    assert route.targets == [] and route.event.type == "push"
    github_source = {
        "headers": {"X-Github-Event": ["push"]},
        "body": {
            "ref": "refs/heads/main",
            "before": "a",
            "after": "b",
            "commits": [{"added": ["artifacts/rag/kb/rag.yaml"], "modified": [], "removed": []}],
        },
    }
    assert [t["id"] for t in route_event(github_source, None).targets] == ["kb"]


def test_pull_request_payload_diffs_base_and_head(git_repo: Path) -> None:
    base = git(git_repo, "rev-parse", "HEAD").strip()
    git(git_repo, "checkout", "-q", "-b", "feature")
    _artifact(git_repo, "guardrails", "policy.yaml", "support")
    write(git_repo, "notes.txt")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "policy")
    head = git(git_repo, "rev-parse", "HEAD").strip()
    payload = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {"base": {"sha": base, "ref": "main"}, "head": {"sha": head, "ref": "feature"}},
    }
    route = route_event(payload, git_repo)
    assert [(t["kind"], t["id"]) for t in route.targets] == [("guardrail", "support")]
    assert route.ignored == ["notes.txt"] and route.event.number == 7
    closed = route_event({**payload, "action": "closed"}, git_repo)
    assert closed.targets == []


def test_cli_route_list_and_kind_filter(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    _artifact(git_repo, "prompts", "prompt.yaml", "qa")
    _artifact(git_repo, "rag", "rag.yaml", "kb")
    result = run_cli(
        "route",
        "--list",
        "--kind",
        "rag",
        "artifacts/prompts/qa/prompt.yaml",
        "artifacts/rag/kb/rag.yaml",
        cwd=git_repo,
    )
    assert result.code == 0
    assert [t["id"] for t in json.loads(result.stdout)] == ["kb"]
    assert result.report is not None and result.report["stage"] == "route"


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "not json",
        "[]",
        "42",
        '{"zen": "no event"}',
        '{"pull_request": {"base": {}, "head": {}}, "action": "opened"}',
        '{"ref": "refs/heads/x", "commits": [{"added": "oops"}]}',
    ],
)
def test_cli_route_garbage_event_is_a_usage_error_with_report(git_repo: Path, run_cli, stdin: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("route", "--event", "-", cwd=git_repo, stdin=stdin)
    assert result.code == 2
    assert result.report is not None and result.report["status"] == "error"
    assert result.report["findings"][0]["ruleId"] == "core/usage"
    assert "Traceback" not in result.stderr


def test_cli_route_writes_the_kind_s_deletions_for_retirement(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    _artifact(git_repo, "prompts", "prompt.yaml", "qa")
    deletions = git_repo / "out" / "deletions.json"
    result = run_cli(
        "route",
        "--list",
        "--kind",
        "prompt",
        "--deletions",
        str(deletions),
        "artifacts/prompts/qa/prompt.yaml",
        "artifacts/prompts/gone/prompt.yaml",
        "artifacts/rag/gone-too/rag.yaml",
        cwd=git_repo,
    )
    assert result.code == 0
    assert [t["id"] for t in json.loads(result.stdout)] == ["qa"]
    assert json.loads(deletions.read_text()) == [
        {"kind": "prompt", "id": "gone", "path": "artifacts/prompts/gone"}
    ]
    assert result.report is not None and result.report["context"]["route"]["deletions"] == [
        {"kind": "prompt", "id": "gone", "path": "artifacts/prompts/gone"}
    ]


def test_cli_route_deletions_file_is_an_empty_list_without_deletions(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    _artifact(git_repo, "prompts", "prompt.yaml", "qa")
    deletions = git_repo / "deletions.json"
    result = run_cli("route", "--deletions", str(deletions), "artifacts/prompts/qa/prompt.yaml", cwd=git_repo)
    assert result.code == 0 and json.loads(deletions.read_text()) == []


def test_cli_route_unwritable_deletions_file_is_a_usage_error(git_repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (git_repo / "blocker").write_text("a file, not a folder")
    result = run_cli("route", "--deletions", str(git_repo / "blocker" / "d.json"), "README.md", cwd=git_repo)
    assert result.code == 2 and "cannot write --deletions" in result.stderr
    assert "Traceback" not in result.stderr
