"""`genaiops route`: from changed files or a GitHub event to the artifacts that must run.

One push or pull request gives one deduplicated target per touched artifact (never one per file),
with the pipeline and stages it needs; deleted artifacts are listed as deletions; paths outside
``artifacts/`` are ignored. The Sensor-triggered workflow fans out over ``targets`` with withParam.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from genaiops.discovery import artifact_for_relpath
from genaiops.errors import UsageError
from genaiops.gitutil import FileChange, diff_names, exists_at, has_commit, parse_name_status
from genaiops.kinds import ARTIFACTS_DIR

ROUTE_SCHEMA = "genaiops.dev/route/v1"
FULL_STAGES = ("lint", "validate", "eval")
DOCS_ONLY_STAGES = ("lint",)
PR_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review", "edited"})
MAX_FILES_LISTED = 50


def is_docs_path(path_in_artifact: str) -> bool:
    """Documentation inside an artifact folder: Markdown files and a docs/ folder."""
    pure = PurePosixPath(path_in_artifact)
    return pure.suffix.lower() in (".md", ".markdown", ".rst") or (
        len(pure.parts) > 1 and pure.parts[0] == "docs"
    )


@dataclass
class EventInfo:
    """What route learned about the triggering event."""

    type: str = "files"
    branch: str | None = None
    sha: str | None = None
    base: str | None = None
    number: int | None = None


@dataclass
class Route:
    """The routing decision for one event."""

    event: EventInfo = field(default_factory=EventInfo)
    targets: list[dict[str, Any]] = field(default_factory=list)
    deletions: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": ROUTE_SCHEMA,
            "event": {k: v for k, v in self.event.__dict__.items() if v is not None},
            "targets": self.targets,
            "deletions": self.deletions,
            "kinds": sorted({t["kind"] for t in self.targets}),
            "ignored": self.ignored,
        }


def route_changes(
    changes: list[FileChange], exists: Callable[[str], bool], event: EventInfo | None = None
) -> Route:
    """Group file changes by artifact; ``exists(relpath)`` says whether a path exists at the head."""
    touched: dict[tuple[str, str], dict[str, Any]] = {}
    ignored: list[str] = []
    for change in changes:
        paths = [change.path] + ([change.old_path] if change.old_path else [])
        hit = False
        for path in paths:
            located = artifact_for_relpath(path)
            if located is None:
                continue
            hit = True
            kind, artifact_id = located
            entry = touched.setdefault(
                (kind.name, artifact_id), {"kind": kind, "id": artifact_id, "files": [], "code": False}
            )
            inner = PurePosixPath(path).relative_to(f"{ARTIFACTS_DIR}/{kind.folder}/{artifact_id}").as_posix()
            if path not in entry["files"]:
                entry["files"].append(path)
            if not is_docs_path(inner):
                entry["code"] = True
        if not hit:
            ignored.append(change.path)
    result = Route(event=event or EventInfo(), ignored=sorted(set(ignored)))
    for (kind_name, artifact_id), entry in sorted(touched.items()):
        kind = entry["kind"]
        relpath = f"{ARTIFACTS_DIR}/{kind.folder}/{artifact_id}"
        if not exists(f"{relpath}/{kind.manifest}"):
            result.deletions.append({"kind": kind_name, "id": artifact_id, "path": relpath})
            continue
        files = sorted(entry["files"])
        stages = FULL_STAGES if entry["code"] else DOCS_ONLY_STAGES
        result.targets.append(
            {
                "kind": kind_name,
                "id": artifact_id,
                "path": relpath,
                "pipeline": kind.pipeline,
                "stages": list(stages),
                "eval": "eval" in stages,
                "files": files[:MAX_FILES_LISTED],
                "fileCount": len(files),
            }
        )
    return result


def _fs_exists(repo: Path) -> Callable[[str], bool]:
    return lambda rel: (repo / rel).exists()


def _tree_exists(repo: Path, sha: str) -> Callable[[str], bool]:
    return lambda rel: exists_at(repo, sha, rel)


def _unwrap(payload: Any) -> tuple[dict[str, Any], str | None]:
    """Accept a raw GitHub payload or Argo Events' envelope: {headers, body} from the GitHub
    EventSource, {header, body} from the generic webhook EventSource."""
    if not isinstance(payload, dict):
        raise UsageError("the event payload must be a JSON object")
    envelope_key = next((k for k in ("headers", "header") if k in payload), None)
    if isinstance(payload.get("body"), dict) and envelope_key is not None:
        header = payload.get(envelope_key) or {}
        kind = None
        if isinstance(header, dict):
            for key, value in header.items():
                if key.lower() == "x-github-event":
                    kind = value[0] if isinstance(value, list) and value else value
        return payload["body"], kind if isinstance(kind, str) else None
    return payload, None


def route_event(payload: Any, repo: Path | None, event_type: str | None = None) -> Route:
    """Route a GitHub push or pull_request payload."""
    body, header_type = _unwrap(payload)
    kind = (
        event_type
        or header_type
        or (
            "pull_request"
            if "pull_request" in body
            else "push"
            if "commits" in body or "before" in body
            else None
        )
    )
    if kind == "pull_request":
        return _route_pull_request(body, repo)
    if kind == "push":
        return _route_push(body, repo)
    raise UsageError(
        f"unsupported event type {kind!r}: route understands push and pull_request",
        hint="Pass --event-type when the payload does not say.",
    )


def _route_push(body: dict[str, Any], repo: Path | None) -> Route:
    ref = body.get("ref")
    branch = (
        ref.removeprefix("refs/heads/") if isinstance(ref, str) and ref.startswith("refs/heads/") else None
    )
    before, after = body.get("before"), body.get("after")
    event = EventInfo(
        type="push",
        branch=branch,
        sha=after if isinstance(after, str) else None,
        base=before if isinstance(before, str) else None,
    )
    if body.get("deleted") is True or (isinstance(ref, str) and not ref.startswith("refs/heads/")):
        return Route(event=event)  # branch deletion or tag: nothing to build
    if (
        repo is not None
        and isinstance(before, str)
        and isinstance(after, str)
        and has_commit(repo, before)
        and has_commit(repo, after)
    ):
        return route_changes(diff_names(repo, before, after), _tree_exists(repo, after), event)
    commits = body.get("commits")
    if not isinstance(commits, list):
        raise UsageError("push payload has no commits list")
    status: dict[str, str] = {}
    for commit in commits:
        if not isinstance(commit, dict):
            raise UsageError("push payload: each commit must be an object")
        for key, code in (("added", "A"), ("modified", "M"), ("removed", "D")):
            files = commit.get(key) or []
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                raise UsageError(f"push payload: commits[].{key} must be a list of paths")
            for path in files:
                status[path] = code  # later commits win: add-then-remove is a removal
    changes = [FileChange(code, path) for path, code in sorted(status.items())]
    removed = {c.path for c in changes if c.status == "D"}
    present = {c.path for c in changes if c.status != "D"}

    def exists(rel: str) -> bool:
        if rel in removed:
            return False
        if rel in present:
            return True
        return (repo / rel).exists() if repo is not None else True

    return route_changes(changes, exists, event)


def _route_pull_request(body: dict[str, Any], repo: Path | None) -> Route:
    pr = body.get("pull_request")
    if not isinstance(pr, dict):
        raise UsageError("pull_request payload has no pull_request object")
    base = (pr.get("base") or {}).get("sha") if isinstance(pr.get("base"), dict) else None
    head = (pr.get("head") or {}).get("sha") if isinstance(pr.get("head"), dict) else None
    head_ref = (pr.get("head") or {}).get("ref") if isinstance(pr.get("head"), dict) else None
    number = body.get("number") if isinstance(body.get("number"), int) else pr.get("number")
    event = EventInfo(
        type="pull_request",
        branch=head_ref if isinstance(head_ref, str) else None,
        sha=head if isinstance(head, str) else None,
        base=base if isinstance(base, str) else None,
        number=number if isinstance(number, int) else None,
    )
    if body.get("action") not in PR_ACTIONS:
        return Route(event=event)
    if not (isinstance(base, str) and isinstance(head, str)):
        raise UsageError("pull_request payload lacks base.sha or head.sha")
    if repo is None or not has_commit(repo, base) or not has_commit(repo, head):
        raise UsageError(
            f"commits {base[:12]} and {head[:12]} are not both in the checkout",
            hint="Fetch them first (git fetch origin <base> <head>): a pull_request payload "
            "carries no file list.",
        )
    return route_changes(diff_names(repo, f"{base}...{head}"), _tree_exists(repo, head), event)


def route_files(paths: list[str], repo: Path) -> Route:
    """Route an explicit list of changed paths (existence judged on the working tree)."""
    return route_changes([FileChange("M", p.removeprefix("./")) for p in paths], _fs_exists(repo))


def route_name_status(text: str, repo: Path) -> Route:
    """Route `git diff --name-status` output."""
    return route_changes(parse_name_status(text), _fs_exists(repo))


def load_payload(source: str, stdin_text: Callable[[], str]) -> Any:
    """Read a JSON payload from a file path or '-' (stdin)."""
    try:
        text = stdin_text() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read event payload {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"event payload {source} is not UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"event payload {source} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
