"""Rejection: a version marked as rejected, in git with a reason, is accepted by no environment again.

``genaiops reject KIND/ID VERSION --reason TEXT`` appends an entry (version, the content digest of that
version when the checkout has it, reason, who, time) to ``environments/rejected/<kind>/<id>.yaml`` on
the environment branch, one commit (``Genaiops-Action: reject``), pushed like a promotion and never
through a merge request: refusing is always allowed. From then on promote refuses that version, or
that exact content under any version, in every environment (``promote/rejected``), checked in the
publishing clone like the promotion order. Environments that deploy it keep it until a rollback or a
newer version replaces it: a rejection stops the version from spreading, it does not undeploy it.
Rejecting again is ``unchanged``. The file is append-only history; ``--reason`` is required.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from genaiops import rules
from genaiops.commands import command_help
from genaiops.discovery import Artifact, digest
from genaiops.errors import ArtifactError, UsageError
from genaiops.kinds import BY_NAME, parse_artifact_ref
from genaiops.lineage import ENVIRONMENTS_DIR, LineageEntry, now
from genaiops.project import Project, load_project
from genaiops.promote.deploy import publish_edit, with_trailers
from genaiops.promote.options import add_target_options
from genaiops.promote.snapshot import Snapshot

REJECTED_DIR = "rejected"
"""``environments/rejected/``: not an environment (genaiops init reserves the name)."""

REJECTED = rules.rule(
    "promote/rejected",
    "promote",
    "This version of the artifact (or its exact content) was rejected with `genaiops reject`; no "
    "environment accepts it.",
    "Fix the problem the rejection names and promote a new version.",
)


def rejections_relpath(kind: str, artifact_id: str) -> str:
    """Where the rejected versions of one artifact are recorded, relative to the repository root."""
    return f"{ENVIRONMENTS_DIR}/{REJECTED_DIR}/{kind}/{artifact_id}.yaml"


def read_rejections(repo: Path, kind: str, artifact_id: str) -> list[dict[str, Any]]:
    """The recorded rejections of ``kind/artifact_id``, oldest first (empty when there are none)."""
    rel = rejections_relpath(kind, artifact_id)
    path = repo / rel
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{rel} is not valid YAML: {exc}") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{rel} must be a mapping with an `entries` list", hint="It is written by genaiops.")
    return entries


def rejection_of(
    repo: Path, kind: str, artifact_id: str, version: str, content: str
) -> dict[str, Any] | None:
    """The rejection that covers ``version`` or the content digest ``content``, if any."""
    return next(
        (
            e
            for e in read_rejections(repo, kind, artifact_id)
            if str(e.get("version")) == version or (content and e.get("digest") == content)
        ),
        None,
    )


def require_not_rejected(clone: Path, snapshot: Snapshot) -> None:
    """Raise a promote/rejected finding when the snapshot's version or content was rejected."""
    found = rejection_of(clone, snapshot.kind, snapshot.id, snapshot.version, snapshot.digest)
    if found is None:
        return
    same_version = str(found.get("version")) == snapshot.version
    what = "it" if same_version else f"the same content ({found['version']})"
    raise ArtifactError(
        f"{snapshot.kind}/{snapshot.id} {snapshot.version}: {what} was rejected by "
        f"{found.get('by') or 'someone'} at {found.get('time')}: {found.get('reason')}. "
        "Nothing was promoted.",
        rules.RULES[REJECTED].hint,
        rule_id=REJECTED,
        file=rejections_relpath(snapshot.kind, snapshot.id),
    )


@dataclass(frozen=True)
class RejectionEdit:
    """Append one rejection to ``environments/rejected/<kind>/<id>.yaml`` (an Edit for publish_edit)."""

    kind: str
    id: str
    entry: dict[str, Any]

    @property
    def env(self) -> str:
        return REJECTED_DIR  # publish_edit commits environments/<env>/: here environments/rejected/

    def done(self, clone: Path) -> bool:
        return rejection_of(clone, self.kind, self.id, str(self.entry["version"]), "") is not None

    def branch(self, clone: Path) -> str:  # never through a merge request; required by the protocol
        raise UsageError("a rejection is pushed directly")

    def apply(self, clone: Path) -> tuple[LineageEntry, str]:
        entries = read_rejections(clone, self.kind, self.id)
        path = clone / rejections_relpath(self.kind, self.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "apiVersion": "genaiops.dev/v1",
            "kind": "Rejections",
            "artifact": {"kind": self.kind, "id": self.id},
            "entries": [*entries, self.entry],
        }
        header = (
            f"# Versions of {self.kind}/{self.id} that no environment accepts (genaiops reject); "
            "append-only.\n"
        )
        path.write_text(header + yaml.safe_dump(document, sort_keys=False, width=100), encoding="utf-8")
        recorded = LineageEntry(
            version=str(self.entry["version"]),
            digest=str(self.entry.get("digest") or ""),
            snapshot_tree="",
            action="reject",
            approver=self.entry.get("by"),
        )
        trailers = [
            "Genaiops-Action: reject",
            f"Genaiops-Artifact: {self.kind}/{self.id}",
            f"Genaiops-Version: {self.entry['version']}",
            f"Genaiops-Reason: {self.entry['reason']}",
        ]
        if self.entry.get("by"):
            trailers.append(f"Genaiops-Rejected-By: {self.entry['by']}")
        return recorded, with_trailers(f"reject {self.kind}/{self.id} {self.entry['version']}", trailers)


def _one_line(text: str | None, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def reject(
    project: Project,
    kind: str,
    artifact_id: str,
    version: str,
    reason: str,
    *,
    by: str | None = None,
    remote: str | None = None,
    branch: str | None = None,
) -> tuple[str, str, str]:
    """Record the rejection; returns (status ``rejected`` or ``unchanged``, branch, commit)."""
    from genaiops.promote.rollback import target_for  # the same remote and branch defaults

    reason, by = _one_line(reason, 500), _one_line(by, 200) or None
    if not reason:
        raise UsageError(
            "--reason is required: a rejection says why", hint='e.g. --reason "INC-42: leaks PII"'
        )
    if not version.strip():
        raise UsageError("VERSION must not be empty")
    artifact = Artifact(BY_NAME[kind], artifact_id, project.root)
    content = None
    if artifact.manifest_path.is_file():
        manifest = yaml.safe_load(artifact.manifest_path.read_text(encoding="utf-8")) or {}
        if isinstance(manifest, dict) and str(manifest.get("version")) == version:
            content = digest(artifact)
    entry = {"version": version, "digest": content, "reason": reason, "by": by, "time": now()}
    outcome = publish_edit(target_for(project, remote, branch), RejectionEdit(kind, artifact_id, entry))
    status = "rejected" if outcome.status == "pushed" else "unchanged"
    return status, outcome.branch, outcome.commit


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "reject",
        help=command_help("reject"),
        description="Record in git (environments/rejected/) that VERSION of KIND/ID, and its exact "
        "content, must never be promoted again, with the reason. See docs/promotion.md.",
    )
    p.add_argument("artifact", metavar="KIND/ID", help="e.g. prompt/support-answer")
    p.add_argument("version", metavar="VERSION", help="the version to reject")
    p.add_argument("--reason", required=True, help="why (recorded in the file and the commit)")
    p.add_argument("--by", help="who rejects it (default: $GENAIOPS_ACTOR, else the git user)")
    add_target_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    kind, artifact_id = parse_artifact_ref(
        args.artifact, example="genaiops reject prompt/support-answer 1.2.0"
    )
    project = load_project(args.repo)
    by = args.by or os.environ.get("GENAIOPS_ACTOR") or os.environ.get("GIT_AUTHOR_NAME")
    status, branch, commit = reject(
        project, kind, artifact_id, args.version, args.reason, by=by, remote=args.remote, branch=args.branch
    )
    sys.stdout.write(json.dumps({"status": status, "branch": branch, "commit": commit}, indent=2) + "\n")
    verb = "rejected" if status == "rejected" else "was rejected already"
    sys.stderr.write(f"reject: {kind}/{artifact_id} {args.version} {verb} ({branch} at {commit[:12]})\n")
    return 0
