"""The eval subcommand's own options (added to the stage parser by cli.py) and their ctx.options form."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_options(parser: argparse.ArgumentParser) -> None:
    """Options only `genaiops eval` takes."""
    group = parser.add_argument_group("evaluation")
    mode = group.add_mutually_exclusive_group()
    mode.add_argument(
        "--record",
        action="store_true",
        help="call the endpoint and store every response as cassettes next to the eval dataset",
    )
    mode.add_argument(
        "--replay",
        action="store_true",
        help="serve responses only from the cassettes (no network); a missing one fails clearly",
    )
    group.add_argument(
        "--base-ref",
        metavar="REF",
        help="the previous version at this git ref: guardrails report BLOCK->ALLOW changes against it, "
        "model configs are shadow-compared with it (default: $GENAIOPS_BASE_REF)",
    )
    group.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    group.add_argument(
        "--repeats",
        type=int,
        metavar="N",
        help="runs per example (default: the artifact's eval.repeats, else 1)",
    )
    group.add_argument(
        "--scorecard-dir",
        type=Path,
        metavar="DIR",
        help="also write <kind>-<id>.json/.md/.html scorecards there",
    )
    group.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The evaluation options as StageContext.options entries."""
    # neither flag: live when an endpoint is configured, else replay (EvalSession decides)
    mode = "record" if args.record else "replay" if args.replay else "auto"
    return {
        "llm_mode": mode,
        "llm_cache": not args.no_cache,
        "repeats": args.repeats,
        "scorecard_dir": args.scorecard_dir,
        "progress": args.progress,
        "base_ref": args.base_ref,
    }
