"""``genaiops manifests``: build every kustomization and validate it against the pinned schemas.

Exit codes follow the CLI contract: 0 every resource valid, 1 a build failed / a resource is
invalid / a shipped kind has no schema, 2 a tool is missing or the call is wrong, 3 the schemas
could not be fetched (Go module proxy unreachable).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genaiops.commands import command_help
from genaiops.exitcodes import ExitCode
from genaiops.manifests.build import find_tool
from genaiops.manifests.harness import DEFAULT_SEARCH, run
from genaiops.manifests.schemas import default_cache_root, ensure_schemas
from genaiops.project import find_root


def _log(message: str) -> None:
    sys.stderr.write(f"manifests: {message}\n")


def handle(args: argparse.Namespace) -> int:
    """Run the harness with the parsed options and print the report."""
    repo = (args.repo or find_root()).resolve()
    cache = args.schema_cache or default_cache_root(repo)
    log = None if args.quiet else _log
    schema_dirs = ensure_schemas(cache, go=args.go, log=log)
    if args.schemas_only:
        for folder in schema_dirs:
            sys.stdout.write(f"{folder}\n")
        return ExitCode.PASS
    result = run(
        repo,
        find_tool("kustomize", repo),
        find_tool("kubeconform", repo),
        schema_dirs,
        search=args.paths or DEFAULT_SEARCH,
        allow_skip=frozenset(args.allow_skip or ()),
        log=log,
    )
    sys.stdout.write(result.render())
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    return ExitCode.PASS if result.ok else ExitCode.FAIL


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``genaiops manifests``."""
    p = subparsers.add_parser(
        "manifests",
        help=command_help("manifests"),
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="DIR",
        help=f"folders to search for kustomizations (default: {' '.join(DEFAULT_SEARCH)})",
    )
    p.add_argument("--repo", type=Path, help="repository root (default: found from the working directory)")
    p.add_argument(
        "--schema-cache",
        type=Path,
        metavar="DIR",
        help="schema cache (default: $GENAIOPS_SCHEMA_CACHE or <repo>/.cache/schemas)",
    )
    p.add_argument("--go", default="go", help="the go binary that downloads the pinned modules")
    p.add_argument(
        "--allow-skip",
        action="append",
        metavar="KIND",
        help="a kind that may lack a schema (repeatable; default: none)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the full result as JSON")
    p.add_argument("--schemas-only", action="store_true", help="only generate the schema cache")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=handle)
