"""``--changed-since REF`` on the working tree reads one ``git status`` (with git's untracked cache)
instead of ``git diff`` plus a walk of every directory: it must name exactly the paths the plain
commands name, in every state a working tree can be in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from genaiops.gitutil import changed_since, worktree_status


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def _write(root: Path, rel: str, text: str = "x\n") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "t")
    for rel in ("a.txt", "b.txt", "gone.txt", "staged-gone.txt", "moved.txt", "d/one.txt", "d/two.txt"):
        _write(root, rel, f"{rel}\n")
    _write(root, ".gitignore", "*.log\nbuild/\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def _reference(root: Path, ref: str) -> set[str]:
    """The paths ``git diff -M <merge base>`` and ``git ls-files --others --exclude-standard`` name."""
    base = _git(root, "merge-base", ref, "HEAD").strip()
    paths: set[str] = set()
    for line in _git(root, "diff", "--name-status", "-M", base).splitlines():
        paths.update(line.split("\t")[1:])
    paths.update(p for p in _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0") if p)
    return paths


def _named(root: Path, ref: str) -> set[str]:
    changes = changed_since(root, ref)
    return {c.path for c in changes} | {c.old_path for c in changes if c.old_path}


def _dirty(root: Path) -> None:
    """Every kind of working-tree change at once."""
    _write(root, "a.txt", "changed\n")  # modified, unstaged
    _write(root, "b.txt", "staged\n")
    _git(root, "add", "b.txt")  # modified, staged
    (root / "gone.txt").unlink()  # deleted, unstaged
    _git(root, "rm", "-q", "staged-gone.txt")  # deleted, staged
    _git(root, "mv", "moved.txt", "renamed.txt")  # renamed, staged
    _write(root, "new.txt")  # untracked file
    _write(root, "fresh/deep/er/file one.txt")  # untracked folder, nested, a space in the name
    _write(root, "fresh/other.txt")
    _write(root, "d/three.txt")  # untracked file in a tracked folder
    _write(root, "caf\u00e9.txt")  # non-ASCII name
    _write(root, "added-then-deleted.txt")
    _git(root, "add", "added-then-deleted.txt")
    (root / "added-then-deleted.txt").unlink()
    _write(root, "debug.log")  # ignored
    _write(root, "build/out.txt")  # ignored folder


def test_a_clean_tree_names_nothing(repo: Path) -> None:
    assert changed_since(repo, "HEAD") == []
    assert worktree_status(repo) == ([], [])


def test_every_working_tree_change_is_named_as_git_names_it(repo: Path) -> None:
    _dirty(repo)
    named = _named(repo, "HEAD")
    assert named == _reference(repo, "HEAD")
    assert {"fresh/deep/er/file one.txt", "caf\u00e9.txt", "renamed.txt", "moved.txt"} <= named
    assert not {"debug.log", "build/out.txt", "added-then-deleted.txt"} & named


def test_statuses_say_added_deleted_or_modified(repo: Path) -> None:
    _dirty(repo)
    status = {c.path: c.status for c in changed_since(repo, "HEAD")}
    assert status["a.txt"] == status["b.txt"] == "M"
    assert status["gone.txt"] == status["staged-gone.txt"] == status["moved.txt"] == "D"
    assert status["renamed.txt"] == status["new.txt"] == status["fresh/other.txt"] == "A"


def test_a_base_behind_head_adds_its_commits(repo: Path) -> None:
    _write(repo, "committed.txt")
    _git(repo, "add", "committed.txt")
    _git(repo, "commit", "-q", "-m", "after base")
    _dirty(repo)
    named = _named(repo, "HEAD~1")
    assert named == _reference(repo, "HEAD~1")
    assert "committed.txt" in named


def test_the_untracked_cache_is_kept_up_to_date(repo: Path) -> None:
    """The second look reuses the cache git wrote on the first; a file created after it is still seen."""
    _write(repo, "first.txt")
    assert "first.txt" in _named(repo, "HEAD")
    _write(repo, "d/later.txt")
    _write(repo, "fresh/later.txt")
    named = _named(repo, "HEAD")
    assert named == _reference(repo, "HEAD")
    assert {"first.txt", "d/later.txt", "fresh/later.txt"} <= named


def test_a_project_in_a_subfolder_gets_paths_relative_to_it(repo: Path) -> None:
    """The team's project may live in a folder of a larger repository: paths are relative to that folder
    (as the artifacts/ paths routing expects) and changes outside it are left out, in both forms."""
    _write(repo, "proj/artifacts/a.txt")
    _write(repo, "proj/kept.txt")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "project folder")
    _write(repo, "proj/artifacts/a.txt", "changed\n")
    _write(repo, "proj/artifacts/new/one.txt")  # a new untracked folder inside the project
    _write(repo, "proj/extra.txt")
    _write(repo, "a.txt", "outside\n")  # outside the project
    _write(repo, "outside-new/file.txt")
    project = repo / "proj"
    assert _named(project, "HEAD") == {"artifacts/a.txt", "artifacts/new/one.txt", "extra.txt"}
    assert _named(project, "HEAD~1") == {"artifacts/a.txt", "artifacts/new/one.txt", "extra.txt", "kept.txt"}
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "changes inside and outside")
    assert _named(project, "HEAD~1...HEAD") == {"artifacts/a.txt", "artifacts/new/one.txt", "extra.txt"}
