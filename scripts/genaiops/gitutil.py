"""Thin wrappers over the git CLI (the tool every checkout already has).

Refs and commits come from users and webhook payloads, so every call that takes one puts it after
``--end-of-options``: a "ref" such as ``--output=/some/file`` is then a ref git cannot find, never an
option it obeys.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from genaiops.errors import UsageError


@dataclass(frozen=True)
class FileChange:
    """One changed path as git reports it."""

    status: str
    """A (added), M (modified), D (deleted), R (renamed), C (copied), T (type change)."""
    path: str
    old_path: str | None = None


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run git in ``repo`` and return stdout; failures become usage errors with git's message."""
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def parse_name_status(text: str) -> list[FileChange]:
    """Parse ``git diff --name-status`` output (tab separated, renames with a score)."""
    changes: list[FileChange] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        status = parts[0][:1].upper()
        if status in ("R", "C") and len(parts) >= 3:
            changes.append(FileChange(status, parts[2], parts[1]))
        elif len(parts) >= 2:
            changes.append(FileChange(status, parts[1]))
        else:
            raise UsageError(f"cannot parse name-status line: {line!r}")
    return changes


_DIFF_RELATIVE = ("diff", "--name-status", "-M", "--relative", "--no-color", "--end-of-options")
"""``git diff`` naming changed paths relative to the folder it runs in (and only those inside it)."""


def changed_since(repo: Path, ref: str, head: str | None = None) -> list[FileChange]:
    """Files changed between the merge base of ``ref`` and ``head`` (default: the working tree).

    ``ref`` may name both ends as ``BASE...HEAD`` (git's notation for what HEAD's own commits changed
    since it left BASE): only commits are compared, so the cost is that of the change, not of a walk
    over the working tree looking for untracked files (what a pull request's CI, on a clean checkout,
    wants).

    Paths are relative to ``repo``, which may be a folder inside the git work tree; changes outside
    it are not listed.
    """
    if head is None and "..." in ref:
        ref, head = ref.split("...", 1)
        head = head or "HEAD"
        if not ref:
            raise UsageError("--changed-since BASE...HEAD needs a BASE")
    git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if head:
        git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{head}^{{commit}}")
        out = git(repo, *_DIFF_RELATIVE, f"{ref}...{head}")
    else:
        base = git(repo, "merge-base", "--end-of-options", ref, "HEAD").strip()
        tracked, untracked = worktree_status(repo)
        if base == git(repo, "rev-parse", "HEAD").strip():
            return tracked + untracked  # what status compared with HEAD is the whole answer
        out = git(repo, *_DIFF_RELATIVE, base)
        return parse_name_status(out) + untracked
    return parse_name_status(out)


_STATUS_LETTER = {"A": "A", "D": "D", "T": "T"}
"""Status codes kept from ``git status``; every other change (modified, unmerged) is reported as M."""


def worktree_status(repo: Path) -> tuple[list[FileChange], list[FileChange]]:
    """(changes of tracked files against HEAD, untracked files as additions) in the working tree.

    One ``git status`` in its default mode, which reads and refreshes git's untracked cache (it
    remembers which directories changed since the last look) and lists a wholly untracked directory
    as one ``dir/`` entry; those few are then expanded with ``ls-files``. In a repository of 10,000
    artifacts this is about 0.15 s, where ``git diff`` and a walk of every directory for untracked
    files took 0.45 s. Renames are not paired (a rename is its deletion and its addition). Paths are
    relative to ``repo``; what lies outside it is left out (status names paths from the top level).
    """
    prefix = git(repo, "rev-parse", "--show-prefix").strip()  # "" at the top of the work tree
    status = git(
        repo,
        "-c",
        "core.untrackedCache=true",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=normal",
        "--ignore-submodules=all",
        "--no-renames",
    )
    tracked: list[FileChange] = []
    untracked: list[str] = []
    folders: list[str] = []
    for entry in filter(None, status.split("\0")):
        code, path = entry[:2], entry[3:]
        if not path.startswith(prefix):
            continue
        path = path[len(prefix) :]
        if code == "??":
            (folders if path.endswith("/") else untracked).append(path)
        elif code != "AD":  # added to the index, then deleted: neither in HEAD nor in the tree
            letter = code[0] if code[0] != " " else code[1]
            tracked.append(FileChange(_STATUS_LETTER.get(letter, "M"), path))
    if folders:
        listed = git(repo, "ls-files", "--others", "--exclude-standard", "-z", "--", *folders)
        untracked += filter(None, listed.split("\0"))
    return tracked, [FileChange("A", p) for p in sorted(untracked)]


def has_commit(repo: Path, sha: str) -> bool:
    """Whether ``sha`` names a commit available in ``repo``."""
    if not sha or set(sha) == {"0"}:
        return False
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", "--end-of-options", f"{sha}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def diff_names(repo: Path, *revisions: str) -> list[FileChange]:
    """``git diff --name-status`` between ``revisions`` (two commits, or one ``A...B`` range)."""
    return parse_name_status(
        git(repo, "diff", "--name-status", "-M", "--no-color", "--end-of-options", *revisions)
    )


def exists_at(repo: Path, commit: str, rel: str) -> bool:
    """Whether ``rel`` exists in ``commit``'s tree."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", "--end-of-options", f"{commit}:{rel}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def show_at(repo: Path, ref: str, rel: str) -> str:
    """The text of ``rel`` at ``ref``; empty when either does not exist."""
    return git(repo, "show", "--end-of-options", f"{ref}:{rel}", check=False)
