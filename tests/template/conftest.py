"""Helpers for the template tests: render the copier template, commit the result, run commands in it.

The template is this repository's working tree (copier includes uncommitted changes when copying from
a dirty local HEAD, with a warning), so a template change can be tested before it is committed. Renders
are real: `copier copy --trust` runs the post-generation task, and the generated repository's own
commands (make, pre-commit, pytest) run inside it with the parent's tools and caches shared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from genaiops.scaffold import DEFAULT_ANSWERS as SCAFFOLD_DEFAULTS
from tests.conftest import GIT_ENV, REPO_ROOT

TEMPLATE_ROOT = REPO_ROOT
TOOLS_DIR = Path(os.environ.get("GENAIOPS_TOOLS_DIR", REPO_ROOT / ".tools"))
SCHEMA_CACHE = Path(os.environ.get("GENAIOPS_SCHEMA_CACHE", REPO_ROOT / ".cache" / "schemas"))

DEFAULT_ANSWERS: dict[str, Any] = dict(SCAFFOLD_DEFAULTS)
"""The documented defaults (docs/template.md): what `copier copy --defaults` must record. They are the
ones `genaiops init` falls back to, so copier.yml and the scaffold are held to one list."""

# Environment variables of the outer test run that must not leak into a generated repository's tools.
_DROPPED_ENV = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "UV_PROJECT_ENVIRONMENT",
    "PRE_COMMIT",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
)


def clean_env(repo: Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for commands run in a generated repo: its own .venv first on PATH, shared tools."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _DROPPED_ENV and not k.startswith(("PYTEST_", "COV_CORE_"))
    }
    env.update(GIT_ENV)
    env["GENAIOPS_TOOLS_DIR"] = str(TOOLS_DIR)
    env["GENAIOPS_SCHEMA_CACHE"] = str(SCHEMA_CACHE)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if repo is not None:
        env["PATH"] = os.pathsep.join(
            [str(repo / ".venv" / "bin"), str(TOOLS_DIR / "bin"), env.get("PATH", "")]
        )
    env.update(extra or {})
    return env


def run(
    cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output (stderr folded into stdout); never raises on failure."""
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def tail(text: str, lines: int = 120) -> str:
    """The last ``lines`` lines of ``text`` (enough to see why a nested command failed)."""
    return "\n".join(text.splitlines()[-lines:])


def check(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 1800) -> str:
    """Run a command and fail the test with its output when it exits non-zero."""
    proc = run(cmd, cwd, env, timeout)
    assert proc.returncode == 0, f"`{' '.join(cmd)}` in {cwd} exited {proc.returncode}:\n{tail(proc.stdout)}"
    return proc.stdout


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity (no global config needed)."""
    return check(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args], repo)


def data_args(data: Mapping[str, Any]) -> list[str]:
    """`-d key=value` arguments; lists are passed as YAML flow sequences (JSON is valid YAML)."""
    args: list[str] = []
    for key, value in data.items():
        text = json.dumps(value) if isinstance(value, list) else str(value)
        args += ["-d", f"{key}={text}"]
    return args


def copier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run copier with the interpreter of this test run (the project's .venv)."""
    return run([sys.executable, "-m", "copier", *args], cwd)


def render(dest: Path, data: Mapping[str, Any], src: Path = TEMPLATE_ROOT, vcs_ref: str = "HEAD") -> str:
    """`copier copy --trust --defaults` the template into ``dest``; fail the test if copier fails."""
    proc = copier(
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        vcs_ref,
        *data_args(data),
        str(src),
        str(dest),
        cwd=dest.parent,
    )
    assert proc.returncode == 0, f"copier copy failed ({proc.returncode}):\n{tail(proc.stdout)}"
    return proc.stdout


def commit_all(repo: Path, message: str) -> None:
    """`git init` (if needed) and commit every file, as a team does right after rendering."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def load_answers(repo: Path) -> dict[str, Any]:
    """The rendered `.copier-answers.yml`."""
    data = yaml.safe_load((repo / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), ".copier-answers.yml is not a mapping"
    return data


def template_snapshot(dest: Path) -> Path:
    """A throwaway git repository holding the template's working tree (tracked and untracked, not
    ignored files), committed once, so tests can tag and change it without touching the real one."""
    listing = git(TEMPLATE_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in sorted(set(filter(None, listing.split("\0")))):
        source = TEMPLATE_ROOT / rel
        if not (source.exists() or source.is_symlink()):
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    commit_all(dest, "template snapshot")
    return dest
