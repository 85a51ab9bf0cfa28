"""The stage report: what every command writes, whatever happens (schema: schemas/report.schema.json)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from genaiops import __version__
from genaiops.exitcodes import ExitCode

SCHEMA_VERSION = "genaiops.dev/report/v1"
Severity = Literal["error", "warning", "info"]
Status = Literal["pass", "fail", "error"]


@dataclass
class Finding:
    """One problem (or note) found by a check."""

    rule_id: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ruleId": self.rule_id,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "hint": self.hint,
        }


@dataclass
class ArtifactResult:
    """The outcome of one stage on one artifact."""

    kind: str
    id: str
    path: str
    version: str | None = None
    digest: str | None = None
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    infra_error: str | None = None

    def add(
        self,
        rule_id: str,
        message: str,
        *,
        severity: Severity = "error",
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> Finding:
        finding = Finding(rule_id, severity, message, file, line, hint)
        self.findings.append(finding)
        return finding

    @property
    def status(self) -> Status:
        if self.infra_error is not None:
            return "error"
        return "fail" if any(f.severity == "error" for f in self.findings) else "pass"

    @property
    def exit_code(self) -> ExitCode:
        return {"pass": ExitCode.PASS, "fail": ExitCode.FAIL, "error": ExitCode.INFRA}[self.status]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "path": self.path,
            "version": self.version,
            "digest": self.digest,
            "status": self.status,
            "findings": [f.to_json() for f in self.findings],
            "metrics": self.metrics,
            "timings": self.timings,
            "details": self.details,
            "infraError": self.infra_error,
        }


@dataclass
class Report:
    """A whole command run: its artifacts, global findings, and the exit code it ends with."""

    stage: str
    started_at: float = field(default_factory=time.time)
    artifacts: list[ArtifactResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    exit_code: ExitCode = ExitCode.PASS
    finished_at: float | None = None

    @property
    def status(self) -> Status:
        if self.exit_code in (ExitCode.USAGE, ExitCode.INFRA):
            return "error"
        return "fail" if self.exit_code == ExitCode.FAIL else "pass"

    def to_json(self) -> dict[str, Any]:
        finished = self.finished_at or time.time()
        counts = {s: sum(1 for a in self.artifacts if a.status == s) for s in ("pass", "fail", "error")}
        return {
            "schemaVersion": SCHEMA_VERSION,
            "tool": {"name": "genaiops", "version": __version__},
            "stage": self.stage,
            "status": self.status,
            "exitCode": int(self.exit_code),
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(finished),
            "durationMs": round((finished - self.started_at) * 1000, 3),
            "context": self.context,
            "summary": {
                "artifacts": len(self.artifacts),
                "passed": counts["pass"],
                "failed": counts["fail"],
                "errors": counts["error"],
            },
            "findings": [f.to_json() for f in self.findings],
            "artifacts": [a.to_json() for a in self.artifacts],
        }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_report_path(stage: str) -> Path:
    """--report default: $REPORT_PATH, else /tmp/<stage>-report.json (the Argo step convention)."""
    env = os.environ.get("REPORT_PATH")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"{stage}-report.json"


def write_report(report: Report, path: Path) -> None:
    """Write the report atomically (a reader never sees half a file)."""
    write_json_atomic(path, report.to_json())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a reader never sees half a file)."""
    payload = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)
