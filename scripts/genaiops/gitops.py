"""Commits to the GitOps repository: clone, apply a change, commit, push; retry on a moved head.

A change is a function that edits a working tree and says whether it changed anything. Publishing
clones the target branch into a private temporary directory (only the folders the change reads and
writes are checked out, so the cost of an attempt does not grow with the rest of the monorepo),
applies the change, commits, and pushes without force. When the push is refused because the remote
branch moved (another promotion won the race; told from git's own push status, without another round
trip), it fetches the new head, resets the private clone onto it, re-applies the change - the rules
must hold on the new head too: a concurrent rejection or retirement must be seen - and tries again, a
bounded number of times with jittered exponential backoff scaled to how long an attempt takes here.
The result is a linear history on the branch in which no concurrent promotion is lost.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from genaiops.errors import InfraError, UsageError

DEFAULT_ATTEMPTS = 40
"""Enough for dozens of promotions racing on one branch: every round, one of them wins."""
BACKOFF_MIN_S = 0.02
"""The smallest backoff unit; the unit is otherwise the duration of the attempt that lost."""
BACKOFF_CAP_S = 1.0
CLONE_CONFIG = ("gc.auto=0", "maintenance.auto=false")
"""A throw-away clone never needs housekeeping (git would otherwise spawn it after commits)."""
LOST_RACE = (
    "fetch first",
    "non-fast-forward",
    "stale info",
    "cannot lock ref",
    "failed to lock",
    "unable to lock",
    "but expected",
    "incorrect old value",
)
"""git's push statuses (``--porcelain``) and ref-lock errors that mean another push won the race."""
COMMITTER = ("genaiops", "genaiops@localhost")
"""Used only when neither git config nor $GIT_AUTHOR_EMAIL/$GIT_COMMITTER_EMAIL name an identity."""

Change = Callable[[Path], str | None]
"""Edits the working tree at the given path; returns the commit message, or None when nothing changed."""


@dataclass(frozen=True)
class PublishResult:
    """What publishing did."""

    status: str
    """``pushed`` (a new commit on the branch), or ``unchanged`` (already as wanted: nothing pushed)."""
    branch: str
    commit: str
    attempts: int


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact(text: str) -> str:
    """``text`` with the credentials of any URL in it replaced by ``***`` (safe for reports and logs)."""
    return _USERINFO.sub("***@", text)


class GitError(Exception):
    """A git command failed; carries its output (credentials in URLs redacted)."""

    def __init__(self, args: tuple[str, ...], output: str) -> None:
        self.args_ = args
        self.output = redact(output)
        super().__init__(redact(f"git {' '.join(args)}: {self.output}"))


USERNAME_ENV = "GENAIOPS_GIT_USERNAME"
PASSWORD_ENV = "GENAIOPS_GIT_PASSWORD"
"""HTTPS credentials for the GitOps remote (an Argo step maps them from a Secret; never written to disk)."""


NETWORK_COMMANDS = frozenset({"clone", "fetch", "push", "ls-remote", "pull"})
"""git subcommands that talk to a remote: the only ones that get the credential helper."""


def credential_env(environ: dict[str, str] | os._Environ[str], url: str | None) -> dict[str, str]:
    """Git configuration, as environment, that answers credential prompts for ``url``'s scheme and host
    only (``credential.<scheme>://<host>.helper``, git's documented URL-scoped inline helper) from
    $GENAIOPS_GIT_USERNAME and $GENAIOPS_GIT_PASSWORD, appended after any GIT_CONFIG_* already set; a
    redirect or submodule pointing at another host gets nothing. Empty when the variables are not both
    set or ``url`` is not HTTP(S), so a laptop's own credential setup is left alone."""
    if not (environ.get(USERNAME_ENV) and environ.get(PASSWORD_ENV)) or not url:
        return {}
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return {}
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    try:
        count = int(environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    helper = f'!f() {{ echo "username=${{{USERNAME_ENV}}}"; echo "password=${{{PASSWORD_ENV}}}"; }}; f'
    return {
        "GIT_CONFIG_COUNT": str(count + 1),
        f"GIT_CONFIG_KEY_{count}": f"credential.{parts.scheme}://{host}.helper",
        f"GIT_CONFIG_VALUE_{count}": helper,
    }


def _remote_url(cwd: Path | None, args: tuple[str, ...], env: dict[str, str]) -> str | None:
    """The URL a network command talks to: clone's URL argument, else the checkout's origin."""
    if args[0] == "clone":
        return next((a for a in args[1:] if "://" in a), None)
    proc = subprocess.run(
        ["git", *(["-C", str(cwd)] if cwd else []), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    return proc.stdout.strip() or None


def run_git(cwd: Path | None, *args: str) -> str:
    """Run git (without prompts) and return stdout; raise GitError with its output on failure. Commands
    that talk to a remote get the push credentials, for that remote's host only."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    command = ["git", *(["-C", str(cwd)] if cwd else []), *args]
    try:
        if args and args[0] in NETWORK_COMMANDS and env.get(USERNAME_ENV) and env.get(PASSWORD_ENV):
            env.update(credential_env(env, _remote_url(cwd, args, env)))
        proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    except FileNotFoundError:
        raise UsageError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise GitError(args, "\n".join(filter(None, (proc.stderr.strip(), proc.stdout.strip()))))
    return proc.stdout


def resolve_remote(repo: Path, remote: str | None, fallback: str | None = None) -> str:
    """The GitOps remote: ``remote`` (a URL, a path, or a remote name of ``repo``), else the checkout's
    ``origin``, else ``fallback`` (genaiops.yaml's repository.url)."""
    candidate = remote or "origin"
    if "://" in candidate or candidate.startswith(("/", ".", "git@")) or Path(candidate).is_dir():
        return candidate
    try:
        return run_git(repo, "remote", "get-url", candidate).strip()
    except GitError:
        if remote is None and fallback:
            return str(fallback)
        raise UsageError(
            f"no git remote {candidate!r} in {repo}",
            hint="Pass --remote URL (the GitOps repository) or add the remote.",
        ) from None


@contextmanager
def private_clone(remote: str, branch: str, checkout: Sequence[str] = ()) -> Iterator[Path]:
    """A throw-away clone of ``branch`` of ``remote``; removed afterwards.

    ``checkout``: the only folders to check out (a cone-mode sparse checkout; files at the top level
    come too). Commits still carry the whole tree; only the working tree, and so the cost of every
    reset, status and clean, is limited to them (a sparse index: git does not even list the rest).
    Empty: everything.
    """
    workdir = Path(tempfile.mkdtemp(prefix="genaiops-gitops-"))
    clone = workdir / "repo"
    config = [arg for item in CLONE_CONFIG for arg in ("-c", item)]
    sparse = ["--sparse"] if checkout else []
    try:
        try:
            run_git(
                None,
                "clone",
                "--quiet",
                *config,
                *sparse,
                "--single-branch",
                "--branch",
                branch,
                remote,
                str(clone),
            )
            if checkout:
                run_git(clone, "sparse-checkout", "set", "--cone", "--sparse-index", "--", *checkout)
        except GitError as exc:
            if "not found in upstream" in exc.output or "Remote branch" in exc.output:
                raise UsageError(f"branch {branch!r} does not exist in {redact(remote)}") from None
            raise InfraError(
                f"cannot clone the GitOps repository {redact(remote)}: {exc.output}",
                hint="Check the remote URL and credentials; the step is retried.",
            ) from None
        yield clone
    finally:
        _IDENTITIES.pop(clone, None)
        shutil.rmtree(workdir, ignore_errors=True)


def remote_head(clone: Path, branch: str) -> str | None:
    """The commit ``branch`` points to on origin now (None if the branch does not exist)."""
    out = run_git(clone, "ls-remote", "origin", f"refs/heads/{branch}").split()
    return out[0] if out else None


def _reset_to(clone: Path, branch: str) -> None:
    run_git(clone, "fetch", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
    run_git(clone, "reset", "--quiet", "--hard", f"refs/remotes/origin/{branch}")
    run_git(clone, "clean", "--quiet", "-fdx")


def _backoff(attempt: int, took: float) -> None:
    """Sleep before attempt ``attempt + 1``: full jitter over a window that doubles each lost race,
    in units of how long the lost attempt took (so racers spread out over about as many attempt
    durations as there are racers left, on a fast local remote as on a slow one)."""
    unit = max(BACKOFF_MIN_S, took)
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, unit * 2 ** (attempt - 1))))


_IDENTITIES: dict[Path, list[str]] = {}


def _identity(clone: Path) -> list[str]:
    """``-c user.name=... -c user.email=...`` when neither git config nor $GIT_* set an identity
    (asked once per clone: a retried commit does not ask again)."""
    if os.environ.get("GIT_AUTHOR_EMAIL") and os.environ.get("GIT_COMMITTER_EMAIL"):
        return []
    if clone not in _IDENTITIES:
        try:
            configured = bool(run_git(clone, "config", "user.email").strip())
        except GitError:  # unset: git config exits 1
            configured = False
        _IDENTITIES[clone] = (
            [] if configured else ["-c", f"user.name={COMMITTER[0]}", "-c", f"user.email={COMMITTER[1]}"]
        )
    return _IDENTITIES[clone]


def commit_all(clone: Path, message: str, paths: list[str]) -> str:
    """Stage ``paths`` (additions and deletions) and commit; returns the new commit id."""
    run_git(clone, "add", "--all", "--", *paths)
    run_git(clone, *_identity(clone), "commit", "--quiet", "--no-verify", "-m", message)
    return run_git(clone, "rev-parse", "HEAD").strip()


def publish(
    clone: Path,
    branch: str,
    change: Change,
    paths: list[str],
    *,
    base_branch: str | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
) -> PublishResult:
    """Apply ``change`` in ``clone`` on top of ``branch`` and push it there, retrying on a moved head.

    ``base_branch``: when ``branch`` does not exist yet on the remote, start it from this branch
    (approval branches start from the environment's branch). ``paths`` bounds what is committed.
    Never force-pushes; raises InfraError when the remote keeps refusing or is unreachable.
    """
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            if not (attempt == 1 and _fresh_clone_of(clone, branch)):
                _prepare(clone, branch, base_branch)
            message = change(clone)
            if message is None or not run_git(clone, "status", "--porcelain", "--", *paths).strip():
                return PublishResult(
                    "unchanged", branch, run_git(clone, "rev-parse", "HEAD").strip(), attempt
                )
            commit = commit_all(clone, message, paths)
            run_git(clone, "push", "--quiet", "--porcelain", "origin", f"HEAD:refs/heads/{branch}")
            return PublishResult("pushed", branch, commit, attempt)
        except GitError as exc:
            moved = _head_moved(clone, branch, exc)
            if not moved:
                raise InfraError(
                    f"git failed while publishing to {branch}: {exc.output}",
                    hint="The GitOps remote may be down; the step is retried.",
                ) from None
            _backoff(attempt, time.monotonic() - started)
    raise InfraError(
        f"the GitOps branch {branch} kept moving: gave up after {attempts} attempts",
        hint="Many promotions raced for the branch; re-run the promotion.",
    )


def _fresh_clone_of(clone: Path, branch: str) -> bool:
    """Whether the clone was just made from ``branch`` and is untouched (no fetch needed)."""
    try:
        tracked = run_git(clone, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}").strip()
        return (
            tracked == run_git(clone, "rev-parse", "HEAD").strip()
            and not run_git(clone, "status", "--porcelain").strip()
        )
    except GitError:
        return False


def _prepare(clone: Path, branch: str, base_branch: str | None) -> None:
    """Reset the clone onto the remote's ``branch`` (or ``base_branch`` when ``branch`` is new)."""
    try:
        _reset_to(clone, branch)
    except GitError as exc:
        if "couldn't find remote ref" not in exc.output.lower():
            raise
        if base_branch is None:
            raise UsageError(f"branch {branch!r} does not exist on the GitOps remote") from None
        _reset_to(clone, base_branch)


def _head_moved(clone: Path, branch: str, exc: GitError) -> bool:
    """Whether a failed push lost a race: the remote branch moved, or its ref was locked by another push.

    Told from git's push status when it says so; otherwise by asking the remote where the branch is.
    Any other refusal (a server hook, permissions) is not retried.
    """
    text = exc.output.lower()
    if exc.args_ and exc.args_[0] == "push" and any(s in text for s in LOST_RACE):
        return True
    try:
        base = run_git(clone, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}").strip()
    except GitError:
        base = ""
    try:
        now = remote_head(clone, branch) or ""
    except GitError:
        return False
    if now != base:
        return True
    return any(s in text for s in (*LOST_RACE, "is at"))


def tree_of(clone: Path, relpath: str) -> str:
    """The git tree id of folder ``relpath`` in the working tree (staged first): its content address."""
    run_git(clone, "add", "--all", "--", relpath)
    return run_git(clone, "write-tree", f"--prefix={relpath.rstrip('/')}/").strip()


def read_tree(clone: Path, tree: str) -> dict[str, bytes]:
    """Every file of tree ``tree`` (path -> bytes), e.g. a snapshot recorded in the lineage."""
    try:
        listing = run_git(clone, "ls-tree", "-r", "-z", "--full-tree", tree)
    except GitError as exc:
        raise UsageError(f"snapshot tree {tree} is not in the GitOps repository: {exc.output}") from None
    files: dict[str, bytes] = {}
    for record in filter(None, listing.split("\0")):
        meta, path = record.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind != "blob":
            continue
        proc = subprocess.run(
            ["git", "-C", str(clone), "cat-file", "blob", sha], capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise UsageError(f"cannot read {path} of snapshot {tree}: {proc.stderr.decode(errors='replace')}")
        files[path] = proc.stdout
    return files
