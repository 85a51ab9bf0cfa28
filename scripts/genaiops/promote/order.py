"""Promotion order: a version reaches an environment only once the one before it in the chain deploys it.

The environments of ``genaiops.yaml`` form an ordered chain (dev -> staging -> prod by default). To
promote version V of an artifact to environment N (not the first), environment N-1's lineage on the
environment branch must name V, with the same content digest, as what it deploys now: promoted there
and not rolled back (a ``genaiops watch`` rollback appends an earlier version) or retired since. The
check runs in the promotion's own clone of the environment branch, so it sees what is really deployed
at the moment of the push, also after a lost race. Skipping is an explicit exception: ``--skip-order
REASON`` promotes anyway and records the reason in the lineage entry (``orderException``) and the
commit (``Genaiops-Order-Exception``). Rollbacks and retirements are not ordered: they undo.
"""

from __future__ import annotations

from pathlib import Path

from genaiops import rules
from genaiops.errors import ArtifactError, UsageError
from genaiops.lineage import current, lineage_relpath
from genaiops.project import Project
from genaiops.promote.snapshot import Snapshot

OUT_OF_ORDER = rules.rule(
    "promote/out-of-order",
    "promote",
    "The environment before the target in the promotion chain (the order of `environments` in "
    "genaiops.yaml) does not deploy this version; nothing was promoted.",
    "Promote the version to that environment first (and let its watch or analysis pass there); to skip "
    "it deliberately, pass --skip-order REASON, which the lineage records.",
)


class OutOfOrder(ArtifactError):
    """The previous environment does not deploy the snapshot (a finding, exit 1)."""


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
