"""The promote subcommand's own options (added to the stage parser by cli.py) and their ctx.options form."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from genaiops.promote.evidence import add_options as add_evidence_options

OPTION_NAMES = (
    "reports",
    "remote",
    "branch",
    "approver",
    "workflow",
    "source_commit",
    "request_dir",
    "attempts",
    "status_file",
    "retire",
    "kind",
    "skip_order",
    "evidence",
    "signature",
    "public_key",
)


def add_options(parser: argparse.ArgumentParser) -> None:
    """Options only `genaiops promote` takes."""
    group = parser.add_argument_group("promotion")
    group.add_argument(
        "--reports",
        metavar="DIR",
        type=Path,
        help="folder holding the lint, validate and eval reports (JSON) of these artifacts",
    )
    group.add_argument(
        "--remote",
        metavar="URL",
        help="the GitOps repository (URL, path, or remote name of this checkout; default origin)",
    )
    group.add_argument(
        "--branch",
        metavar="NAME",
        help="the environment branch (default: repository.branch in genaiops.yaml, else main)",
    )
    group.add_argument(
        "--approver",
        help="who approved this promotion (recorded in the lineage); an environment that requires approval "
        "is then pushed to directly instead of through a merge-request branch",
    )
    group.add_argument("--workflow", help="the workflow name (default: $ARGO_WORKFLOW_NAME)")
    group.add_argument(
        "--source-commit", metavar="SHA", help="the source commit (default: HEAD of the checkout)"
    )
    group.add_argument(
        "--skip-order",
        metavar="REASON",
        help="promote although the environment before --env in the chain (genaiops.yaml's order) does "
        "not deploy this version; REASON is recorded in the lineage and the commit",
    )
    group.add_argument(
        "--request-dir",
        metavar="DIR",
        type=Path,
        help="where to write merge-request descriptions (default: the --reports folder)",
    )
    group.add_argument(
        "--retire",
        action="append",
        metavar="KIND/ID",
        help="retire KIND/ID from --env: an artifact whose folder was deleted (repeatable; with "
        "--changed-since the deleted artifacts are retired without it)",
    )
    group.add_argument(
        "--status-file",
        metavar="FILE",
        type=Path,
        help="also write the run's status (pushed, requested, retired, unchanged) to FILE (for workflows)",
    )
    add_evidence_options(group)
    group.add_argument(
        "--attempts", type=int, default=40, help="push attempts when the branch moves (default 40)"
    )


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The promotion options as StageContext.options entries."""
    return {name: getattr(args, name, None) for name in OPTION_NAMES}


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """Where a command that publishes to the GitOps repository (rollback, watch, reject) finds it."""
    parser.add_argument(
        "--remote", metavar="URL", help="the GitOps repository (default: origin, else genaiops.yaml)"
    )
    parser.add_argument(
        "--branch", metavar="NAME", help="the environment branch (default: genaiops.yaml, else main)"
    )
    parser.add_argument(
        "--repo", type=Path, help="repository root (default: found from the working directory)"
    )
