"""The pre-commit configuration for generated repos and the hook manifest other repositories reuse.

Checks that both files are valid for pre-commit, that every hook is local (nothing to clone from a Git
host), that the tool pins agree with uv.lock, that the genaiops lint hook really runs `genaiops lint` on
the artifacts a commit touches (pass on a good artifact, fail on a broken one), and that another
repository can use `.pre-commit-hooks.yaml` (`pre-commit try-repo`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_config, load_manifest

from tests.template.conftest import TEMPLATE_ROOT, clean_env, commit_all, git, run, template_snapshot

pytestmark = pytest.mark.template

CONFIG = TEMPLATE_ROOT / ".pre-commit-config.yaml"
MANIFEST = TEMPLATE_ROOT / ".pre-commit-hooks.yaml"


def _hooks() -> dict[str, dict[str, Any]]:
    config = load_config(str(CONFIG))
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((TEMPLATE_ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package["version"] for package in lock["package"]}


def test_config_is_valid_and_every_hook_is_local() -> None:
    config = load_config(str(CONFIG))
    assert [repo["repo"] for repo in config["repos"]] == ["local"], (
        "hooks must not need a clone from a Git host"
    )
    hooks = _hooks()
    assert {"check-yaml", "end-of-file-fixer", "trailing-whitespace", "ruff-check", "ruff-format"} <= set(
        hooks
    )


def test_python_hooks_pin_their_tools() -> None:
    for hook_id, hook in _hooks().items():
        if hook["language"] == "python":
            deps = hook["additional_dependencies"]
            assert deps, f"{hook_id}: a local python hook must name its package"
            assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", d) for d in deps), (
                f"{hook_id}: pin exact versions, got {deps}"
            )


@pytest.mark.parametrize("package", ["ruff", "check-jsonschema"])
def test_tool_pins_match_the_lock_file(package: str) -> None:
    locked = _locked_versions()[package]
    pins = {
        dep.split("==")[1]
        for hook in _hooks().values()
        for dep in hook.get("additional_dependencies", [])
        if dep.split("==")[0] == package
    }
    assert pins == {locked}, f"{package}: pre-commit pins {pins}, uv.lock has {locked}"


def test_whitespace_fixer_leaves_artifact_content_alone() -> None:
    exclude = re.compile(_hooks()["trailing-whitespace"]["exclude"])
    for path in ("artifacts/prompts/support-qa/template.j2", "artifacts/rag/kb/eval/qrels/test.tsv"):
        assert exclude.search(path), path
    for path in ("artifacts/prompts/support-qa/prompt.yaml", "docs/template.md", "scripts/genaiops/cli.py"):
        assert not exclude.search(path), path


def test_test_fixtures_are_left_alone() -> None:
    """Fixtures are deliberately broken inputs; no hook may judge or rewrite them."""
    config = load_config(str(CONFIG))
    exclude = re.compile(config["exclude"])
    assert exclude.search("tests/fixtures/lint/cases/p-syntax/repo/artifacts/prompts/p/template.j2")
    assert not exclude.search("tests/unit/test_route.py")


def test_manifest_offers_genaiops_lint() -> None:
    (hook,) = load_manifest(str(MANIFEST))
    assert hook["id"] == "genaiops-lint"
    assert hook["language"] == "python", "other repositories get genaiops by pip-installing this one"
    assert hook["entry"] == "genaiops lint"
    assert re.search(hook["files"], "artifacts/prompts/support-qa/prompt.yaml")
    assert not re.search(hook["files"], "platform/base/kustomization.yaml")
    local = _hooks()["genaiops-lint"]
    assert (local["entry"], local["files"]) == (hook["entry"], hook["files"])


def _break_temperature(repo: Path, manifest: str) -> None:
    data = yaml.safe_load((repo / manifest).read_text(encoding="utf-8"))
    data["temperature"] = 7.5  # outside 0.0-2.0
    (repo / manifest).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    git(repo, "add", "-A")


def _lint_repo(tmp_path: Path) -> Path:
    """A small team repository: settings, the model catalog and one model-config with its fallback."""
    repo = tmp_path / "team"
    repo.mkdir()
    for rel in ("genaiops.yaml", ".pre-commit-config.yaml", "artifacts/catalog"):
        source = TEMPLATE_ROOT / rel
        if source.is_dir():
            shutil.copytree(source, repo / rel)
        else:
            shutil.copy2(source, repo / rel)
    configs = TEMPLATE_ROOT / "artifacts" / "model-configs"
    for name in ("support-assistant", "support-assistant-fallback"):
        shutil.copytree(configs / name, repo / "artifacts" / "model-configs" / name)
    commit_all(repo, "team repository")
    return repo


def _run_lint_hook(repo: Path, *files: str) -> tuple[int, str]:
    env = clean_env(extra={"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])})
    proc = run(
        [sys.executable, "-m", "pre_commit", "run", "genaiops-lint", "--color=never", "--files", *files],
        repo,
        env,
    )
    return proc.returncode, proc.stdout


def test_lint_hook_passes_a_good_artifact_and_fails_a_broken_one(tmp_path: Path) -> None:
    repo = _lint_repo(tmp_path)
    manifest = "artifacts/model-configs/support-assistant/model-config.yaml"
    code, output = _run_lint_hook(repo, manifest, "genaiops.yaml")
    assert code == 0, output
    assert "Passed" in output

    _break_temperature(repo, manifest)
    code, output = _run_lint_hook(repo, manifest)
    assert code != 0, output
    assert "exit code: 1" in output, "a failed check is exit 1 (not a usage or infrastructure error)"
    assert "model-config.yaml" in output and "temperature" in output, output


def test_lint_hook_ignores_commits_without_artifacts(tmp_path: Path) -> None:
    repo = _lint_repo(tmp_path)
    code, output = _run_lint_hook(repo, "genaiops.yaml")
    assert code == 0, output
    assert "(no files to check)Skipped" in output


def test_other_repositories_can_use_the_hook_manifest(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this repository as a hook repo (pip, from its pyproject.toml) and
    runs genaiops-lint from it in another repository, exactly as a `repo: <url>` entry would."""
    hook_repo = template_snapshot(tmp_path / "hook-repo")
    user = _lint_repo(tmp_path)
    env = clean_env(extra={"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")})
    command = [
        sys.executable,
        "-m",
        "pre_commit",
        "try-repo",
        str(hook_repo),
        "genaiops-lint",
        "--color=never",
    ]
    proc = run([*command, "--all-files"], user, env)
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"genaiops lint\.+Passed", proc.stdout), proc.stdout

    manifest = "artifacts/model-configs/support-assistant/model-config.yaml"
    _break_temperature(user, manifest)
    proc = run([*command, "--files", manifest], user, env)
    assert proc.returncode == 1, proc.stdout
    assert "temperature" in proc.stdout and "exit code: 1" in proc.stdout, proc.stdout
