"""Promotion lineage: the append-only history of what was deployed to an environment, and why.

Every promotion (and rollback) appends one entry to
``environments/<env>/lineage/<kind>/<id>.yaml``: the artifact version and content digest, the git tree
of its snapshot (so a rollback can restore the exact bytes), the source commit, the pipeline image
digest, the eval dataset digest, the scorecard, the workflow, the time and the approver (and, for
a promotion that skipped the environment before it in the chain, why: ``orderException``). The
scorecard of the deployed entry is the next evaluation's baseline (:func:`baseline_for`). A
retirement appends an entry with action ``retire`` naming the version it removed; after it nothing
is deployed (:func:`current` is None) and the file keeps the history.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from genaiops.errors import UsageError

if TYPE_CHECKING:
    from ruamel.yaml import YAML

LINEAGE_API = "genaiops.dev/v1"
LINEAGE_KIND = "Lineage"
ENVIRONMENTS_DIR = "environments"
RETIRE = "retire"
"""The action of the entry that removed the artifact from the environment (its folder was deleted)."""
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def now() -> str:
    """The time recorded in a lineage entry: UTC, seconds, ``Z``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def lineage_relpath(env: str, kind: str, artifact_id: str) -> str:
    """The lineage file of one artifact in one environment, relative to the repository root."""
    return f"{ENVIRONMENTS_DIR}/{env}/lineage/{kind}/{artifact_id}.yaml"


@dataclass
class LineageEntry:
    """One promotion, rollback or retirement of an artifact in an environment."""

    version: str
    digest: str
    snapshot_tree: str
    action: str = "promote"
    source_commit: str | None = None
    pipeline_image_digest: str | None = None
    eval_dataset_digest: str | None = None
    scorecard: dict[str, Any] | None = None
    workflow: str | None = None
    time: str = field(default_factory=now)
    approver: str | None = None
    rolled_back_from: str | None = None
    order_exception: str | None = None
    """Why this promotion skipped the environment before it in the chain (``promote --skip-order``)."""

    def to_yaml(self) -> dict[str, Any]:
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString  # ruamel: only when writing

        data: dict[str, Any] = {
            "action": self.action,
            "version": DoubleQuotedScalarString(self.version),
            "digest": self.digest,
            "snapshotTree": self.snapshot_tree,
            "sourceCommit": self.source_commit,
            "pipelineImageDigest": self.pipeline_image_digest,
            "evalDatasetDigest": self.eval_dataset_digest,
            "workflow": self.workflow,
            "time": self.time,
            "approver": self.approver,
        }
        if self.rolled_back_from is not None:
            data["rolledBackFrom"] = self.rolled_back_from
        if self.order_exception is not None:
            data["orderException"] = self.order_exception
        data["scorecard"] = self.scorecard
        return data

    @classmethod
    def from_yaml(cls, data: Any, where: str) -> LineageEntry:
        if not isinstance(data, dict):
            raise UsageError(f"{where}: a lineage entry must be a mapping")
        missing = [k for k in ("version", "digest", "snapshotTree") if not data.get(k)]
        if missing:
            raise UsageError(f"{where}: lineage entry lacks {', '.join(missing)}")
        scorecard = data.get("scorecard")
        return cls(
            version=str(data["version"]),
            digest=str(data["digest"]),
            snapshot_tree=str(data["snapshotTree"]),
            action=str(data.get("action", "promote")),
            source_commit=_opt(data.get("sourceCommit")),
            pipeline_image_digest=_opt(data.get("pipelineImageDigest")),
            eval_dataset_digest=_opt(data.get("evalDatasetDigest")),
            scorecard=_plain(scorecard) if isinstance(scorecard, dict) else None,
            workflow=_opt(data.get("workflow")),
            time=str(data.get("time", "")),
            approver=_opt(data.get("approver")),
            rolled_back_from=_opt(data.get("rolledBackFrom")),
            order_exception=_opt(data.get("orderException")),
        )


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (for JSON and comparisons)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _yaml() -> YAML:
    from ruamel.yaml import YAML  # imported when lineage is written or read round-trip, not by --help

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _load(path: Path, rel: str) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{rel} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries") or [], list):
        raise UsageError(f"{rel} must be a mapping with an `entries` list")
    return data


def read_lineage(repo: Path, env: str, kind: str, artifact_id: str) -> list[LineageEntry]:
    """All entries of an artifact's lineage in ``env``, oldest first (empty when never promoted)."""
    rel = lineage_relpath(env, kind, artifact_id)
    path = repo / rel
    if not path.is_file():
        return []
    data = _load(path, rel)
    return [
        LineageEntry.from_yaml(e, f"{rel} entry {i + 1}") for i, e in enumerate(data.get("entries") or [])
    ]


def _dump(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue()


def append_lineage(repo: Path, env: str, kind: str, artifact_id: str, entry: LineageEntry) -> Path:
    """Append ``entry`` to the artifact's lineage file (created on first promotion).

    Earlier entries are never rewritten: the new entry's text is appended to the file, so the
    history's bytes only grow (and a long history costs nothing to extend).
    """
    rel = lineage_relpath(env, kind, artifact_id)
    path = repo / rel
    item = entry.to_yaml()
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        data = _load(path, rel)
        if list(data)[-1:] == ["entries"] and data.get("entries") and "\nentries:\n" in "\n" + text:
            appended = _dump({"entries": [item]}).split("\n", 1)[1]
            path.write_text(text + ("" if text.endswith("\n") else "\n") + appended, encoding="utf-8")
            return path
        raise UsageError(
            f"{rel}: `entries` must be the last key, a non-empty block list, to append to it",
            hint="Restore the file from git history; lineage files are written by genaiops only.",
        )
    header = (
        f"# Append-only promotion history of {kind}/{artifact_id} in {env}; written by genaiops.\n"
        "# The last entry is what is deployed; its scorecard is the next evaluation's baseline.\n"
    )
    document = {
        "apiVersion": LINEAGE_API,
        "kind": LINEAGE_KIND,
        "environment": env,
        "artifact": {"kind": kind, "id": artifact_id},
        "entries": [item],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + _dump(document), encoding="utf-8")
    return path


def current(repo: Path, env: str, kind: str, artifact_id: str) -> LineageEntry | None:
    """The entry that is deployed now (the last one), or None (never promoted, or retired)."""
    entries = read_lineage(repo, env, kind, artifact_id)
    return entries[-1] if entries and entries[-1].action != RETIRE else None


def baseline_for(env: str, kind: str, artifact_id: str, repo: Path | None = None) -> dict[str, Any] | None:
    """The scorecard of the version deployed in ``env``: the eval stage's baseline (None: no baseline yet).

    ``repo`` defaults to the project found from the working directory (or $GENAIOPS_REPO).
    """
    if repo is None:
        from genaiops.project import load_project

        repo = load_project().root
    entry = current(repo, env, kind, artifact_id)
    if entry is None or entry.scorecard is None:
        return None
    baseline = dict(entry.scorecard)
    baseline.setdefault("baselineOf", {"environment": env, "version": entry.version, "digest": entry.digest})
    return baseline
