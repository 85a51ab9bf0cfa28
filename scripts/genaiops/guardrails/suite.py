"""The curated guardrail test suite (``tests/suite.yaml``) and its runner.

The format follows NeMo Guardrails' evaluation data: a list of *interactions*, each with an id,
a category (prompt_injection, jailbreak, pii, toxicity, off_topic, secrets, benign), one or more
input phrasings and the expected verdict and violation code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genaiops.guardrails.engine import CompiledPolicy, Decision

CATEGORIES = ("prompt_injection", "jailbreak", "pii", "toxicity", "off_topic", "secrets", "benign")
SUITE_FILE = "tests/suite.yaml"


@dataclass(frozen=True)
class Case:
    """One input of an interaction with its expectation."""

    interaction: str
    index: int
    category: str
    text: str
    verdict: str
    code: str | None

    @property
    def id(self) -> str:
        return f"{self.interaction}[{self.index}]"


@dataclass
class CaseResult:
    """What the engine said for a case, and whether that was expected."""

    case: Case
    decision: Decision

    @property
    def passed(self) -> bool:
        if self.decision.verdict != self.case.verdict:
            return False
        return self.case.code is None or self.decision.code == self.case.code


@dataclass
class SuiteResult:
    """All case results, with per-category counts."""

    results: list[CaseResult] = field(default_factory=list)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    def by_category(self) -> dict[str, dict[str, Any]]:
        """category -> {cases, passed, failed, pass_rate, blocked, flagged, allowed}."""
        out: dict[str, dict[str, Any]] = {}
        for category in CATEGORIES:
            rows = [r for r in self.results if r.case.category == category]
            if not rows:
                continue
            passed = sum(r.passed for r in rows)
            out[category] = {
                "cases": len(rows),
                "passed": passed,
                "failed": len(rows) - passed,
                "pass_rate": round(passed / len(rows), 4),
                "blocked": sum(r.decision.verdict == "BLOCK" for r in rows),
                "flagged": sum(r.decision.verdict == "FLAG" for r in rows),
                "allowed": sum(r.decision.verdict == "ALLOW" for r in rows),
            }
        return out

    def rates(self) -> dict[str, float | None]:
        """False-positive rate on benign inputs and bypass rate (adversarial inputs allowed)."""
        benign = [r for r in self.results if r.case.category == "benign"]
        attacks = [r for r in self.results if r.case.category != "benign" and r.case.verdict != "ALLOW"]
        fp = sum(r.decision.verdict != "ALLOW" for r in benign) / len(benign) if benign else None
        bypass = sum(r.decision.verdict == "ALLOW" for r in attacks) / len(attacks) if attacks else None
        return {
            "false_positive_rate": None if fp is None else round(fp, 4),
            "bypass_rate": None if bypass is None else round(bypass, 4),
        }


def cases_from_data(data: dict[str, Any]) -> list[Case]:
    """Flatten schema-valid suite data into cases (one per input)."""
    cases: list[Case] = []
    for interaction in data["interactions"]:
        expected = interaction["expected"]
        for index, text in enumerate(interaction["inputs"]):
            cases.append(
                Case(
                    interaction["id"],
                    index,
                    interaction["category"],
                    text,
                    expected["verdict"],
                    expected.get("code"),
                )
            )
    return cases


def run_suite(policy: CompiledPolicy, cases: list[Case]) -> SuiteResult:
    """Judge every case with the compiled policy."""
    return SuiteResult([CaseResult(case, policy.evaluate(case.text)) for case in cases])
