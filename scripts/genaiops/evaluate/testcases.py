"""The response-side half of a prompt's promptfoo test cases (test_cases.yaml), evaluated in eval.

A test case targets the model response unless it says ``metadata: {target: prompt}`` (promptfoo's
semantics: promptfoo loads test_cases.yaml unchanged and grades responses). Prompt-targeted cases
are structural tests of the rendered prompt: validate evaluated them, and they are skipped here.
Every other case is rendered, sent to the model once, and these assertions are evaluated on the
*response*:

* every assertion that ``genaiops.assertions`` evaluates deterministically (contains, regex,
  is-json, ...; promptfoo semantics);
* the model-graded and reference types:

  - ``llm-rubric``: the judge's mean rubric score (the value is extra criteria) >= threshold (0.75);
  - ``factuality``, ``model-graded-factuality``, ``model-graded-closedqa``: the judge's accuracy with
    the value as reference >= threshold (0.75);
  - ``context-faithfulness``: the judge's accuracy under "uses only the provided passages" >= 0.75;
  - ``similar``: cosine of the embeddings (``eval.embeddingModel``, default the offline
    ``genaiops/hash-embedding-256``) of response and value >= threshold (0.75);
  - ``rouge-n``: ROUGE-1 F (Unicode tokenizer) of response vs value >= threshold (0.75);
  - ``bleu``: sentence BLEU (0-1) >= threshold (0.5);
  - ``latency``: the call's latency in ms <= threshold (not evaluated on cached/replayed responses).

  Thresholds are the assertion's ``threshold`` (judge scores normalised to 0-1: 4/5 is 0.75). ``not-``
  negates. Other deferred types (``g-eval``, ``answer-relevance``, tool calls, ...) are counted as not
  evaluated.

A case passes when every assertion evaluated here passes (or, with a case ``threshold``, when the
weighted score reaches it). The share of passing cases is the metric ``test_case_pass_rate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError
from jinja2.exceptions import SecurityError

from genaiops import assertions, templating
from genaiops.embeddings import DEFAULT_MODEL
from genaiops.llm.provider import Provider
from genaiops.llm.types import ChatRequest, ChatResponse, EmbeddingRequest
from genaiops.metrics import text as textmetrics
from genaiops.metrics.judge import judge_request, parse_judgement

RESPONSE_TARGET = "response"  # the default target; `prompt` cases were validated
JUDGED = {
    "llm-rubric": "rubric",
    "factuality": "accuracy",
    "model-graded-factuality": "accuracy",
    "model-graded-closedqa": "accuracy",
    "context-faithfulness": "faithfulness",
}
MEASURED = frozenset({"similar", "rouge-n", "bleu", "latency"})
DEFAULT_THRESHOLDS = {"similar": 0.75, "rouge-n": 0.75, "bleu": 0.5}
JUDGE_PASS = 0.75
FAITHFULNESS_RUBRIC = (
    "Accuracy here means faithfulness: every statement of the RESPONSE must be supported by "
    "the passages or facts given in the QUESTION; anything not supported there is wrong."
)


@dataclass
class CaseOutcome:
    """One test case on one response."""

    index: int
    description: str | None
    results: list[assertions.AssertionResult] = field(default_factory=list)
    threshold: float | None = None

    @property
    def case(self) -> assertions.CaseResult:
        return assertions.CaseResult(assertions=self.results, threshold=self.threshold)

    @property
    def passed(self) -> bool | None:
        return self.case.passed

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "description": self.description, **self.case.to_json()}


def has_response_checks(case: Mapping[str, Any]) -> bool:
    """Whether any assertion of the case is evaluated here (else the case costs no model call).

    Cases that target the prompt (``metadata.target: prompt``) were validate's job: never here.
    """
    metadata = case.get("metadata") if isinstance(case.get("metadata"), Mapping) else {}
    if metadata.get("target", RESPONSE_TARGET) != RESPONSE_TARGET:
        return False  # `prompt`, or a target validate reports as invalid
    for assertion in case.get("assert") or []:
        if not isinstance(assertion, Mapping) or not isinstance(assertion.get("type"), str):
            continue
        base = assertion["type"].removeprefix("not-")
        if base in JUDGED or base in MEASURED or base in assertions.DETERMINISTIC:
            return True
    return False


def _value_renderer(limit: int) -> Callable[[str, Mapping[str, Any]], str]:
    def render(source: str, variables: Mapping[str, Any]) -> str:
        ast = templating.parse(source)
        issues = templating.analyze(ast, {}).issues
        if any(i.kind in ("unsafe", "non-portable") for i in issues):
            raise SecurityError(next(i.message for i in issues if i.kind in ("unsafe", "non-portable")))
        return templating.render(ast, variables, limit)[0]

    return render


def _threshold(assertion: Mapping[str, Any], default: float | None) -> float | None:
    value = assertion.get("threshold")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def _text_value(
    assertion: Mapping[str, Any],
    variables: Mapping[str, Any],
    render: Callable[[str, Mapping[str, Any]], str],
) -> str | None:
    value = assertion.get("value")
    if value is None:
        return None
    return render(value, variables) if isinstance(value, str) else assertions.js_string(value)


@dataclass
class _Pending:
    """A model-graded or measured assertion waiting for the judge or embeddings."""

    outcome: CaseOutcome
    slot: int
    kind: str
    negate: bool
    threshold: float
    value: str | None
    weight: float
    metric: str | None
    raw_type: str


def evaluate_cases(
    provider: Provider,
    cases: Sequence[tuple[int, Mapping[str, Any], str]],
    responses: Sequence[ChatResponse],
    judge_model: str,
    embedding_model: str | None,
    limit: int = 200_000,
) -> list[CaseOutcome]:
    """Evaluate the assertions of response-targeted ``cases`` (index, case, rendered prompt) on
    ``responses`` (callers pass only cases for which ``has_response_checks`` holds)."""
    render = _value_renderer(limit)
    outcomes: list[CaseOutcome] = []
    pending: list[_Pending] = []
    judge_requests: list[ChatRequest] = []
    for (index, case, prompt), response in zip(cases, responses, strict=True):
        variables = case.get("vars") if isinstance(case.get("vars"), Mapping) else {}
        threshold = case.get("threshold")
        outcome = CaseOutcome(
            index,
            case.get("description") if isinstance(case.get("description"), str) else None,
            threshold=float(threshold) if isinstance(threshold, (int, float)) else None,
        )
        for slot, assertion in enumerate(case.get("assert") or []):
            if not isinstance(assertion, Mapping) or not isinstance(assertion.get("type"), str):
                continue
            raw_type = assertion["type"]
            negate = raw_type.startswith("not-")
            base = raw_type[4:] if negate else raw_type
            weight = (
                float(assertion.get("weight", 1.0))
                if isinstance(assertion.get("weight"), (int, float))
                else 1.0
            )
            metric = assertion.get("metric") if isinstance(assertion.get("metric"), str) else None
            if base in assertions.DETERMINISTIC:
                outcome.results.append(
                    assertions.evaluate_assertion(
                        assertion, response.content, vars=variables, index=slot, render=render
                    )
                )
                continue
            if base not in JUDGED and base not in MEASURED:
                continue  # deferred types genaiops does not grade, unsupported and unknown ones: not here
            try:
                value = _text_value(assertion, variables, render)
            except (TemplateError, SecurityError, TypeError, ValueError) as exc:
                outcome.results.append(
                    assertions.AssertionResult(
                        slot, raw_type, "invalid", f"the value does not render: {exc}", weight, metric
                    )
                )
                continue
            if base == "latency":
                limit_ms = _threshold(assertion, None)
                if limit_ms is None or response.latency_s is None:
                    outcome.results.append(
                        assertions.AssertionResult(
                            slot,
                            raw_type,
                            "invalid" if limit_ms is None else "deferred",
                            "latency needs a threshold (ms)"
                            if limit_ms is None
                            else "no latency was measured (cached or replayed response)",
                            weight,
                            metric,
                        )
                    )
                    continue
                passed = (response.latency_s * 1000 <= limit_ms) != negate
                outcome.results.append(
                    assertions.AssertionResult(
                        slot,
                        raw_type,
                        "pass" if passed else "fail",
                        f"latency {response.latency_s * 1000:.0f} ms, limit {limit_ms:g} ms",
                        weight,
                        metric,
                    )
                )
                continue
            if base in ("similar", "rouge-n", "bleu"):
                if value is None:
                    outcome.results.append(
                        assertions.AssertionResult(
                            slot, raw_type, "invalid", f"{base} needs a value to compare with", weight, metric
                        )
                    )
                    continue
                if base == "similar":
                    pending.append(
                        _Pending(
                            outcome,
                            slot,
                            base,
                            negate,
                            _threshold(assertion, 0.75) or 0.75,
                            value,
                            weight,
                            metric,
                            raw_type,
                        )
                    )
                    continue
                score = (
                    textmetrics.rouge_1(response.content, value)
                    if base == "rouge-n"
                    else textmetrics.bleu(response.content, value)
                )
                limit_score = _threshold(assertion, DEFAULT_THRESHOLDS[base]) or 0.0
                passed = (score >= limit_score) != negate
                outcome.results.append(
                    assertions.AssertionResult(
                        slot,
                        raw_type,
                        "pass" if passed else "fail",
                        f"{base} {score:.3f}, threshold {limit_score:g}",
                        weight,
                        metric,
                    )
                )
                continue
            rubric = (
                value
                if JUDGED[base] == "rubric"
                else FAITHFULNESS_RUBRIC
                if base == "context-faithfulness"
                else None
            )
            reference = value if JUDGED[base] == "accuracy" else None
            pending.append(
                _Pending(
                    outcome,
                    slot,
                    base,
                    negate,
                    _threshold(assertion, JUDGE_PASS) or JUDGE_PASS,
                    None,
                    weight,
                    metric,
                    raw_type,
                )
            )
            judge_requests.append(
                judge_request(judge_model, prompt, response.content, reference=reference, rubric=rubric)
            )
        outcomes.append(outcome)
    _grade(provider, pending, judge_requests, responses, cases, embedding_model or DEFAULT_MODEL)
    for outcome in outcomes:
        outcome.results.sort(key=lambda r: r.index)
    return outcomes


def _grade(
    provider: Provider,
    pending: list[_Pending],
    judge_requests: list[ChatRequest],
    responses: Sequence[ChatResponse],
    cases: Sequence[tuple[int, Mapping[str, Any], str]],
    embedding_model: str,
) -> None:
    judged = iter(provider.chat_many(judge_requests) if judge_requests else [])
    similar = [p for p in pending if p.kind == "similar"]
    vectors: dict[int, float] = {}
    if similar:
        texts: list[str] = []
        for item in similar:
            texts += [item.value or "", _response_text(item, cases, responses)]
        embedded = provider.embed(EmbeddingRequest(embedding_model, tuple(texts))).vectors
        for n, item in enumerate(similar):
            vectors[id(item)] = textmetrics.cosine_similarity(embedded[2 * n], embedded[2 * n + 1])
    for item in pending:
        if item.kind == "similar":
            score, what = vectors[id(item)], "cosine similarity"
        else:
            judgement = parse_judgement(next(judged).content)
            if not judgement.parsed:
                item.outcome.results.append(
                    assertions.AssertionResult(
                        item.slot,
                        item.raw_type,
                        "fail",
                        "the judge's answer held no score",
                        item.weight,
                        item.metric,
                    )
                )
                continue
            key = "accuracy" if JUDGED[item.kind] in ("accuracy", "faithfulness") else None
            score = judgement.scores[key] if key else (judgement.overall or 0.0)
            what = "judge accuracy" if key else "judge rubric score"
        passed = (score >= item.threshold) != item.negate
        item.outcome.results.append(
            assertions.AssertionResult(
                item.slot,
                item.raw_type,
                "pass" if passed else "fail",
                f"{what} {score:.3f}, threshold {item.threshold:g}",
                item.weight,
                item.metric,
            )
        )


def _response_text(
    item: _Pending, cases: Sequence[tuple[int, Mapping[str, Any], str]], responses: Sequence[ChatResponse]
) -> str:
    for (index, _, _), response in zip(cases, responses, strict=True):
        if index == item.outcome.index:
            return response.content
    return ""
