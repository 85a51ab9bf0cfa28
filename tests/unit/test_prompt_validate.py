"""Prompt validate: one broken fixture per rule id fires exactly that rule; payloads stay sandboxed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genaiops import rules
from genaiops.assertions import LIMITS
from tests.conftest import REPO_ROOT
from tests.unit.validate_repo import Fixture, Mutation, build, finding_ids

PROMPT_PATH = "artifacts/prompts/triage"


@dataclass(frozen=True)
class Case:
    rule: str
    mutate: Mutation
    severity: str = "error"


def _set(attr: str, value: Any) -> Mutation:
    def mutate(f: Fixture) -> None:
        setattr(f, attr, value)

    return mutate


def _prompt(**changes: Any) -> Mutation:
    def mutate(f: Fixture) -> None:
        f.prompt.update(changes)

    return mutate


def _assertion(assertion: dict[str, Any]) -> Mutation:
    def mutate(f: Fixture) -> None:
        f.test_cases[0]["assert"].append(assertion)

    return mutate


def _text_prompt_with_huge_vars(f: Fixture) -> None:
    f.prompt["output"] = {"format": "text"}
    f.test_cases[0]["vars"]["ticket"] = "How do I export my data? " + "x" * (LIMITS.max_output_chars + 100)
    f.test_cases[0]["assert"] = [{"type": "starts-with", "value": "Classify"}]


def _set_target(index: int, target: Any) -> Mutation:
    def mutate(f: Fixture) -> None:
        f.test_cases[index]["metadata"] = {"target": target}

    return mutate


def _no_ticket(f: Fixture) -> None:
    del f.test_cases[1]["vars"]["ticket"]


CASES = [
    Case("prompt/template-unrenderable", _set("template", "{% if ticket %}unclosed")),
    Case("prompt/sandbox-escape", _set("template", "{{ ''.__class__.__mro__ }} Let me think step by step {")),
    Case("prompt/test-render-failed", _no_ticket),
    Case("prompt/assertion-failed", _assertion({"type": "contains", "value": "Refund policy"})),
    Case("prompt/assertion-invalid", _assertion({"type": "contians", "value": "x"})),
    Case("prompt/assertion-deferred", lambda f: None, "info"),
    Case(
        "prompt/assertion-unsupported",
        _assertion({"type": "javascript", "value": "output.length > 3"}),
        "warning",
    ),
    Case("prompt/output-truncated", _text_prompt_with_huge_vars, "warning"),
    Case(
        "prompt/example-not-json",
        lambda f: f.prompt["examples"].append({"input": {"ticket": "t"}, "output": "label: bug"}),
    ),
    Case(
        "prompt/example-schema",
        _prompt(examples=[{"input": {"ticket": "t"}, "output": '{"label": "feature"}'}]),
    ),
    Case("prompt/json-not-opened", _set("template", Fixture().template.removesuffix(" {"))),
    Case("prompt/missing-reasoning-cue", _prompt(reasoning_cue="Think carefully before answering")),
    Case("prompt/test-cases-invalid", _set("test_cases", {"description": "not a list"})),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_fixture_breaks_exactly_its_rule(case: Case, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = build(tmp_path / "repo", case.mutate)
    result = run_cli("validate", PROMPT_PATH, cwd=repo)
    assert result.report is not None
    if case.severity == "error":
        assert result.code == 1, result.stderr
        assert finding_ids(result.report, "error") == {case.rule}
    else:
        assert result.code == 0, result.stderr
        assert case.rule in finding_ids(result.report, case.severity)
        assert finding_ids(result.report, "error") == set()


def test_every_prompt_validate_rule_has_a_fixture() -> None:
    import genaiops.validate.prompt  # noqa: F401 - declares the rules

    declared = {r.id for r in rules.RULES.values() if r.id.startswith("prompt/") and r.stage == "validate"}
    assert declared == {c.rule for c in CASES}


def test_base_fixture_passes_with_counts(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo"))
    assert result.code == 0
    artifact = result.report["artifacts"][0]
    assert artifact["metrics"]["assertionsPassed"] == 5
    assert artifact["metrics"]["assertionsDeferred"] == 2  # the response-targeted case, never passed
    assert artifact["metrics"]["rendered"] == 2
    assert artifact["details"]["testCases"][0]["passed"] is True
    assert artifact["details"]["testCases"][1]["target"] == "response"


def test_response_targeted_assertions_are_deferred_not_evaluated(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    def mutate(f: Fixture) -> None:  # would fail on the rendered prompt; it is about the response
        f.test_cases[1]["assert"].append({"type": "equals", "value": "bug"})
        f.test_cases[1]["metadata"] = {"target": "response"}

    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo", mutate))
    assert result.code == 0, result.stderr
    metrics = result.report["artifacts"][0]["metrics"]
    assert (metrics["assertionsDeferred"], metrics["assertionsFailed"]) == (3, 0)
    assert "prompt/assertion-deferred" in finding_ids(result.report, "info")


def test_prompt_targeted_case_is_evaluated_on_the_rendering(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    def mutate(f: Fixture) -> None:
        f.test_cases[1]["assert"] = [{"type": "regex", "value": "Ticket: Crash when saving\\nAnswer: \\{$"}]
        f.test_cases[1]["metadata"] = {"target": "prompt"}

    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo", mutate))
    assert result.code == 0, result.stderr
    metrics = result.report["artifacts"][0]["metrics"]
    assert (metrics["assertionsPassed"], metrics["assertionsDeferred"]) == (6, 0)


def test_unknown_target_is_an_error(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo", _set_target(1, "output")))
    assert result.code == 1
    assert finding_ids(result.report, "error") == {"prompt/test-cases-invalid"}
    messages = [f["message"] for a in result.report["artifacts"] for f in a["findings"]]
    assert any("metadata.target is 'output'" in m for m in messages)


def test_response_types_in_a_prompt_targeted_case_are_invalid(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    mutate = _assertion({"type": "llm-rubric", "value": "The ticket is classified."})
    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo", mutate))
    assert result.code == 1
    assert finding_ids(result.report, "error") == {"prompt/assertion-invalid"}
    messages = [f["message"] for a in result.report["artifacts"] for f in a["findings"]]
    assert any("needs a model response" in m for m in messages)


def test_example_prompts_pass_validate(run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", "artifacts/prompts", cwd=REPO_ROOT)
    assert result.code == 0, result.stdout
    artifacts = result.report["artifacts"]
    assert len(artifacts) >= 3
    for artifact in artifacts:  # each example has structural cases that really ran on its rendering
        assert artifact["metrics"]["assertionsPassed"] >= 1, artifact["id"]
        assert artifact["metrics"]["assertionsDeferred"] >= 1, artifact["id"]
        assert artifact["metrics"]["rendered"] == artifact["metrics"]["testCases"]


def test_assertion_value_payload_is_a_sandbox_finding(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    mutate = _assertion({"type": "contains", "value": "{{ ''.__class__.__mro__[1].__subclasses__() }}"})
    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo", mutate))
    assert result.code == 1
    assert finding_ids(result.report, "error") == {"prompt/sandbox-escape"}


def test_catastrophic_regex_in_a_test_case_is_bounded(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    def mutate(f: Fixture) -> None:
        f.test_cases[0]["vars"]["ticket"] = "a" * 3000 + "!"
        f.test_cases[0]["assert"] = [{"type": "regex", "value": "(a+)+$"}]

    result = run_cli("validate", PROMPT_PATH, cwd=build(tmp_path / "repo", mutate))
    assert result.code == 1
    messages = [f["message"] for a in result.report["artifacts"] for f in a["findings"]]
    assert any("catastrophic backtracking" in m for m in messages)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.sampled_from(
        [
            "{{ ''.__class__.__mro__ }}",
            "{{ ticket.__class__.__init__.__globals__ }}",
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
            "{{ self._TemplateReference__context }}",
            "{{ lipsum.__globals__ }}",
            "{{ ticket|attr('__class__') }}",
            "{{ range(10**9)|list }}",
            "{{ 'x' * 10**9 }}",
            "{{ 'x'|center(999999999) }}",
            "{{ ' '|center(99999)|replace(' ', 'xxxxxxxxxxxxxxxx')|replace('x', 'yyyyyyyyyyyyyyyy') }}",
        ]
    ),
    prefix=st.text(alphabet="abc {}%#\n", max_size=20),
)
def test_template_payloads_never_execute(
    payload: str, prefix: str, tmp_path_factory: pytest.TempPathFactory, run_cli: Callable[..., Any]
) -> None:
    base = tmp_path_factory.mktemp("payload")
    repo = build(base / "repo", _set("template", prefix + payload + "\nLet me think step by step {"))
    result = run_cli("validate", PROMPT_PATH, cwd=repo)
    assert result.code == 1
    ids = finding_ids(result.report, "error")
    assert ids & {"prompt/sandbox-escape", "prompt/template-unrenderable"}
    assert "core/internal-error" not in ids


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticket=st.text(max_size=2000))
def test_hostile_vars_are_data_not_templates(
    ticket: str, tmp_path_factory: pytest.TempPathFactory, run_cli: Callable[..., Any]
) -> None:
    def mutate(f: Fixture) -> None:
        f.test_cases[0]["vars"]["ticket"] = "{{ ''.__class__ }}" + ticket
        f.test_cases[0]["assert"] = [{"type": "contains", "value": "__class__"}]

    repo = build(tmp_path_factory.mktemp("vars") / "repo", mutate)
    result = run_cli("validate", PROMPT_PATH, cwd=repo)
    assert result.code == 0, result.stderr  # the var is inserted verbatim, never evaluated


def test_schema_files_resolve_inside_the_repository_only(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    def mutate(f: Fixture) -> None:
        f.test_cases[0]["assert"] = [
            {"type": "contains-json", "value": "file://schema.json"},
            {"type": "contains-json", "value": "file:///etc/passwd"},
        ]

    repo = build(tmp_path / "repo", mutate)
    (repo / PROMPT_PATH / "schema.json").write_text(
        '{"type": "object", "required": ["label"]}', encoding="utf-8"
    )
    result = run_cli("validate", PROMPT_PATH, cwd=repo)
    assert result.code == 1
    findings = [f for a in result.report["artifacts"] for f in a["findings"] if f["severity"] == "error"]
    assert [f["ruleId"] for f in findings] == ["prompt/assertion-invalid"]
    assert "outside the repository" in findings[0]["message"]
    assert result.report["artifacts"][0]["metrics"]["assertionsPassed"] == 1
