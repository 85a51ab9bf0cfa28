"""The `genaiops` command line: one subcommand per stage plus helpers (route, rules).

Contract (docs/cli.md): every stage writes its JSON report (--report, $REPORT_PATH, or
/tmp/<stage>-report.json) even on garbage input, prints a summary on stderr, optionally a machine
format on stdout, and exits 0 pass / 1 failed check / 2 usage error / 3 infrastructure error.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from genaiops import __version__, rules
from genaiops.commands import COMMANDS
from genaiops.discovery import Artifact, paths_from_env, resolve_paths
from genaiops.errors import GenaiopsError, UsageError
from genaiops.exitcodes import ExitCode
from genaiops.formats import FORMATS, write_human, write_machine
from genaiops.gitutil import changed_since
from genaiops.kinds import BY_NAME
from genaiops.project import load_project
from genaiops.report import Finding, Report, default_report_path, write_json_atomic, write_report
from genaiops.route import Route, load_payload, route_changes, route_event, route_files, route_name_status
from genaiops.stages.registry import STAGES
from genaiops.stages.runner import StageContext, run_stage

COMMAND_MODULES: list[str] = list(dict.fromkeys(module for module, _ in COMMANDS.values()))
"""The modules of the helper commands (genaiops.commands lists them, with the command each registers)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so a report is still written."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.")


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=Path,
        help="where to write the JSON report (default: $REPORT_PATH or /tmp/<stage>-report.json)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="also print the report on stdout as json, sarif (code scanning) or github annotations",
    )
    parser.add_argument(
        "--repo", type=Path, help="repository root (default: found from the working directory)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no human summary on stderr")


def build_parser(extra_commands: bool | str = True) -> argparse.ArgumentParser:
    """The argument parser. ``extra_commands``: True registers every helper command's full parser
    (importing its module); a command's name registers that one's and lists the others by name and help
    (from genaiops.commands, without importing them), as does ""; False registers none (a stage's start-up
    needs none of them)."""
    parser = _Parser(
        prog="genaiops",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 pass, 1 check failed, 2 usage error, 3 infrastructure error (retry).",
    )
    parser.add_argument("--version", action="version", version=f"genaiops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    helps = {
        "lint": "syntax and schema checks (pure, offline, fast)",
        "validate": "semantic checks against the target environment",
        "eval": "quality against the deployed baseline; writes a scorecard",
        "promote": "gate on the reports, then commit the artifact to an environment",
    }
    for stage in STAGES:
        p = sub.add_parser(stage, help=helps[stage], description=f"genaiops {stage}: {helps[stage]}")
        p.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="artifact folders or files (default: $ARTIFACT_PATH); `.` selects every artifact",
        )
        p.add_argument("--changed-since", metavar="REF", help="select the artifacts changed since a git ref")
        p.add_argument("--kind", action="append", choices=sorted(BY_NAME), help="only artifacts of this kind")
        p.add_argument("--env", help="target environment (from genaiops.yaml)", required=stage == "promote")
        if stage in ("validate", "eval"):
            p.add_argument(
                "--deployed",
                action="store_true",
                help="check the versions --env deploys (environments/<env>/artifacts) instead of artifacts/",
            )
        if stage == "promote":
            importlib.import_module("genaiops.promote.options").add_options(p)
        if stage == "eval":
            importlib.import_module("genaiops.evaluate.options").add_options(p)
        _add_output_options(p)
    r = sub.add_parser(
        "route",
        help="map changed files or a GitHub event to the artifacts that must run",
        description="Print the deduplicated targets (kind, id, pipeline, stages) as JSON.",
    )
    r.add_argument("files", nargs="*", metavar="FILE", help="changed paths, relative to the repository root")
    r.add_argument(
        "--event", metavar="FILE", help="GitHub push or pull_request payload (JSON file, or - for stdin)"
    )
    r.add_argument(
        "--event-type", choices=("push", "pull_request"), help="the event type if the payload hides it"
    )
    r.add_argument(
        "--name-status", metavar="FILE", help="`git diff --name-status` output (file, or - for stdin)"
    )
    r.add_argument("--changed-since", metavar="REF", help="files changed since a git ref")
    r.add_argument(
        "--kind",
        choices=[*sorted(BY_NAME), "all"],
        help="keep only targets of this kind (all: every kind, the same as leaving it out)",
    )
    r.add_argument("--list", action="store_true", help="print only the targets array (for Argo withParam)")
    r.add_argument(
        "--deletions",
        metavar="FILE",
        type=Path,
        help="also write the deletions array to FILE (JSON, [] when none: a second withParam for retirement)",
    )
    _add_output_options(r)
    rl = sub.add_parser("rules", help="list every rule id (--markdown prints docs/rules.md)")
    rl.add_argument("--markdown", action="store_true")
    for name, (module_name, help_text) in COMMANDS.items():
        if extra_commands is True or extra_commands == name:
            importlib.import_module(module_name).add_parser(sub)
        elif extra_commands is not False:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _report_path_from_argv(argv: Sequence[str], stage: str) -> Path:
    for index, arg in enumerate(argv):
        if arg == "--report" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--report="):
            return Path(arg.split("=", 1)[1])
    return default_report_path(stage)


def _select(args: argparse.Namespace, stage: str) -> tuple[Any, list[Artifact], dict[str, Any]]:
    project = load_project(args.repo)
    paths = list(args.paths) or paths_from_env()
    if not paths and not args.changed_since and not getattr(args, "retire", None):
        raise UsageError(
            f"nothing to {stage}: give PATH arguments, $ARTIFACT_PATH or --changed-since REF"
            + (" (or --retire KIND/ID)" if stage == "promote" else ""),
            hint=f"`genaiops {stage} .` checks every artifact.",
        )
    artifacts = resolve_paths(project.root, paths) if paths else []
    context: dict[str, Any] = {"repo": str(project.root), "paths": paths}
    if args.changed_since:
        routed = route_changes(
            changed_since(project.root, args.changed_since), lambda rel: (project.root / rel).exists()
        )
        context["changedSince"] = args.changed_since
        context["deleted"] = routed.deletions
        known = {a.key for a in artifacts}
        artifacts += [
            a for a in resolve_paths(project.root, [t["path"] for t in routed.targets]) if a.key not in known
        ]
    if args.kind:
        artifacts = [a for a in artifacts if a.kind.name in args.kind]
    if args.env:
        project.environment(args.env)
        context["env"] = args.env
    return project, artifacts, context


def _run_stage_command(args: argparse.Namespace, report: Report) -> None:
    if getattr(args, "deployed", False):
        if not args.env:
            raise UsageError("--deployed needs --env: the environment whose deployed versions to check")
        from genaiops.deployed import deployed_tree

        source = load_project(args.repo).root
        with deployed_tree(source, args.env) as tree:
            # paths name artifacts relative to the repository root (not the working directory) here
            args.repo, args.paths = tree, [str(tree / p) for p in (list(args.paths) or ["."])]
            report.context["deployed"] = {"environment": args.env, "repo": str(source)}
            _run_stage(args, report)
        return
    _run_stage(args, report)


def _run_stage(args: argparse.Namespace, report: Report) -> None:
    project, artifacts, context = _select(args, args.command)
    report.context.update(context)
    options: dict[str, Any] = {"env": args.env}
    if args.command == "promote":
        options.update(importlib.import_module("genaiops.promote.options").options_from_args(args))
    if args.command == "eval":
        options.update(importlib.import_module("genaiops.evaluate.options").options_from_args(args))
    ctx = StageContext(project=project, stage=args.command, options=options)
    if args.command == "promote":  # promotions, then retirements of deleted artifacts
        importlib.import_module("genaiops.promote.run").run_promote(artifacts, ctx, report)
    else:
        run_stage(args.command, artifacts, ctx, report)


def _run_route(args: argparse.Namespace, report: Report) -> dict[str, Any]:
    project = load_project(args.repo)
    sources = [bool(args.files), bool(args.event), bool(args.name_status), bool(args.changed_since)]
    if sum(sources) != 1:
        raise UsageError("route needs exactly one input: FILE..., --event, --name-status or --changed-since")
    route: Route
    if args.event:
        route = route_event(load_payload(args.event, sys.stdin.read), project.root, args.event_type)
    elif args.name_status:
        text = (
            sys.stdin.read()
            if args.name_status == "-"
            else Path(args.name_status).read_text(encoding="utf-8")
        )
        route = route_name_status(text, project.root)
    elif args.changed_since:
        route = route_changes(
            changed_since(project.root, args.changed_since), lambda rel: (project.root / rel).exists()
        )
    else:
        route = route_files(args.files, project.root)
    if args.kind and args.kind != "all":
        route.targets = [t for t in route.targets if t["kind"] == args.kind]
        route.deletions = [d for d in route.deletions if d["kind"] == args.kind]
    data = route.to_json()
    report.context["route"] = data
    if args.deletions is not None:
        try:
            write_json_atomic(args.deletions, data["deletions"])
        except OSError as exc:
            raise UsageError(f"cannot write --deletions {args.deletions}: {exc.strerror}") from None
    return data


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    stage = command if command in (*STAGES, "route") else "genaiops"
    report = Report(stage=stage)
    args: argparse.Namespace | None = None
    try:
        # A command imports only its own module (some import heavy libraries); stages need none.
        extra: bool | str = False if command in (*STAGES, "route", "rules") else (command or "")
        args = build_parser(extra_commands=extra).parse_args(argv)
        if args.command is None:
            build_parser(extra_commands="").print_help(sys.stderr)
            raise UsageError("no command given", hint="Try `genaiops lint .`.")
        if args.command == "rules":
            if args.markdown:
                sys.stdout.write(rules.markdown())
            else:
                for item in rules.all_rules():
                    sys.stdout.write(f"{item.id}\t{item.stage}\t{item.summary}\n")
            return ExitCode.PASS
        if getattr(args, "handler", None) is not None:
            return int(args.handler(args))
        if args.command == "route":
            data = _run_route(args, report)
            payload = data["targets"] if args.list else data
            sys.stdout.write(json.dumps(payload, indent=None if args.list else 2) + "\n")
        else:
            _run_stage_command(args, report)
    except GenaiopsError as exc:
        report.exit_code = exc.exit_code
        report.findings.append(
            Finding(
                rules.USAGE if isinstance(exc, UsageError) else "core/error",
                "error",
                exc.message,
                hint=exc.hint,
            )
        )
    except KeyboardInterrupt:
        report.exit_code = ExitCode.INFRA
        report.findings.append(Finding("core/error", "error", "interrupted"))
    except Exception as exc:  # last line of defence: a report and a clean message, not a traceback
        report.exit_code = ExitCode.FAIL
        detail = f"{type(exc).__name__}: {exc}"
        report.findings.append(
            Finding(
                rules.INTERNAL, "error", f"internal error: {detail}", hint=rules.RULES[rules.INTERNAL].hint
            )
        )
        if os.environ.get("GENAIOPS_DEBUG"):
            raise
    return _finish(report, args, argv)


def run() -> int:
    """The ``genaiops`` console script: :func:`main`, in a process about to exit.

    What is still alive is frozen out of the garbage collector first: interpreter shutdown would
    otherwise collect every object the command created or imported, which the OS reclaims anyway
    (0.2 s after a RAG eval that imported qdrant-client and pydantic). Exit handlers still run.
    """
    code = main()
    gc.freeze()
    return code


def _finish(report: Report, args: argparse.Namespace | None, argv: list[str]) -> int:
    path = getattr(args, "report", None) or _report_path_from_argv(argv, report.stage)
    try:
        write_report(report, path)
    except OSError as exc:
        sys.stderr.write(f"genaiops: cannot write report to {path}: {exc.strerror}\n")
        if report.exit_code == ExitCode.PASS:
            report.exit_code = ExitCode.USAGE
    quiet = getattr(args, "quiet", False)
    if not quiet and (report.stage != "route" or report.findings):
        write_human(report, sys.stderr)
    fmt = getattr(args, "format", "text")
    if fmt != "text" and report.stage != "route":
        write_machine(report, fmt, sys.stdout)
    return int(report.exit_code)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
