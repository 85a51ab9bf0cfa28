"""Scheduled re-verification: a failed check of what an environment deploys blocks that version downstream.

The CronWorkflows re-check what an environment deploys (``genaiops eval --deployed``: drift;
``validate --deployed``: RAG freshness). ``genaiops record-check --env E REPORT`` records each checked
artifact's outcome, for the version and content digest E's lineage says it deploys, in
``environments/E/checks.yaml`` on the environment branch (one commit, ``Genaiops-Action: record-check``,
pushed like a promotion; re-applied after a lost race). Artifacts whose check errored (a service was
down: exit 3) keep their previous record; only ``pass`` and ``fail`` are verdicts.

Promotion reads it: a version cannot go from E to the next environment of the chain while E's latest
check of exactly that version and content failed (``promote/failed-upstream-check``), checked in the
publishing clone like the promotion order. A later passing check (or a new version) lifts the block;
``--skip-order REASON`` skips it as it skips the order, recorded. A failed check does not undeploy
anything from E itself: that is what rollback and the watch are for.
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
from genaiops.errors import ArtifactError, UsageError
from genaiops.lineage import ENVIRONMENTS_DIR, LineageEntry, current, now
from genaiops.project import load_project
from genaiops.promote.deploy import publish_edit, with_trailers
from genaiops.promote.gate import MAX_REPORT_BYTES
from genaiops.promote.options import add_target_options
from genaiops.promote.snapshot import Snapshot
from genaiops.report import Report, write_report

CHECKS_FILE = "checks.yaml"
VERDICTS = ("pass", "fail")

FAILED_UPSTREAM_CHECK = rules.rule(
    "promote/failed-upstream-check",
    "promote",
    "The latest scheduled check (drift eval, freshness validate) of this exact version in the environment "
    "before the target failed, so it does not go further down the chain; nothing was promoted.",
    "Fix the artifact and promote a new version, or re-run the check there once the cause is gone; to "
    "promote anyway, pass --skip-order REASON, which the lineage records.",
)


def checks_relpath(env: str) -> str:
    """Where the outcomes of ``env``'s scheduled checks are recorded, relative to the repository root."""
    return f"{ENVIRONMENTS_DIR}/{env}/{CHECKS_FILE}"


def read_checks(repo: Path, env: str) -> dict[str, dict[str, Any]]:
    """``KIND/ID`` -> the latest recorded check of what ``env`` deploys (empty when none is recorded)."""
    rel = checks_relpath(env)
    path = repo / rel
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{rel} is not valid YAML: {exc}") from None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(artifacts, dict) or not all(isinstance(v, dict) for v in artifacts.values()):
        raise UsageError(f"{rel} must be a mapping with an `artifacts` mapping", hint="genaiops writes it.")
    return artifacts


def require_upstream_checks_pass(clone: Path, previous: str, snapshot: Snapshot) -> None:
    """Raise promote/failed-upstream-check when ``previous``'s latest check of this snapshot failed."""
    record = read_checks(clone, previous).get(f"{snapshot.kind}/{snapshot.id}")
    if not record or record.get("status") != "fail":
        return
    if str(record.get("version")) != snapshot.version or record.get("digest") != snapshot.digest:
        return  # the failed check was of another version or content
    failed = ", ".join(str(f) for f in record.get("findings") or []) or "no finding recorded"
    by = record.get("workflow") or "no workflow"
    raise ArtifactError(
        f"{snapshot.kind}/{snapshot.id} {snapshot.version}: the {record.get('stage')} check of it in "
        f"{previous} failed at {record.get('checkedAt')} ({failed}; {by}). Nothing was promoted.",
        rules.RULES[FAILED_UPSTREAM_CHECK].hint,
        rule_id=FAILED_UPSTREAM_CHECK,
        file=checks_relpath(previous),
    )


def _load_report(path: Path, env: str) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise UsageError(f"{path} is larger than {MAX_REPORT_BYTES} bytes")
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"report {path} is not JSON: {exc}") from None
    if not isinstance(report, dict) or report.get("stage") not in ("eval", "validate"):
        raise UsageError(f"{path} is not an eval or validate report")
    context = report.get("context") if isinstance(report.get("context"), dict) else {}
    deployed = context.get("deployed") if isinstance(context.get("deployed"), dict) else {}
    if deployed.get("environment") != env:
        raise UsageError(
            f"{path} did not check what {env} deploys (it was not run with --deployed --env {env})",
            hint=f"genaiops {report['stage']} --deployed --env {env} . --report FILE",
        )
    return report


def outcomes(report: dict[str, Any], workflow: str | None) -> dict[str, dict[str, Any]]:
    """``KIND/ID`` -> the verdict the report gives it (only pass and fail: an error is no verdict)."""
    found: dict[str, dict[str, Any]] = {}
    for item in report.get("artifacts") or []:
        if not isinstance(item, dict) or item.get("status") not in VERDICTS:
            continue
        errors = sorted(
            {
                str(f.get("ruleId"))
                for f in item.get("findings") or []
                if isinstance(f, dict) and f.get("severity") == "error"
            }
        )
        found[f"{item.get('kind')}/{item.get('id')}"] = {
            "status": item["status"],
            "stage": report["stage"],
            "checkedAt": str(report.get("finishedAt") or now()),
            "workflow": workflow,
            "findings": errors[:20],
        }
    return found


@dataclass(frozen=True)
class CheckRecordEdit:
    """Record check outcomes in ``environments/<env>/checks.yaml`` (an Edit for publish_edit)."""

    env: str
    results: dict[str, dict[str, Any]]

    @property
    def kind(self) -> str:  # the Edit protocol names one artifact; this edit records many
        return "checks"

    @property
    def id(self) -> str:
        return self.env

    def _wanted(self, clone: Path) -> dict[str, dict[str, Any]]:
        """The records to write: each outcome with what ``env`` deploys now (skipped when not deployed)."""
        wanted = {}
        for ref, outcome in sorted(self.results.items()):
            kind, _, artifact_id = ref.partition("/")
            deployed = current(clone, self.env, kind, artifact_id)
            if deployed is not None:
                wanted[ref] = {"version": deployed.version, "digest": deployed.digest, **outcome}
        return wanted

    def done(self, clone: Path) -> bool:
        existing = read_checks(clone, self.env)
        return all(existing.get(ref) == record for ref, record in self._wanted(clone).items())

    def branch(self, clone: Path) -> str:  # never through a merge request; required by the protocol
        raise UsageError("check outcomes are pushed directly")

    def apply(self, clone: Path) -> tuple[LineageEntry, str]:
        wanted = self._wanted(clone)
        records = {**read_checks(clone, self.env), **wanted}
        document = {
            "apiVersion": "genaiops.dev/v1",
            "kind": "DeployedChecks",
            "environment": self.env,
            "artifacts": dict(sorted(records.items())),
        }
        header = (
            f"# The latest scheduled check of each artifact {self.env} deploys (genaiops record-check). A "
            "version whose check failed\n# does not go on to the next environment "
            "(promote/failed-upstream-check). Written by genaiops.\n"
        )
        path = clone / checks_relpath(self.env)
        path.write_text(header + yaml.safe_dump(document, sort_keys=False, width=100), encoding="utf-8")
        failed = sorted(ref for ref, record in wanted.items() if record["status"] == "fail")
        summary = LineageEntry(version="", digest="", snapshot_tree="", action="record-check")
        trailers = [
            "Genaiops-Action: record-check",
            f"Genaiops-Environment: {self.env}",
            f"Genaiops-Checked: {len(wanted)}",
            f"Genaiops-Failed: {', '.join(failed) or 'none'}",
        ]
        subject = f"record checks of {self.env}: {len(failed)} of {len(wanted)} failed"
        return summary, with_trailers(subject, trailers)


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "record-check",
        help=command_help("record-check"),
        description="Record the pass/fail verdict of each artifact in REPORT (from `genaiops eval|validate "
        "--deployed --env ENV`) in environments/ENV/checks.yaml on the environment branch. Promotion then "
        "refuses to take a version whose latest check failed from ENV to the next environment. See "
        "docs/promotion.md.",
    )
    p.add_argument("reports", nargs="+", metavar="REPORT", type=Path, help="eval or validate reports")
    p.add_argument("--env", required=True, help="the environment the reports checked")
    p.add_argument("--workflow", help="the workflow that ran the check (default: $ARGO_WORKFLOW_NAME)")
    p.add_argument("--report", metavar="FILE", type=Path, help="where to write the command's JSON report")
    add_target_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from genaiops.promote.rollback import target_for  # the same remote and branch defaults

    project = load_project(args.repo)
    if args.env not in {e.name for e in project.environments}:
        raise UsageError(
            f"unknown environment {args.env!r}", hint="Environments are listed in genaiops.yaml."
        )
    workflow = args.workflow or os.environ.get("ARGO_WORKFLOW_NAME") or None
    results: dict[str, dict[str, Any]] = {}
    for path in args.reports:
        results.update(outcomes(_load_report(path, args.env), workflow))
    outcome = publish_edit(target_for(project, args.remote, args.branch), CheckRecordEdit(args.env, results))
    failed = sorted(ref for ref, r in results.items() if r["status"] == "fail")
    summary = {"status": outcome.status, "branch": outcome.branch, "commit": outcome.commit, "failed": failed}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    if args.report is not None:  # the workflow step keeps it (an error writes the usual error report)
        report = Report(stage="record-check")
        report.context["recordCheck"] = {**summary, "environment": args.env, "verdicts": results}
        write_report(report, args.report)
    sys.stderr.write(
        f"record-check: {len(results)} verdicts for {args.env} ({len(failed)} failed), {outcome.status} "
        f"({outcome.branch} at {outcome.commit[:12]})\n"
    )
    return 0
