"""Every rule id has a docs entry (docs/rules.md is generated from the catalogue) and a valid shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

from genaiops import rules

ROOT = Path(__file__).resolve().parents[2]


def test_rules_doc_matches_the_code() -> None:
    expected = rules.markdown()
    actual = (ROOT / "docs/rules.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/rules.md is stale: regenerate it with `genaiops rules --markdown > docs/rules.md`"
    )


def test_rule_ids_fit_the_report_schema() -> None:
    schema = json.loads((ROOT / "scripts/genaiops/schemas/report.schema.json").read_text(encoding="utf-8"))
    pattern = re.compile(schema["$defs"]["finding"]["properties"]["ruleId"]["pattern"])
    bad = [r.id for r in rules.all_rules() if not pattern.match(r.id)]
    assert bad == []


def test_redeclaring_a_rule_differently_is_refused() -> None:
    rules.rule("test/once", "lint", "summary")
    try:
        rules.rule("test/once", "lint", "another summary")
    except ValueError as exc:
        assert "declared twice" in str(exc)
    else:
        raise AssertionError("a conflicting redeclaration was accepted")
    finally:
        rules.RULES.pop("test/once", None)
