"""Helpers for the per-rule lint tests: a valid fixture repository plus one overlay per rule.

``tests/fixtures/lint/base`` is a minimal repository that lints clean. Each folder under
``tests/fixtures/lint/cases/`` holds ``case.yaml`` (``rule``; optional ``severity``: error or
warning; optional ``paths`` to lint, default ``artifacts``) and ``repo/``, files copied over the
base so that exactly that rule breaks.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"
BASE = FIXTURES / "base"
CASES = FIXTURES / "cases"


@dataclass(frozen=True)
class LintCase:
    name: str
    rule: str
    severity: str
    paths: tuple[str, ...]

    def build(self, dest: Path) -> Path:
        """A copy of the base repository with this case's files laid over it."""
        build_base(dest)
        shutil.copytree(CASES / self.name / "repo", dest, dirs_exist_ok=True)
        return dest


def build_base(dest: Path) -> Path:
    """A copy of the clean base repository."""
    shutil.copytree(BASE, dest)
    return dest


def case_named(name: str) -> LintCase:
    """The case in folder ``name``."""
    return next(c for c in load_cases("") if c.name == name)


def load_cases(prefix: str) -> list[LintCase]:
    """Every case whose rule id starts with ``prefix`` (e.g. ``prompt/``)."""
    found = []
    for folder in sorted(CASES.iterdir()):
        data: dict[str, Any] = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
        if str(data["rule"]).startswith(prefix):
            found.append(
                LintCase(
                    folder.name,
                    data["rule"],
                    data.get("severity", "error"),
                    tuple(data.get("paths", ["artifacts"])),
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
