"""Guardrail validate: the real engine runs the curated suites; one fixture per validate rule id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genaiops import rules
from tests.unit.rag_guardrail_cases import Case, build_base, finding_ids, load_cases
from tests.unit.rule_cases import assert_breaks_exactly_its_rule

CASES = load_cases("guardrail/", "validate")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_breaks_exactly_its_rule(case: Case, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert_breaks_exactly_its_rule(case, tmp_path, run_cli)


def test_every_guardrail_validate_rule_has_a_fixture() -> None:
    import genaiops.validate.guardrail  # noqa: F401 - declares the rules

    declared = {
        r for r, rule in rules.RULES.items() if r.startswith("guardrail/") and rule.stage == "validate"
    }
    assert declared == {c.rule for c in CASES}


def test_example_suites_pass_with_per_category_metrics(run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", "artifacts/guardrails", cwd=ROOT)
    assert result.code == 0, result.stderr
    by_id = {a["id"]: a for a in result.report["artifacts"]}
    for policy_id in ("customer-support", "internal-data"):
        metrics = by_id[policy_id]["metrics"]
        assert metrics["cases"] >= 50 and metrics["failed"] == 0
        assert metrics["false_positive_rate"] == 0.0 and metrics["bypass_rate"] == 0.0
        categories = metrics["categories"]
        assert {"prompt_injection", "jailbreak", "pii", "toxicity", "off_topic", "benign"} <= set(categories)
        assert sum(c["cases"] for c in categories.values()) == metrics["cases"]
        assert categories["benign"]["allowed"] == categories["benign"]["cases"]
        assert categories["prompt_injection"]["allowed"] == 0


def test_mismatch_names_case_expectation_and_deciding_rule(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    repo = next(c for c in CASES if c.name == "gv-suite-mismatch").build(tmp_path / "repo")
    result = run_cli("validate", "artifacts/guardrails/g", cwd=repo)
    [artifact] = result.report["artifacts"]
    [finding] = artifact["findings"]
    assert finding["message"].startswith(
        "pii case card[0]: expected FLAG PII_CARD, got BLOCK PII_CARD (decided by rule 'block-card'"
    )
    assert finding["line"] is not None
    assert artifact["metrics"]["categories"]["pii"] == {
        "cases": 1,
        "passed": 0,
        "failed": 1,
        "pass_rate": 0.0,
        "blocked": 1,
        "flagged": 0,
        "allowed": 0,
    }
    assert artifact["details"]["failures"][0]["actual"]["rule"] == "block-card"


def test_base_suite_passes(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", "artifacts/guardrails", cwd=build_base(tmp_path / "repo"))
    assert result.code == 0 and finding_ids(result.report) == set()
    assert result.report["artifacts"][0]["metrics"]["benign_corpus_block_rate"] < 1.0
