"""Broken manifests fail the harness with a message that names the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from genaiops.manifests.harness import HarnessResult
from tests.conftest import ENVIRONMENTS

pytestmark = pytest.mark.tools


def _first_workflow_template(repo: Path) -> Path:
    for path in sorted((repo / "platform/workflowtemplates").glob("*.yaml")):
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        if any(isinstance(d, dict) and d.get("kind") == "WorkflowTemplate" for d in docs):
            return path
    raise AssertionError("platform/workflowtemplates holds no WorkflowTemplate")


def _errors_for(result: HarnessResult, rel: str) -> list[str]:
    return [line for res in result.invalid if res.source == rel for line in res.describe()]


def test_unknown_field_in_a_workflow_template(repo_copy: Path, harness: Callable[..., HarnessResult]) -> None:
    path = _first_workflow_template(repo_copy)
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    template = next(d for d in docs if isinstance(d, dict) and d.get("kind") == "WorkflowTemplate")
    template["spec"]["templates"][0]["retryStrateg"] = {"limit": 3}  # a typo of retryStrategy
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    rel = path.relative_to(repo_copy).as_posix()

    result = harness(repo_copy, search=["platform"])
    assert not result.ok
    errors = _errors_for(result, rel)
    assert errors, result.render()
    assert any(
        "field /spec/templates/0/retryStrateg" in e and "unknown field 'retryStrateg'" in e for e in errors
    ), errors
    line = next(
        i
        for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "retryStrateg:" in text
    )
    assert any(e.startswith(f"{rel}:{line}: WorkflowTemplate/") for e in errors), errors
    assert result.tally()["WorkflowTemplate"]["invalid"] >= 1


def test_wrong_type_in_an_application(repo_copy: Path, harness: Callable[..., HarnessResult]) -> None:
    path = repo_copy / "environments/bootstrap/root.yaml"  # the root Application always syncs automatically
    text = path.read_text(encoding="utf-8")
    assert text.count("      prune: true\n") >= 1
    path.write_text(text.replace("      prune: true\n", '      prune: "yes"\n', 1), encoding="utf-8")

    result = harness(repo_copy, search=["environments"])
    assert not result.ok
    errors = _errors_for(result, "environments/bootstrap/root.yaml")
    assert any("field /spec/syncPolicy/automated/prune: got string, want boolean" in e for e in errors), (
        result.render()
    )
    assert "Application" in {r.kind for r in result.invalid}
    assert "manifests: FAILED" in result.render()


def test_a_kind_without_schema_is_skipped_and_fails(
    tmp_path: Path, harness: Callable[..., HarnessResult]
) -> None:
    folder = tmp_path / "platform/widgets"
    folder.mkdir(parents=True)
    (folder / "kustomization.yaml").write_text("resources: [widget.yaml]\n", encoding="utf-8")
    (folder / "widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", encoding="utf-8"
    )
    result = harness(tmp_path)
    assert result.skipped_kinds == ["Widget"]
    assert not result.ok
    assert "Widget: no schema found for a kind we ship (skipped)" in result.render()
    assert harness(tmp_path, allow_skip=frozenset({"Widget"})).ok


def test_a_failing_build_names_its_folder(tmp_path: Path, harness: Callable[..., HarnessResult]) -> None:
    folder = tmp_path / "environments/broken"
    folder.mkdir(parents=True)
    (folder / "kustomization.yaml").write_text("resources: [missing.yaml]\n", encoding="utf-8")
    result = harness(tmp_path)
    assert [b.rel for b in result.failed_builds] == ["environments/broken"]
    assert "environments/broken: kustomize build failed" in result.render()
    assert not result.ok


def test_nothing_to_build_is_not_a_pass(tmp_path: Path, harness: Callable[..., HarnessResult]) -> None:
    result = harness(tmp_path)
    assert not result.ok
    assert "no kustomization found" in result.render()


def test_cli_exit_codes_and_tally(
    repo_copy: Path, capsys: pytest.CaptureFixture[str], schema_dirs: list[Path]
) -> None:
    from genaiops.cli import main

    cache = str(schema_dirs[0].parent)
    assert main(["manifests", "--repo", str(repo_copy), "--schema-cache", cache, "-q", "environments"]) == 0
    out = capsys.readouterr().out
    assert "manifests: OK" in out and "0 invalid" in out
    kustomization = repo_copy / "environments" / ENVIRONMENTS[0] / "kustomization.yaml"
    text = kustomization.read_text(encoding="utf-8")
    kustomization.write_text(text.replace("      - settings.yaml", "      - setings.yaml"), encoding="utf-8")
    assert main(["manifests", "--repo", str(repo_copy), "--schema-cache", cache, "-q", "environments"]) == 1
    out = capsys.readouterr().out
    assert f"environments/{ENVIRONMENTS[0]}: kustomize build failed" in out and "setings.yaml" in out
    assert "manifests: FAILED" in out
