"""Refs from users and webhook payloads never reach git as options: a "ref" such as ``--output=FILE`` is a
ref git cannot find (a clear error, or nothing found), never an option that writes FILE."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from genaiops.errors import UsageError
from genaiops.gitutil import changed_since, diff_names, exists_at, has_commit, show_at


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (root / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "one")
    (root / "a.txt").write_text("two\n")
    git("commit", "-q", "-am", "two")
    return root


def _written(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("pwned*"))


def test_refs_that_look_like_options_write_nothing(repo: Path, tmp_path: Path) -> None:
    hostile = f"--output={tmp_path}/pwned"
    with pytest.raises(UsageError):
        changed_since(repo, hostile)
    with pytest.raises(UsageError):
        changed_since(repo, "HEAD~1", head=hostile)
    with pytest.raises(UsageError):
        diff_names(repo, hostile, "HEAD")
    assert show_at(repo, hostile, "a.txt") == ""
    assert not has_commit(repo, hostile)
    assert not exists_at(repo, hostile, "a.txt")
    assert _written(tmp_path) == []


def test_ordinary_refs_still_work(repo: Path) -> None:
    assert [(c.status, c.path) for c in changed_since(repo, "HEAD~1")] == [("M", "a.txt")]
    assert [(c.status, c.path) for c in diff_names(repo, "HEAD~1...HEAD")] == [("M", "a.txt")]
    assert show_at(repo, "HEAD~1", "a.txt") == "one\n"
    assert has_commit(repo, "HEAD") and exists_at(repo, "HEAD", "a.txt")
