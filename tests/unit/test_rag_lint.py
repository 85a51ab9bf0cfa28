"""RAG lint: one fixture per rule id breaks exactly that rule; the examples and the base pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genaiops import rules
from tests.unit.rag_guardrail_cases import Case, build_base, finding_ids, load_cases
from tests.unit.rule_cases import assert_breaks_exactly_its_rule

CASES = load_cases("rag/", "lint")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_breaks_exactly_its_rule(case: Case, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert_breaks_exactly_its_rule(case, tmp_path, run_cli)


def test_every_rag_lint_rule_has_a_fixture() -> None:
    import genaiops.lint.rag  # noqa: F401 - declares the rules

    declared = {r for r, rule in rules.RULES.items() if r.startswith("rag/") and rule.stage == "lint"}
    assert declared == {c.rule for c in CASES}


def test_base_and_examples_lint_clean(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("lint", "artifacts/rag", cwd=build_base(tmp_path / "repo"))
    assert result.code == 0 and finding_ids(result.report) == set()
    result = run_cli("lint", "artifacts/rag", cwd=ROOT)
    assert result.code == 0 and finding_ids(result.report) == set()
    by_id = {a["id"]: a["metrics"] for a in result.report["artifacts"]}
    assert by_id["support-docs"]["eval_documents"] >= 20 and by_id["internal-kb"]["eval_queries"] >= 20


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rl-chunk-overlap", "chunking.overlap 80 is more than 50% of the size 128 (at most 64)"),
        ("rl-chunk-size", "chunking.size 32 is outside 64..4096 tokens"),
        ("rl-chunk-size-context", "chunking.size 1024 exceeds remote-embed's context window of 512 tokens"),
        ("rl-top-k", "retrieval.top_k 5000 is outside 1..1000 (qdrant's hard limit)"),
        ("rl-dangling-qrel", "corpus id 'd9' is not in the corpus"),
    ],
)
def test_messages_are_specific(name: str, expected: str, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    case = next(c for c in CASES if c.name == name)
    result = run_cli("lint", *case.paths, cwd=case.build(tmp_path / "repo"))
    findings = result.report["artifacts"][0]["findings"]
    assert [f["message"] for f in findings] == [expected]
    assert findings[0]["line"] is not None


def test_overlap_equal_to_size_is_refused(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = build_base(tmp_path / "repo")
    manifest = repo / "artifacts/rag/r/rag.yaml"
    manifest.write_text(manifest.read_text().replace("overlap: 16", "overlap: 128"))
    result = run_cli("lint", "artifacts/rag/r", cwd=repo)
    assert [f["message"] for f in result.report["artifacts"][0]["findings"]] == [
        "chunking.overlap 128 must be smaller than the size 128"
    ]
