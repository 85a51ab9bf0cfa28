"""Validate of guardrail policies: the real engine runs the policy's curated suite.

Checks (rule ids in docs/rules.md, the suite format in docs/artifacts/guardrails.md):
- ``guardrail/policy-invalid``: the policy loads into the engine (schema, CEL, detectors, rule graph);
- ``guardrail/suite-invalid``: tests/suite.yaml exists and matches its schema;
- ``guardrail/suite-mismatch``: every suite input gets the expected verdict and violation code
  (benign inputs allowed, adversarial ones blocked or flagged with their codes); one finding per
  failing input, naming the rule that decided;
- ``guardrail/blocks-benign-corpus``: the policy blocks every input of the benign corpus (the suite's
  benign inputs plus a small built-in set of harmless messages), i.e. it would block all traffic;
- ``guardrail/engine-error`` (warning): a condition raised at run time on a suite input (the engine
  fails closed, so the verdict may still match).

Metrics: ``cases``, ``passed``, ``failed``, ``pass_rate``, ``false_positive_rate`` (benign inputs
not allowed), ``bypass_rate`` (adversarial inputs allowed), ``benign_corpus_block_rate`` and
``categories`` (per category: cases, passed, failed, pass_rate, blocked, flagged, allowed).
``details.failures`` lists the failing cases (id, expected, actual, matched rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genaiops import rules, schemacheck
from genaiops.guardrails.benign import BENIGN_CORPUS
from genaiops.guardrails.engine import CompiledPolicy, PolicyError, compile_policy
from genaiops.guardrails.suite import SUITE_FILE, SuiteResult, cases_from_data, run_suite
from genaiops.safeio import YamlDocument, load_yaml

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.stages.runner import StageContext

DOCS = "See docs/artifacts/guardrails.md."
POLICY_INVALID = rules.rule(
    "guardrail/policy-invalid",
    "validate",
    "The policy cannot be loaded into the guardrail engine.",
    "Run `genaiops lint` on it: the lint findings say what to fix.",
)
SUITE_INVALID = rules.rule(
    "guardrail/suite-invalid",
    "validate",
    "tests/suite.yaml is missing or breaks schemas/guardrail-suite.schema.json.",
    DOCS,
)
SUITE_MISMATCH = rules.rule(
    "guardrail/suite-mismatch",
    "validate",
    "A suite input got a different verdict or violation code than expected.",
    "Fix the policy (a detector, threshold or rule priority) or, if the expectation was wrong, the suite.",
)
BLOCKS_BENIGN = rules.rule(
    "guardrail/blocks-benign-corpus",
    "validate",
    "The policy blocks every input of the benign corpus: it would block all traffic.",
    "Check for an over-broad condition or a default_action of BLOCK.",
)
ENGINE_ERROR = rules.rule(
    "guardrail/engine-error",
    "validate",
    "A rule's condition raised at run time on a suite input (the engine fails closed).",
    "Make the condition total: guard map keys with has() and compare like types.",
)
MAX_MISMATCH_FINDINGS = 50
"""More failing inputs than this are summarised in one finding (all are in details.failures)."""


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Validate one guardrail policy artifact by running its suite through the engine."""
    doc = ctx.manifest(artifact)
    try:
        policy = compile_policy(doc.data)
    except PolicyError as exc:
        for path, message in exc.problems:
            result.add(POLICY_INVALID, message, file=doc.file, line=doc.line_of(list(path)))
        return
    suite = _load_suite(artifact, result)
    if suite is None:
        return
    outcome = run_suite(policy, cases_from_data(suite.data))
    _report_suite(outcome, suite, result)
    _check_benign_corpus(policy, outcome, doc, result)


def _load_suite(artifact: Artifact, result: ArtifactResult) -> YamlDocument | None:
    path = artifact.root / SUITE_FILE
    rel = artifact.rel(path)
    if not path.exists() and not path.is_symlink():
        result.add(
            SUITE_INVALID, f"{rel} is missing: validate runs the policy's curated suite", file=rel, hint=DOCS
        )
        return None
    suite = load_yaml(path, artifact.repo)
    if schemacheck.check_document(suite, "guardrail-suite", result, SUITE_INVALID, hint=DOCS):
        return None
    return suite


def _line_of_input(suite: YamlDocument, interaction_id: str, index: int) -> int | None:
    for position, interaction in enumerate(suite.data["interactions"]):
        if interaction["id"] == interaction_id:
            return suite.line_of(["interactions", position, "inputs", index])
    return None


def _expected(verdict: str, code: str | None) -> str:
    return verdict if code is None else f"{verdict} {code}"


def _report_suite(outcome: SuiteResult, suite: YamlDocument, result: ArtifactResult) -> None:
    failures = outcome.failures
    for failed in failures[:MAX_MISMATCH_FINDINGS]:
        case, decision = failed.case, failed.decision
        decided = f"rule {decision.rule!r}" if decision.rule else "the default action"
        result.add(
            SUITE_MISMATCH,
            f"{case.category} case {case.id}: expected {_expected(case.verdict, case.code)}, got "
            f"{_expected(decision.verdict, decision.code)} (decided by {decided}; input: "
            f"{_preview(case.text)})",
            file=suite.file,
            line=_line_of_input(suite, case.interaction, case.index),
        )
    if len(failures) > MAX_MISMATCH_FINDINGS:
        result.add(
            SUITE_MISMATCH,
            f"{len(failures) - MAX_MISMATCH_FINDINGS} more suite cases fail "
            "(all are listed in details.failures)",
            file=suite.file,
        )
    errored = sorted({rule for r in outcome.results for rule in r.decision.errors})
    for rule_id in errored:
        example = next(r for r in outcome.results if rule_id in r.decision.errors)
        result.add(
            ENGINE_ERROR,
            f"rule {rule_id!r} raised on case {example.case.id}: {example.decision.errors[rule_id]}",
            severity="warning",
            file=suite.file,
        )
    total = len(outcome.results)
    passed = total - len(failures)
    result.metrics.update(
        {
            "cases": total,
            "passed": passed,
            "failed": len(failures),
            "pass_rate": round(passed / total, 4) if total else None,
            **outcome.rates(),
            "categories": outcome.by_category(),
        }
    )
    result.details["failures"] = [
        {
            "case": f.case.id,
            "category": f.case.category,
            "expected": {"verdict": f.case.verdict, "code": f.case.code},
            "actual": {
                "verdict": f.decision.verdict,
                "code": f.decision.code,
                "rule": f.decision.rule,
                "matched": f.decision.matched,
            },
        }
        for f in failures
    ]


def _check_benign_corpus(
    policy: CompiledPolicy, outcome: SuiteResult, doc: YamlDocument, result: ArtifactResult
) -> None:
    corpus = [*BENIGN_CORPUS, *(r.case.text for r in outcome.results if r.case.category == "benign")]
    verdicts = [policy.evaluate(text).verdict for text in corpus]
    blocked = sum(v == "BLOCK" for v in verdicts)
    result.metrics["benign_corpus_size"] = len(corpus)
    result.metrics["benign_corpus_block_rate"] = round(blocked / len(corpus), 4)
    if blocked == len(corpus):
        result.add(
            BLOCKS_BENIGN,
            f"the policy blocks all {len(corpus)} inputs of the benign corpus "
            f"(built-in harmless messages and the suite's benign cases)",
            file=doc.file,
            line=doc.line_of(["rules"]),
        )


def _preview(text: str, limit: int = 80) -> str:
    shown = text if len(text) <= limit else text[:limit] + "..."
    return repr(shown)
