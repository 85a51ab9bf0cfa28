"""The per-rule fixture mechanism shared by every kind's rule tests.

A fixture set is a folder with ``base/`` (a small repository that passes) and ``cases/<name>/``,
each holding ``case.yaml`` (``rule``; optional ``stage``, ``severity`` error|warning, ``paths``)
and ``repo/``: files laid over the base so that exactly that rule breaks.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass(frozen=True)
class Case:
    """One broken fixture: the rule it breaks and how to run it."""

    fixtures: FixtureSet
    name: str
    rule: str
    stage: str
    severity: str
    paths: tuple[str, ...]

    def build(self, dest: Path) -> Path:
        """A copy of the base repository with this case's files laid over it."""
        self.fixtures.build_base(dest)
        shutil.copytree(self.fixtures.cases / self.name / "repo", dest, dirs_exist_ok=True)
        return dest


@dataclass(frozen=True)
class FixtureSet:
    """A base repository and its broken variants."""

    root: Path
    default_stage: str = "lint"
    default_paths: tuple[str, ...] = ("artifacts",)

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def cases(self) -> Path:
        return self.root / "cases"

    def build_base(self, dest: Path) -> Path:
        """A copy of the clean base repository."""
        shutil.copytree(self.base, dest)
        return dest

    def load(self, prefix: str = "", stage: str | None = None) -> list[Case]:
        """Cases whose rule id starts with ``prefix`` (and of ``stage``, when given)."""
        found = []
        for folder in sorted(self.cases.iterdir()):
            data: dict[str, Any] = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
            case_stage = data.get("stage", self.default_stage)
            if str(data["rule"]).startswith(prefix) and (stage is None or case_stage == stage):
                found.append(
                    Case(
                        self,
                        folder.name,
                        data["rule"],
                        case_stage,
                        data.get("severity", "error"),
                        tuple(data.get("paths", self.default_paths)),
                    )
                )
        return found

    def named(self, name: str) -> Case:
        """The case in folder ``name``."""
        return next(c for c in self.load() if c.name == name)


LINT = FixtureSet(FIXTURES / "lint")
RAG_GUARDRAIL = FixtureSet(FIXTURES / "rag-guardrail")


def finding_ids(report: dict[str, Any], severity: str | None = None) -> set[str]:
    """Rule ids of every artifact finding in a report (optionally of one severity)."""
    return {
        f["ruleId"]
        for a in report["artifacts"]
        for f in a["findings"]
        if severity is None or f["severity"] == severity
    }


def assert_breaks_exactly_its_rule(case: Case, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Run the case's stage on its fixture: an error case exits 1 with only its rule among the errors,
    a warning case exits 0 with only its rule among all findings."""
    repo = case.build(tmp_path / "repo")
    result = run_cli(case.stage, *case.paths, cwd=repo)
    assert result.report is not None
    if case.severity == "error":
        assert result.code == 1
        assert finding_ids(result.report, "error") == {case.rule}
    else:
        assert result.code == 0
        assert finding_ids(result.report) == {case.rule}
