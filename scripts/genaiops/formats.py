"""Output formats: the human summary (stderr) and machine formats json, sarif and github (stdout)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from genaiops import __version__
from genaiops.report import Finding, Report

FORMATS = ("text", "json", "sarif", "github")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_ICON = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}


def _all_findings(report: Report) -> list[tuple[str | None, Finding]]:
    pairs: list[tuple[str | None, Finding]] = [(None, f) for f in report.findings]
    for artifact in report.artifacts:
        pairs.extend((f"{artifact.kind}/{artifact.id}", f) for f in artifact.findings)
    return pairs


def write_human(report: Report, stream: TextIO) -> None:
    """A short, readable summary: one line per artifact, then its findings."""
    for finding in report.findings:
        stream.write(_finding_line(finding) + "\n")
    for artifact in report.artifacts:
        version = f"@{artifact.version}" if artifact.version else ""
        stream.write(f"{_ICON[artifact.status]:5} {report.stage} {artifact.kind}/{artifact.id}{version}\n")
        if artifact.infra_error:
            stream.write(f"      infrastructure: {artifact.infra_error}\n")
        for finding in artifact.findings:
            stream.write("      " + _finding_line(finding) + "\n")
    data = report.to_json()["summary"]
    stream.write(
        f"{report.stage}: {data['artifacts']} artifact(s), {data['passed']} passed, {data['failed']} failed, "
        f"{data['errors']} error(s); exit {int(report.exit_code)}\n"
    )


def _finding_line(finding: Finding) -> str:
    where = finding.file or ""
    if finding.file and finding.line:
        where += f":{finding.line}"
    text = f"{finding.severity}[{finding.rule_id}] {where + ': ' if where else ''}{finding.message}"
    if finding.hint:
        text += f" (hint: {finding.hint})"
    return text


def sarif(report: Report) -> dict[str, Any]:
    """SARIF 2.1.0 for code-scanning upload."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for _, finding in _all_findings(report):
        rules.setdefault(
            finding.rule_id,
            {"id": finding.rule_id, "helpUri": f"docs/rules.md#{finding.rule_id.replace('/', '')}"},
        )
        result: dict[str, Any] = {
            "ruleId": finding.rule_id,
            "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message + (f" Hint: {finding.hint}" if finding.hint else "")},
        }
        if finding.file:
            location: dict[str, Any] = {"artifactLocation": {"uri": finding.file}}
            if finding.line:
                location["region"] = {"startLine": finding.line}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "genaiops",
                        "version": __version__,
                        "informationUri": "https://github.com/",
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": f"genaiops/{report.stage}/"},
                "results": results,
            }
        ],
    }


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    lines = []
    for subject, finding in _all_findings(report):
        command = {"error": "error", "warning": "warning", "info": "notice"}[finding.severity]
        props = []
        if finding.file:
            props.append(f"file={_escape_property(finding.file)}")
            if finding.line:
                props.append(f"line={finding.line}")
        title = finding.rule_id + (f" ({subject})" if subject else "")
        props.append(f"title={_escape_property(title)}")
        message = finding.message + (f" Hint: {finding.hint}" if finding.hint else "")
        lines.append(f"::{command} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def write_machine(report: Report, fmt: str, stream: TextIO) -> None:
    """Write the report in a machine format to ``stream`` (nothing for ``text``)."""
    if fmt == "json":
        stream.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str) + "\n")
    elif fmt == "sarif":
        stream.write(json.dumps(sarif(report), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "github":
        stream.write(github(report))
