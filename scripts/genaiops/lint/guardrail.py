"""Lint of guardrail policies: schema, CEL, registry functions and parameters, the rule graph, the suite.

Checks (rule ids in docs/rules.md; the language is in docs/artifacts/guardrails.md):
- ``guardrail/schema``: policy.yaml matches schemas/guardrail-policy.schema.json;
- ``guardrail/cel-syntax``, ``guardrail/cel-runtime``: every condition compiles, and evaluates to a
  bool without type errors on probe inputs;
- ``guardrail/unknown-function``, ``guardrail/unknown-variable``, ``guardrail/invalid-params``,
  ``guardrail/invalid-threshold``: conditions call only detectors and registry functions, read only the
  engine's variables, and every detector's parameters (thresholds: finite floats in [0, 1]) are valid;
- ``guardrail/dangling-reference``, ``guardrail/cycle``, ``guardrail/duplicate-rule``,
  ``guardrail/priority-conflict``, ``guardrail/unreachable-rule``, ``guardrail/blocks-all``: the rule graph
  is well formed and no rule blocks all traffic;
- ``guardrail/unused-detector`` (warning);
- ``guardrail/suite-schema``, ``guardrail/suite-duplicate-id``, ``guardrail/suite-unknown-code``: the test
  suite tests/suite.yaml matches its schema and only expects codes the policy can produce.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genaiops import rules, schemacheck
from genaiops.guardrails import analysis
from genaiops.guardrails.suite import SUITE_FILE
from genaiops.safeio import YamlDocument, load_yaml

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.stages.runner import StageContext

DOCS = "See docs/artifacts/guardrails.md."
SCHEMA = rules.rule(
    "guardrail/schema", "lint", "policy.yaml breaks its schema (schemas/guardrail-policy.schema.json).", DOCS
)
RULE_IDS: dict[str, str] = {
    "cel-syntax": rules.rule(
        "guardrail/cel-syntax",
        "lint",
        "A rule's condition is not valid CEL.",
        "Fix the expression; CEL syntax is at https://cel.dev.",
    ),
    "cel-runtime": rules.rule(
        "guardrail/cel-runtime",
        "lint",
        "A condition fails when evaluated (a type error, a missing key, or a non-boolean "
        "result) on lint's probe inputs.",
        "Compare like with like (scores are doubles, counts ints) and return a bool.",
    ),
    "unknown-function": rules.rule(
        "guardrail/unknown-function",
        "lint",
        "A condition or detector names a function that is not in the guardrail "
        "registry and is not a detector of the policy.",
        "Use a registered function (docs/artifacts/guardrails.md) or declare the detector.",
    ),
    "unknown-variable": rules.rule(
        "guardrail/unknown-variable",
        "lint",
        "A condition reads a variable the engine does not provide.",
        "Use input, normalized, input_length or truncated.",
    ),
    "invalid-params": rules.rule(
        "guardrail/invalid-params",
        "lint",
        "A detector's parameters do not match its function's parameter schema, or a "
        "function with required parameters is called without a detector.",
        DOCS,
    ),
    "invalid-threshold": rules.rule(
        "guardrail/invalid-threshold",
        "lint",
        "A threshold is not a finite float in [0, 1] (in detector parameters or "
        "compared with a score in a condition).",
        DOCS,
    ),
    "dangling-reference": rules.rule(
        "guardrail/dangling-reference", "lint", "`requires` or `unless` names a rule that does not exist."
    ),
    "cycle": rules.rule(
        "guardrail/cycle", "lint", "Rules reference each other in a circle through `requires`/`unless`."
    ),
    "duplicate-rule": rules.rule("guardrail/duplicate-rule", "lint", "Two rules have the same id."),
    "priority-conflict": rules.rule(
        "guardrail/priority-conflict",
        "lint",
        "Two rules share a priority, so the verdict would depend on file order.",
        "Give every rule a distinct priority (higher wins).",
    ),
    "unreachable-rule": rules.rule(
        "guardrail/unreachable-rule",
        "lint",
        "A rule can never decide: its condition is constant false, it requires a "
        "rule that never matches, or an unconditional higher-priority rule shadows it.",
    ),
    "blocks-all": rules.rule(
        "guardrail/blocks-all",
        "lint",
        "A BLOCK rule's condition is always true: the policy blocks 100% of traffic.",
    ),
    "unused-detector": rules.rule(
        "guardrail/unused-detector", "lint", "A detector is declared but no rule calls it (a warning)."
    ),
}
SUITE_SCHEMA = rules.rule(
    "guardrail/suite-schema",
    "lint",
    "tests/suite.yaml is missing or breaks schemas/guardrail-suite.schema.json.",
    DOCS,
)
SUITE_DUPLICATE = rules.rule("guardrail/suite-duplicate-id", "lint", "Two suite interactions share an id.")
SUITE_UNKNOWN_CODE = rules.rule(
    "guardrail/suite-unknown-code",
    "lint",
    "A suite case expects a violation code that no rule of the policy (nor default_code) produces.",
    "Fix the expected code or the rule's code.",
)


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Lint one guardrail policy artifact."""
    doc = ctx.manifest(artifact)
    if schemacheck.check_document(doc, artifact.kind.schema, result, SCHEMA, hint=DOCS):
        check_suite(artifact, result, None)
        return
    issues = analysis.analyze(doc.data)
    for issue in issues:
        result.add(
            RULE_IDS[issue.problem],
            issue.message,
            severity="warning" if issue.severity == "warning" else "error",
            file=doc.file,
            line=doc.line_of(list(issue.path)),
        )
    result.metrics["rules"] = len(doc.data["rules"])
    result.metrics["detectors"] = len(doc.data.get("detectors") or {})
    check_suite(artifact, result, doc)


def check_suite(artifact: Artifact, result: ArtifactResult, policy_doc: YamlDocument | None) -> None:
    """Schema of tests/suite.yaml, unique ids, and expected codes the policy can produce."""
    path = artifact.root / SUITE_FILE
    rel = artifact.rel(path)
    if not path.exists() and not path.is_symlink():
        result.add(
            SUITE_SCHEMA, f"{rel} is missing: every policy needs its curated test suite", file=rel, hint=DOCS
        )
        return
    suite = load_yaml(path, artifact.repo)
    if schemacheck.check_document(suite, "guardrail-suite", result, SUITE_SCHEMA, hint=DOCS):
        return
    seen: dict[str, int] = {}
    for index, interaction in enumerate(suite.data["interactions"]):
        if interaction["id"] in seen:
            result.add(
                SUITE_DUPLICATE,
                f"interaction id {interaction['id']!r} is used twice",
                file=rel,
                line=suite.line_of(["interactions", index, "id"]),
            )
        seen.setdefault(interaction["id"], index)
    result.metrics["suite_cases"] = sum(len(i["inputs"]) for i in suite.data["interactions"])
    if policy_doc is None:
        return
    codes = {r.get("code") for r in policy_doc.data["rules"]} | {policy_doc.data.get("default_code")}
    for index, interaction in enumerate(suite.data["interactions"]):
        code = interaction["expected"].get("code")
        if code is not None and code not in codes:
            result.add(
                SUITE_UNKNOWN_CODE,
                f"interaction {interaction['id']!r} expects code {code!r}, which no "
                f"rule produces (codes: {', '.join(sorted(c for c in codes if c))})",
                file=rel,
                line=suite.line_of(["interactions", index, "expected", "code"]),
            )
