"""The RAG and guardrail docs pages cover every registry function, parameter and rule id."""

from __future__ import annotations

from pathlib import Path

import genaiops.lint.guardrail
import genaiops.lint.rag
import genaiops.validate.guardrail
import genaiops.validate.rag  # noqa: F401 - declare the rules
from genaiops import rules
from genaiops.guardrails import functions, patterns, pii, terms

DOCS = Path(__file__).resolve().parents[2] / "docs" / "artifacts"
GUARDRAILS = (DOCS / "guardrails.md").read_text(encoding="utf-8")
RAG = (DOCS / "rag.md").read_text(encoding="utf-8")


def test_every_function_and_parameter_is_documented() -> None:
    for name, function in functions.REGISTRY.items():
        assert f"`{name}`" in GUARDRAILS, name
        for param in function.params_schema["properties"]:
            assert f"`{param}`" in GUARDRAILS, (name, param)


def test_every_signature_entity_and_category_is_documented() -> None:
    names = [
        s.id
        for s in (*patterns.INJECTION, *patterns.INJECTION_SQUASHED, *patterns.JAILBREAK, *patterns.SECRETS)
    ]
    names += list(pii.ENTITIES) + list(terms.TOXICITY_LEXICON)
    assert [n for n in names if f"`{n}`" not in GUARDRAILS] == []


def test_every_rule_id_has_a_row() -> None:
    for rule_id in (r.id for r in rules.all_rules()):
        if rule_id.startswith("guardrail/"):
            assert f"`{rule_id}`" in GUARDRAILS, rule_id
        if rule_id.startswith("rag/"):
            assert f"`{rule_id}`" in RAG, rule_id
