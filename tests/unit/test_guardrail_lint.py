"""Guardrail lint: one fixture per rule id breaks exactly that rule; the examples and the base pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genaiops import rules
from tests.unit.rag_guardrail_cases import Case, build_base, finding_ids, load_cases
from tests.unit.rule_cases import assert_breaks_exactly_its_rule

CASES = load_cases("guardrail/", "lint")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_breaks_exactly_its_rule(case: Case, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert_breaks_exactly_its_rule(case, tmp_path, run_cli)


def test_every_guardrail_lint_rule_has_a_fixture() -> None:
    import genaiops.lint.guardrail  # noqa: F401 - declares the rules

    declared = {r for r, rule in rules.RULES.items() if r.startswith("guardrail/") and rule.stage == "lint"}
    assert declared == {c.rule for c in CASES}


def test_base_and_examples_lint_clean(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("lint", "artifacts/guardrails", cwd=build_base(tmp_path / "repo"))
    assert result.code == 0 and result.report is not None and finding_ids(result.report) == set()
    result = run_cli("lint", "artifacts/guardrails", cwd=ROOT)
    assert result.code == 0 and result.report is not None and finding_ids(result.report) == set()
    assert {a["id"] for a in result.report["artifacts"]} >= {"customer-support", "internal-data"}


def test_findings_point_at_the_offending_line(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = next(c for c in CASES if c.name == "gl-dangling-reference").build(tmp_path / "repo")
    result = run_cli("lint", "artifacts/guardrails/g", cwd=repo)
    [finding] = result.report["artifacts"][0]["findings"]
    assert finding["message"] == "rule 'flag-off-topic' references unknown rule 'greetings'"
    lines = (repo / finding["file"]).read_text(encoding="utf-8").splitlines()
    assert lines[finding["line"] - 1].strip() == "- id: flag-off-topic"


def test_cycle_message_names_the_loop(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = next(c for c in CASES if c.name == "gl-cycle").build(tmp_path / "repo")
    result = run_cli("lint", "artifacts/guardrails/g", cwd=repo)
    messages = [f["message"] for f in result.report["artifacts"][0]["findings"]]
    assert any(
        "flag-off-topic -> greeting -> flag-off-topic" in m or "greeting -> flag-off-topic -> greeting" in m
        for m in messages
    ), messages
