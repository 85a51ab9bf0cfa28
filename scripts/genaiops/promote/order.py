"""Promotion order: the environment before in the chain first, and what the artifact needs next to it.

The environments of ``genaiops.yaml`` form an ordered chain (dev -> staging -> prod by default). To
promote version V of an artifact to environment N (not the first), environment N-1's lineage on the
environment branch must name V, with the same content digest, as what it deploys now: promoted there
and not rolled back (a ``genaiops watch`` rollback appends an earlier version) or retired since. The
check runs in the promotion's own clone of the environment branch, so it sees what is really deployed
at the moment of the push, also after a lost race. Skipping is an explicit exception: ``--skip-order
REASON`` promotes anyway and records the reason in the lineage entry (``orderException``) and the
commit (``Genaiops-Order-Exception``). Rollbacks and retirements are not ordered: they undo.

Dependencies: an artifact may name others that serving needs next to it (``Kind.references``: a
prompt's ``model_config``). The target environment must deploy each of them before the artifact
arrives (``promote/missing-dependency``), and an artifact that a deployed one names cannot be retired
from that environment (genaiops.promote.retire, ``promote/retire-referenced``). Both are read from
the environment branch as the promotion's clone sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from genaiops import rules
from genaiops.errors import ArtifactError, UsageError
from genaiops.kinds import BY_NAME, KINDS
from genaiops.lineage import ENVIRONMENTS_DIR, current, lineage_relpath
from genaiops.project import Project
from genaiops.promote.snapshot import Snapshot, env_artifact_dir

OUT_OF_ORDER = rules.rule(
    "promote/out-of-order",
    "promote",
    "The environment before the target in the promotion chain (the order of `environments` in "
    "genaiops.yaml) does not deploy this version; nothing was promoted.",
    "Promote the version to that environment first (and let its watch or analysis pass there); to skip "
    "it deliberately, pass --skip-order REASON, which the lineage records.",
)


MISSING_DEPENDENCY = rules.rule(
    "promote/missing-dependency",
    "promote",
    "The artifact names another artifact that serving needs next to it (a prompt's model_config), and "
    "the target environment does not deploy that one; nothing was promoted.",
    "Promote the named artifact to the environment first (its own pipeline does, when its folder "
    "changes), then promote this one again.",
)


class OutOfOrder(ArtifactError):
    """The previous environment does not deploy the snapshot, or the target lacks a dependency (exit 1)."""


def chain_position(project: Project, env: str, skip_reason: str | None) -> tuple[str, str | None]:
    """What the promotion to ``env`` must find deployed first, and the exception to record.

    Returns (previous environment, or "" when there is none or it is skipped; the lineage's
    ``orderException``, or None). A blank ``skip_reason`` is a usage error: an exception says why.
    """
    previous = project.previous_environment(env)
    if skip_reason is not None and not skip_reason.strip():
        raise UsageError(
            "--skip-order needs a reason (it is recorded in the lineage)",
            hint='e.g. --skip-order "hotfix for INC-1234, approved by the on-call lead"',
        )
    if previous is None:
        return "", None
    if skip_reason is not None:
        return "", f"skipped {previous.name}: {skip_reason.strip()}"
    return previous.name, None


def require_deployed_before(clone: Path, previous: str, env: str, snapshot: Snapshot) -> None:
    """Raise OutOfOrder unless ``previous`` deploys exactly ``snapshot`` in the checkout at ``clone``."""
    deployed = current(clone, previous, snapshot.kind, snapshot.id)
    ref = f"{snapshot.kind}/{snapshot.id}"
    if deployed is not None and deployed.digest == snapshot.digest:
        return
    if deployed is None:
        there = f"{previous} does not deploy {ref} at all"
    elif deployed.version == snapshot.version:
        there = f"{previous} deploys {ref} {deployed.version} with other content ({deployed.digest[:19]})"
    else:
        there = f"{previous} deploys {ref} {deployed.version}"
    raise OutOfOrder(
        f"{ref} {snapshot.version} cannot reach {env} before {previous}: {there}. Nothing was promoted.",
        rules.RULES[OUT_OF_ORDER].hint,
        rule_id=OUT_OF_ORDER,
        file=lineage_relpath(previous, snapshot.kind, snapshot.id),
    )


def _manifest(data: bytes | str) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(data)
    except yaml.YAMLError:  # lint refuses such a manifest long before promotion
        return {}
    return loaded if isinstance(loaded, dict) else {}


def references(kind: str, manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The artifacts ``manifest`` (of ``kind``) names: (manifest key, kind, id) per named one."""
    return [
        (key, target, str(manifest[key]))
        for key, target in BY_NAME[kind].references
        if isinstance(manifest.get(key), str) and manifest[key]
    ]


def require_dependencies(clone: Path, env: str, snapshot: Snapshot) -> None:
    """Raise OutOfOrder (promote/missing-dependency) unless ``env`` deploys what ``snapshot`` names."""
    manifest = _manifest(snapshot.files.get(BY_NAME[snapshot.kind].manifest, b""))
    for key, kind, artifact_id in references(snapshot.kind, manifest):
        if current(clone, env, kind, artifact_id) is None:
            raise OutOfOrder(
                f"{snapshot.kind}/{snapshot.id} {snapshot.version} names {key}: {artifact_id}, and {env} "
                f"does not deploy {kind}/{artifact_id}. Nothing was promoted.",
                f"Promote {kind}/{artifact_id} to {env} first, then {snapshot.kind}/{snapshot.id} again.",
                rule_id=MISSING_DEPENDENCY,
                file=f"{snapshot.kind}/{snapshot.id}: {BY_NAME[snapshot.kind].manifest}",
            )


def referenced_by(clone: Path, env: str, kind: str, artifact_id: str) -> list[str]:
    """The artifacts ``env`` deploys that name ``kind/artifact_id`` (``KIND/ID (key)``), sorted."""
    found: list[str] = []
    for referrer in KINDS:
        keys = [key for key, target in referrer.references if target == kind]
        folder = clone / ENVIRONMENTS_DIR / env / "lineage" / referrer.name
        if not keys or not folder.is_dir():
            continue
        for lineage in sorted(folder.glob("*.yaml")):
            if current(clone, env, referrer.name, lineage.stem) is None:
                continue
            path = clone / env_artifact_dir(env, referrer.name, lineage.stem) / referrer.manifest
            manifest = _manifest(path.read_bytes()) if path.is_file() else {}
            found += [
                f"{referrer.name}/{lineage.stem} ({key})"
                for key, target, named in references(referrer.name, manifest)
                if target == kind and named == artifact_id and key in keys
            ]
    return found
