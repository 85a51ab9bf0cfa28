"""Shared pytest fixtures: a throwaway git repository and a helper that runs the CLI in-process."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = Path(os.environ.get("GENAIOPS_TOOLS_DIR", REPO_ROOT / ".tools")) / "bin"


def _rendered_answers() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The artifact kinds and environments this repository was rendered with (its genaiops.yaml).

    A rendered repository keeps only the selected kinds' artifacts, platform pieces and tests, and only its
    own environments, so tests that depend on them parametrise over these instead of naming them.
    """
    from genaiops.project import load_project

    project = load_project(REPO_ROOT)
    return tuple(project.kinds), tuple(e.name for e in project.environments)


PRESENT_KINDS, ENVIRONMENTS = _rendered_answers()
"""Kind names (``prompt``, ``model-config``, ...) and environment names in promotion order."""

# Test modules named after one kind (copier drops them with it) that also read the example artifacts of
# other kinds: pytest does not collect them in a repository rendered without those kinds.
ALSO_NEEDS = {
    "unit/test_rag_eval_answers.py": ("prompt", "model-config"),
    "unit/test_prompt_serve.py": ("guardrail", "model-config"),
}
collect_ignore = [path for path, kinds in ALSO_NEEDS.items() if not set(kinds) <= set(PRESENT_KINDS)]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "genaiops tests",
    "GIT_AUTHOR_EMAIL": "tests@genaiops.invalid",
    "GIT_COMMITTER_NAME": "genaiops tests",
    "GIT_COMMITTER_EMAIL": "tests@genaiops.invalid",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; fail the test on error."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """An empty git repository with a genaiops.yaml, one commit on main."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "genaiops.yaml").write_text("project: test\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def write(repo: Path, rel: str, text: str = "x\n") -> Path:
    """Create a file (and its folders) inside ``repo``."""
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None


@pytest.fixture
def run_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """Run ``genaiops`` in-process from ``cwd`` and return exit code, output and the parsed report."""
    from genaiops.cli import main

    def run(*args: str, cwd: Path | None = None, stdin: str | None = None, report: bool = True) -> CliResult:
        report_path = tmp_path / "report.json"
        report_path.unlink(missing_ok=True)
        if cwd is not None:
            monkeypatch.chdir(cwd)
        if stdin is not None:
            import io

            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        argv = [*args, "--report", str(report_path)] if report else list(args)
        code = main(argv)
        out, err = capsys.readouterr()
        data = (
            json.loads(report_path.read_text(encoding="utf-8")) if report and report_path.exists() else None
        )
        return CliResult(code, out, err, data)

    return run
