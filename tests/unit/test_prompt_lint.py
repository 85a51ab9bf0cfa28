"""Prompt lint: one fixture per rule id breaks exactly that rule; the examples pass; the pieces
(template analysis, worst-case values, offline token counts, schema findings) behave as documented."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genaiops import rules, schemacheck, templating, tokens
from genaiops.lint import worstcase
from genaiops.report import ArtifactResult
from genaiops.safeio import parse_yaml
from tests.unit.lint_cases import LintCase, build_base, case_named, load_cases
from tests.unit.rule_cases import assert_breaks_exactly_its_rule

ROOT = Path(__file__).resolve().parents[2]
CASES_PROMPT = load_cases("prompt/")


@pytest.mark.parametrize("case", CASES_PROMPT, ids=[c.name for c in CASES_PROMPT])
def test_fixture_breaks_exactly_its_rule(case: LintCase, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert_breaks_exactly_its_rule(case, tmp_path, run_cli)


def test_every_prompt_rule_has_a_fixture() -> None:
    import genaiops.lint.prompt  # noqa: F401 - declares the rules

    declared = {r.id for r in rules.RULES.values() if r.id.startswith("prompt/") and r.stage == "lint"}
    assert declared == {c.rule for c in CASES_PROMPT}


def test_repository_examples_pass_lint(run_cli: Callable[..., Any]) -> None:
    result = run_cli("lint", "artifacts/prompts", "artifacts/model-configs", cwd=ROOT)
    assert result.report is not None
    assert [(a["id"], a["findings"]) for a in result.report["artifacts"] if a["findings"]] == []
    assert result.code == 0
    ids = {a["id"] for a in result.report["artifacts"]}
    assert {"review-sentiment", "support-qa-cot", "rag-answer", "support-assistant"} <= ids


def test_context_metrics_are_reported(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("lint", "artifacts/prompts/p", cwd=build_base(tmp_path / "repo"))
    metrics = result.report["artifacts"][0]["metrics"]
    assert metrics["tokenBudget"] == 4096 - 512
    assert metrics["tokenCount"] == "byte-bound"
    # 200-char question + 3 notes of 100 chars + the template text.
    assert 500 < metrics["maxPromptTokens"] == metrics["renderedChars"] < 700


def test_overflow_is_counted_exactly(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("lint", "artifacts/prompts/p", cwd=case_named("p-overflow").build(tmp_path / "repo"))
    [finding] = result.report["artifacts"][0]["findings"]
    assert "(o200k_base, exact)" in finding["message"] and "over the budget of 3584" in finding["message"]
    assert result.report["artifacts"][0]["metrics"]["maxPromptTokens"] > 3584


def test_template_findings_point_at_template_lines(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("lint", "artifacts/prompts/p", cwd=case_named("p-undeclared").build(tmp_path / "repo"))
    [finding] = result.report["artifacts"][0]["findings"]
    assert finding["file"] == "artifacts/prompts/p/template.j2" and finding["line"] == 2
    assert "'language'" in finding["message"]


def _analyze(source: str, variables: dict[str, Any] | None = None) -> templating.Analysis:
    return templating.analyze(templating.parse(source), variables or {})


def test_analysis_reports_used_names_without_loop_locals() -> None:
    analysis = _analyze("{% set x = a %}{% for d in docs %}{{ d }}{{ loop.index }}{{ x }}{% endfor %}{{ b }}")
    assert analysis.used == {"a", "docs", "b"}
    assert analysis.issues == []


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("{{ a.__class__.__mro__ }}", "unsafe"),
        ("{{ a['__globals__'] }}", "unsafe"),
        ("{{ cycler.__init__.__globals__.os }}", "unsafe"),
        ("{{ lipsum() }}", "non-portable"),
        ("{% include 'other.j2' %}", "non-portable"),
        ("{% macro m() %}x{% endmacro %}", "non-portable"),
        ("{{ a * 1000000 }}", "non-portable"),
        ("{{ a | tojson }}", "non-portable"),
        ("{{ a is sameas b }}", "non-portable"),
        ("{{ a[1:3] }}", "non-portable"),
        ("{% for x in a %}{{ loop.cycle }}{% endfor %}", "non-portable"),
        ("{{ loop.index }}", "undefined-reference"),
    ],
)
def test_analysis_flags(source: str, kind: str) -> None:
    assert kind in {i.kind for i in _analyze(source).issues}


def test_attribute_checks_follow_the_schema_through_loops() -> None:
    variables = {
        "docs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "id": {},
                    "meta": {"type": "object", "additionalProperties": False, "properties": {"url": {}}},
                },
            },
        }
    }
    ok = _analyze("{% for d in docs %}{{ d.id }}{{ d.meta.url }}{{ d['id'] }}{% endfor %}", variables)
    assert ok.issues == []
    bad = _analyze("{% for d in docs %}{{ d.meta.uri }}{% endfor %}{{ docs[0].title }}", variables)
    assert [i.kind for i in bad.issues] == ["undefined-reference", "undefined-reference"]
    assert "d.meta.uri" in bad.issues[0].message


def test_render_stops_at_the_character_limit() -> None:
    text, truncated = templating.render(
        templating.parse("{% for i in xs %}{{ i }}{% endfor %}"), {"xs": ["abc"] * 1000}, 100
    )
    assert truncated and len(text) == 100


def test_worst_case_values_use_fixture_text_up_to_the_limits() -> None:
    variables = {
        "q": {"type": "string", "maxLength": 50},
        "docs": {
            "type": "array",
            "maxItems": 2,
            "items": {"type": "object", "properties": {"t": {"type": "string", "maxLength": 7}}},
        },
        "tier": {"enum": ["a", "bbb"]},
    }
    values, cut = worstcase.worst_context(variables, [{"q": "hello world. ", "docs": [{"t": "xyz"}]}])
    assert not cut
    assert values["q"] == ("hello world. " * 4)[:50]
    assert values["docs"] == [{"t": "xyzxyzx"}, {"t": "xyzxyzx"}]
    assert values["tier"] == "bbb"


def test_worst_case_budget_bounds_the_work() -> None:
    variables = {
        "xs": {"type": "array", "maxItems": 1000, "items": {"type": "string", "maxLength": 1_000_000}}
    }
    values, cut = worstcase.worst_context(variables, [])
    assert cut and sum(len(v) for v in values["xs"]) == worstcase.MAX_TOTAL_CHARS


def test_unbounded_lists_every_unknown_size() -> None:
    found = worstcase.unbounded(
        {
            "a": {"type": "string"},
            "b": {"type": "array", "items": {"type": "string"}},
            "c": {"type": "string", "enum": ["x"]},
            "d": {"type": "string", "maxLength": 10**7},
        }
    )
    assert found == [
        "a (string without maxLength)",
        "b (array without maxItems)",
        "b[] (string without maxLength)",
        "d (maxLength above 1,000,000)",
    ]


def test_offline_token_counts() -> None:
    assert tokens.count_tokens("hello world", "o200k_base") == tokens.TokenCount(2, "exact")
    assert tokens.count_tokens("hello world", "cl100k_base") == tokens.TokenCount(2, "exact")
    assert tokens.count_tokens("abcdefg", "char-estimate") == tokens.TokenCount(3, "estimate")
    assert tokens.count_within("hello world", "o200k_base", 100) == tokens.TokenCount(11, "byte-bound")
    assert tokens.count_within("hello world", "o200k_base", 5) == tokens.TokenCount(2, "exact")
    with pytest.raises(ValueError, match="unknown tokenizer"):
        tokens.count_tokens("x", "gpt2")


def test_schemacheck_adds_one_finding_per_error_with_lines() -> None:
    doc = parse_yaml("id: x\nmodels:\n  - name: 3\n", "c.yaml")
    result = ArtifactResult(kind="prompt", id="x", path="p")
    count = schemacheck.check_document(doc, "catalog", result, "catalog/invalid")
    assert count == len(result.findings) >= 2
    by_message = {f.message.split(":")[0]: f.line for f in result.findings}
    assert by_message["$"] == 1
    assert by_message["$.models[0].name"] == 3


def test_json_path_quotes_odd_keys() -> None:
    assert schemacheck.json_path(["a", 0, "b c", "d-e"]) == '$.a[0]["b c"].d-e'


def test_lint_needs_no_network(
    tmp_path: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lint is pure: with every socket refused, the examples still pass and exact BPE counting works."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = run_cli("lint", "artifacts/prompts", "artifacts/model-configs", cwd=ROOT)
    assert result.code == 0
    overflow = run_cli("lint", "artifacts/prompts/p", cwd=case_named("p-overflow").build(tmp_path / "repo"))
    assert overflow.report["artifacts"][0]["metrics"]["tokenCount"] == "exact"


def test_render_stops_runaway_loops() -> None:
    ast = templating.parse(
        "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}"
    )
    with pytest.raises(templating.IterationLimitExceeded):
        templating.render(ast, {"xs": list(range(1000))}, 100, max_iterations=100_000)
    assert templating.render(ast, {"xs": list(range(10))}, 100, max_iterations=2_000) == ("", False)


def test_overflow_found_through_a_test_case_branch(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = case_named("p-overflow-test-case-branch").build(tmp_path / "repo")
    result = run_cli("lint", "artifacts/prompts/p", cwd=repo)
    [finding] = result.report["artifacts"][0]["findings"]
    assert finding["message"].startswith("with test case 1, the prompt is ")
