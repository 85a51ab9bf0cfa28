"""Helpers for the RAG and guardrail rule tests: a clean fixture repository plus one overlay per rule.

``tests/fixtures/rag-guardrail/base`` lints and validates clean. Each folder under
``tests/fixtures/rag-guardrail/cases/`` holds ``case.yaml`` (``rule``, ``stage``: lint|validate,
``paths``, optional ``severity``) and ``repo/``, files copied over the base so that exactly that
rule breaks.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rag-guardrail"
BASE = FIXTURES / "base"
CASES = FIXTURES / "cases"


@dataclass(frozen=True)
class Case:
    name: str
    rule: str
    stage: str
    severity: str
    paths: tuple[str, ...]

    def build(self, dest: Path) -> Path:
        """A copy of the base repository with this case's files laid over it."""
        shutil.copytree(BASE, dest)
        shutil.copytree(CASES / self.name / "repo", dest, dirs_exist_ok=True)
        return dest


def build_base(dest: Path) -> Path:
    """A copy of the clean base repository."""
    shutil.copytree(BASE, dest)
    return dest


def load_cases(prefix: str, stage: str) -> list[Case]:
    """Cases of ``stage`` whose rule id starts with ``prefix`` (``guardrail/`` or ``rag/``)."""
    found = []
    for folder in sorted(CASES.iterdir()):
        data: dict[str, Any] = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
        if str(data["rule"]).startswith(prefix) and data["stage"] == stage:
            found.append(
                Case(
                    folder.name,
                    data["rule"],
                    data["stage"],
                    data.get("severity", "error"),
                    tuple(data["paths"]),
                )
            )
    return found


def finding_ids(report: dict[str, Any], severity: str | None = None) -> set[str]:
    """Rule ids of every artifact finding in a report (optionally of one severity)."""
    return {
        f["ruleId"]
        for a in report["artifacts"]
        for f in a["findings"]
        if severity is None or f["severity"] == severity
    }
