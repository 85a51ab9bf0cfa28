"""The prompt / model-config lint fixtures (tests/fixtures/lint), through the shared rule_cases mechanism."""

from __future__ import annotations

from tests.unit.rule_cases import LINT, Case, finding_ids

BASE = LINT.base
CASES = LINT.cases
LintCase = Case
build_base = LINT.build_base
case_named = LINT.named


def load_cases(prefix: str) -> list[Case]:
    """Every lint case whose rule id starts with ``prefix`` (e.g. ``prompt/``)."""
    return LINT.load(prefix)


__all__ = ["BASE", "CASES", "LintCase", "build_base", "case_named", "finding_ids", "load_cases"]
