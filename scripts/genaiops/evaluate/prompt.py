"""Eval of prompt artifacts: run the rendered prompt over the eval dataset, score, compare, scorecard.

For each record ``{id, vars, expected, category?}`` of ``eval.dataset`` (default eval/dataset.jsonl)
the template is rendered in the sandbox (as lint/validate do), sent as one user message to the model
of the prompt's ``model_config`` with that config's sampling parameters, ``eval.repeats`` times
(``--repeats`` overrides). Scores per response:

* text prompts (``output.format: text``): ``exact_match``, ``token_f1``, ``rouge_l``, ``bleu`` against
  ``expected``, on the *answer*: the text after the last line starting with ``Answer:`` when the
  response has one (chain-of-thought prompts), else the whole response; and the judge rubric
  ``judge_helpfulness``, ``judge_accuracy``, ``judge_safety`` on the 1-5 scale (judge model:
  ``eval.judgeModel`` in genaiops.yaml, else the prompt's own model);
* JSON prompts: ``json_valid`` (parses - also as the continuation of a prompt that ends with ``{`` or
  ``[`` - and matches ``output.schema`` when given) and ``exact_match``
  (every key of an object ``expected`` equals the response's value; other values compare whole).

Thresholds come from the manifest's ``eval.thresholds`` (``threshold`` is a minimum, or a maximum
with ``greater_is_better: false``; ``max_relative_regression`` defaults to 2%). Every metric is also
compared with the baseline when one is deployed (``genaiops.evaluate.session``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError

from genaiops import rules, templating
from genaiops.discovery import Artifact
from genaiops.llm.sampling import sampling_params
from genaiops.llm.types import ChatRequest, ChatResponse
from genaiops.metrics import text as textmetrics
from genaiops.metrics.compare import nondeterminism
from genaiops.metrics.judge import DIMENSIONS, judge_request, parse_judgement
from genaiops.report import ArtifactResult
from genaiops.safeio import iter_jsonl, load_yaml, read_text
from genaiops.scorecard import MetricResult, Scorecard
from genaiops.stages.runner import StageContext

from .session import EvalSession, MetricSpec, file_digest
from .testcases import evaluate_cases, has_response_checks

TEMPLATE_FILE = "template.j2"
TEST_CASES_FILE = "test_cases.yaml"
TEST_CASE_METRIC = "test_case_pass_rate"
MAX_PROMPT_CHARS = 200_000
TEXT_METRICS = ("exact_match", "token_f1", "rouge_l", "bleu")
JUDGE_METRICS = tuple(f"judge_{d}" for d in DIMENSIONS)
JSON_METRICS = ("json_valid", "exact_match")
DATASET_INVALID = rules.rule(
    "prompt/eval-dataset-invalid",
    "eval",
    "The eval dataset is missing, empty, or a record lacks id/vars/expected.",
    'One JSON object per line: {"id", "vars", "expected", "category"?}.',
)
MODEL_CONFIG_MISSING = rules.rule(
    "prompt/eval-model-config-missing",
    "eval",
    "The prompt's model_config does not name a model-config artifact with a model_name.",
    "Set model_config to the id of a folder under artifacts/model-configs/.",
)
UNRENDERABLE = rules.rule(
    "prompt/eval-unrenderable",
    "eval",
    "The template, or a dataset record, does not render; nothing was sent to the model.",
    "Run `genaiops lint` and `genaiops validate` on the prompt for the exact reason.",
)
TEST_CASE_FAILED = rules.rule(
    "prompt/eval-test-case-failed",
    "eval",
    "A test case of test_cases.yaml fails on the model's response (response-side or model-graded checks).",
    "See docs/eval.md (Test cases in eval) for which assertions run on the response.",
)
JUDGE_UNPARSED = rules.rule(
    "prompt/eval-judge-unparsed",
    "eval",
    "Some judge answers held no readable score; they are left out of the judge metrics.",
    "Use a stronger judge model (eval.judgeModel) or check the judge cassette.",
)


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Evaluate one prompt artifact and attach its scorecard to the report."""
    manifest = ctx.manifest(artifact).data
    eval_cfg = manifest.get("eval") if isinstance(manifest.get("eval"), Mapping) else {}
    rel_manifest = artifact.rel(artifact.manifest_path)
    dataset_path = artifact.root / str(eval_cfg.get("dataset") or "eval/dataset.jsonl")
    records = _load_dataset(artifact, dataset_path, result)
    model, params = _model(artifact, manifest, result, rel_manifest)
    template = _template(artifact, manifest, result)
    if not records or model is None or template is None:
        return
    repeats = int(ctx.options.get("repeats") or eval_cfg.get("repeats") or 1)
    output = manifest.get("output") if isinstance(manifest.get("output"), Mapping) else {}
    is_json = output.get("format") == "json"
    rendered: list[tuple[dict[str, Any], str]] = []
    for line, record in records:
        try:
            text, truncated = templating.render(
                template, template_context(manifest, record["vars"]), MAX_PROMPT_CHARS
            )
        except (
            TemplateError,
            SecurityError,
            TypeError,
            ValueError,
            ArithmeticError,
            AttributeError,
            KeyError,
            IndexError,
            RecursionError,
        ) as exc:
            result.add(
                UNRENDERABLE,
                f"record {record['id']!r} does not render: {type(exc).__name__}: {str(exc)[:200]}",
                file=artifact.rel(dataset_path),
                line=line,
            )
            continue
        if truncated:
            result.add(
                UNRENDERABLE,
                f"record {record['id']!r} renders past {MAX_PROMPT_CHARS} characters",
                file=artifact.rel(dataset_path),
                line=line,
            )
            continue
        rendered.append((record, text))
    if not rendered:
        return
    cases = _render_cases(artifact, manifest, template)
    session = EvalSession.open(artifact, result, ctx)
    try:
        _run(
            session,
            manifest,
            eval_cfg,
            rendered,
            cases,
            model,
            params,
            repeats,
            is_json,
            output,
            dataset_path,
        )
    finally:
        session.close()


def _run(
    session: EvalSession,
    manifest: Mapping[str, Any],
    eval_cfg: Mapping[str, Any],
    rendered: list[tuple[dict[str, Any], str]],
    cases: list[tuple[int, Mapping[str, Any], str]],
    model: str,
    params: dict[str, Any],
    repeats: int,
    is_json: bool,
    output: Mapping[str, Any],
    dataset_path: Path,
) -> None:
    requests = [
        ChatRequest(model, ({"role": "user", "content": text},), params, repeat)
        for _, text in rendered
        for repeat in range(repeats)
    ]
    judge_model = None if is_json else (session.settings.judge_model or model)
    total = len(requests) * (2 if judge_model else 1) + len(cases)
    with session.progress(total) as bar:
        responses = session.provider.chat_many(requests, bar)
        per_example: dict[str, dict[str, list[float]]] = {}
        outputs: dict[str, list[str]] = {}
        answers: list[tuple[str, str, str, str]] = []  # example id, question, answer, reference
        validator = _schema_validator(output.get("schema")) if is_json else None
        for index, response in enumerate(responses):
            record, text = rendered[index // repeats]
            example = str(record["id"])
            outputs.setdefault(example, []).append(response.content)
            scores = (
                _json_scores(response, record["expected"], validator, text.rstrip()[-1:])
                if is_json
                else _text_scores(response, record["expected"])
            )
            for name, value in scores.items():
                per_example.setdefault(name, {}).setdefault(example, []).append(value)
            if judge_model:
                answers.append((example, text, response.content, _as_text(record["expected"])))
        if judge_model:
            judge_requests = [
                judge_request(judge_model, question, answer, reference, repeat=i % repeats)
                for i, (_, question, answer, reference) in enumerate(answers)
            ]
            verdicts = session.provider.chat_many(judge_requests, bar)
            unparsed = 0
            for (example, *_), verdict in zip(answers, verdicts, strict=True):
                judgement = parse_judgement(verdict.content)
                if not judgement.parsed:
                    unparsed += 1
                    continue
                for dim, value in judgement.scores.items():
                    per_example.setdefault(f"judge_{dim}", {}).setdefault(example, []).append(1 + 4 * value)
            if unparsed:
                session.result.add(
                    JUDGE_UNPARSED,
                    f"{unparsed} of {len(verdicts)} judge answers held no score",
                    severity="warning",
                )
        case_details = _run_cases(session, cases, model, params, per_example, bar)
    specs = _specs(eval_cfg)
    order = list(JSON_METRICS if is_json else TEXT_METRICS + (JUDGE_METRICS if judge_model else ()))
    if TEST_CASE_METRIC in per_example:
        order.append(TEST_CASE_METRIC)
    order += [name for name in specs if name not in order and name in per_example]
    missing = [name for name in specs if name not in per_example]
    metrics = session.score(per_example, specs, order)
    for name in missing:
        session.notes.append(f"threshold on {name!r}: this eval does not compute that metric")
        metrics.append(
            MetricResult(
                name=name, value=0.0, verdict="fail", reason="required by eval.thresholds but not computed"
            )
        )
    metrics += _category_metrics(rendered, per_example, order[0])
    headline = per_example.get(order[0], {})
    spread = [v for v in headline.values() if len(v) == repeats]
    nd = nondeterminism(spread).to_json() if spread and repeats > 1 else None
    if nd is not None:
        changed = sum(1 for texts in outputs.values() if len(set(texts)) > 1)
        nd["outputUnstableFraction"] = round(changed / len(outputs), 6)
    card = Scorecard(
        kind="prompt",
        id=session.artifact.id,
        version=session.result.version,
        digest=session.result.digest,
        environment=session.ctx.options.get("env"),
        metrics=metrics,
        nondeterminism=nd,
        provenance={
            "model": model,
            "judgeModel": judge_model,
            "params": params,
            "repeats": repeats,
            "datasetDigest": file_digest(dataset_path),
            "dataset": session.artifact.rel(dataset_path),
        },
        examples=[
            {
                "id": str(record["id"]),
                "category": record.get("category"),
                "scores": {
                    name: per_example[name][str(record["id"])]
                    for name in per_example
                    if str(record["id"]) in per_example[name]
                },
                "output": outputs[str(record["id"])][0][:500],
            }
            for record, _ in rendered
        ]
        + case_details,
    )
    session.publish(card)


def _render_cases(
    artifact: Artifact, manifest: Mapping[str, Any], template: Any
) -> list[tuple[int, Mapping[str, Any], str]]:
    """The response-targeted test cases of test_cases.yaml that render (cases with
    ``metadata.target: prompt`` were validated on the rendered prompt; validate reports the others)."""
    path = artifact.root / TEST_CASES_FILE
    if not path.is_file():
        return []
    data = load_yaml(path, artifact.repo).data
    cases: list[tuple[int, Mapping[str, Any], str]] = []
    for index, case in enumerate(data if isinstance(data, list) else []):
        if not isinstance(case, Mapping) or not isinstance(case.get("assert"), list):
            continue
        if not has_response_checks(case):
            continue  # a prompt-targeted case (validate's job) or nothing to grade: no model call
        variables = case.get("vars") if isinstance(case.get("vars"), Mapping) else {}
        try:
            text, truncated = templating.render(
                template, template_context(manifest, variables), MAX_PROMPT_CHARS
            )
        except Exception:
            continue
        if not truncated:
            cases.append((index, case, text))
    return cases


def _run_cases(
    session: EvalSession,
    cases: list[tuple[int, Mapping[str, Any], str]],
    model: str,
    params: dict[str, Any],
    per_example: dict[str, dict[str, list[float]]],
    bar: Any,
) -> list[dict[str, Any]]:
    """Run the test cases once each and evaluate their response-side assertions (``testcases``)."""
    if not cases:
        return []
    requests = [ChatRequest(model, ({"role": "user", "content": text},), params) for _, _, text in cases]
    responses = session.provider.chat_many(requests, bar)
    outcomes = evaluate_cases(
        session.provider,
        cases,
        responses,
        session.settings.judge_model or model,
        session.settings.embedding_model,
    )
    details: list[dict[str, Any]] = []
    rel = session.artifact.rel(session.artifact.root / TEST_CASES_FILE)
    for outcome, response in zip(outcomes, responses, strict=True):
        case_id = f"test-case-{outcome.index + 1}"
        passed = outcome.passed
        if passed is not None:
            per_example.setdefault(TEST_CASE_METRIC, {})[case_id] = [1.0 if passed else 0.0]
        if passed is False:
            failed = [r for r in outcome.results if r.status in ("fail", "invalid")]
            label = f" ({outcome.description!r})" if outcome.description else ""
            session.result.add(
                TEST_CASE_FAILED,
                f"test case {outcome.index + 1}{label} on the model response: "
                + "; ".join(f"{r.type}: {r.reason}" for r in failed[:3]),
                file=rel,
            )
        details.append(
            {
                "id": case_id,
                "category": "test-case",
                "scores": {TEST_CASE_METRIC: per_example[TEST_CASE_METRIC][case_id]}
                if passed is not None
                else {},
                "output": response.content[:500],
                "assertions": [r.to_json() for r in outcome.results],
            }
        )
    return details


def _specs(eval_cfg: Mapping[str, Any]) -> dict[str, MetricSpec]:
    specs: dict[str, MetricSpec] = {}
    for item in eval_cfg.get("thresholds") or []:
        if not isinstance(item, Mapping) or not isinstance(item.get("metric"), str):
            continue
        higher = bool(item.get("greater_is_better", True))
        bound = item.get("threshold")
        bound = float(bound) if isinstance(bound, (int, float)) and not isinstance(bound, bool) else None
        specs[item["metric"]] = MetricSpec(
            item["metric"],
            higher,
            bound if higher else None,
            None if higher else bound,
            float(item.get("max_relative_regression", 0.02)),
        )
    return specs


def _category_metrics(
    rendered: list[tuple[dict[str, Any], str]], per_example: dict[str, dict[str, list[float]]], headline: str
) -> list[MetricResult]:
    by_category: dict[str, list[float]] = {}
    for record, _ in rendered:
        values = per_example.get(headline, {}).get(str(record["id"]))
        if values and isinstance(record.get("category"), str):
            by_category.setdefault(record["category"], []).append(sum(values) / len(values))
    return (
        [
            MetricResult.absolute(f"{headline}[{category}]", sum(v) / len(v), category=category, n=len(v))
            for category, v in sorted(by_category.items())
        ]
        if len(by_category) > 1
        else []
    )


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _text_scores(response: ChatResponse, expected: Any) -> dict[str, float]:
    prediction, reference = textmetrics.final_answer(response.content), _as_text(expected)
    return {
        "exact_match": textmetrics.exact_match(prediction, reference),
        "token_f1": textmetrics.token_f1(prediction, reference),
        "rouge_l": textmetrics.rouge_l(prediction, reference),
        "bleu": textmetrics.bleu(prediction, reference),
    }


def _parse_json(text: str, opened: str = "") -> tuple[bool, Any]:
    """Parse a JSON response; a prompt that ends by opening the JSON (``{``/``[``) may be continued."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").removeprefix("json").strip()
    candidates = [stripped] + ([opened + stripped] if opened in ("{", "[") else [])
    for candidate in candidates:
        try:
            return True, json.loads(candidate)
        except ValueError:
            continue
    return False, None


def _schema_validator(schema: Any) -> Any:
    if not isinstance(schema, Mapping):
        return None
    import jsonschema  # on first use: ~0.1 s to import

    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)
    except jsonschema.SchemaError:
        return None  # lint reports a bad output.schema


def _json_scores(response: ChatResponse, expected: Any, validator: Any, opened: str) -> dict[str, float]:
    ok, value = _parse_json(response.content, opened)
    valid = ok and (validator is None or validator.is_valid(value))
    if not ok:
        match = 0.0
    elif isinstance(expected, Mapping):
        match = float(isinstance(value, Mapping) and all(value.get(k) == v for k, v in expected.items()))
    else:
        match = float(value == expected)
    return {"json_valid": float(valid), "exact_match": match}


def _model(
    artifact: Artifact, manifest: Mapping[str, Any], result: ArtifactResult, rel_manifest: str
) -> tuple[str | None, dict[str, Any]]:
    config_id = manifest.get("model_config")
    path = artifact.repo / "artifacts" / "model-configs" / str(config_id) / "model-config.yaml"
    if not isinstance(config_id, str) or not path.is_file():
        result.add(
            MODEL_CONFIG_MISSING,
            f"model_config {config_id!r} is not an artifact under artifacts/model-configs/",
            file=rel_manifest,
        )
        return None, {}
    data = load_yaml(path, artifact.repo).data
    if not isinstance(data, Mapping) or not isinstance(data.get("model_name"), str):
        result.add(MODEL_CONFIG_MISSING, f"model config {config_id!r} has no model_name", file=rel_manifest)
        return None, {}
    return str(data["model_name"]), sampling_params(data)


def _template(artifact: Artifact, manifest: Mapping[str, Any], result: ArtifactResult) -> Any:
    path = artifact.root / TEMPLATE_FILE
    try:
        ast = templating.parse(read_text(path, artifact.repo))
    except TemplateSyntaxError as exc:
        result.add(
            UNRENDERABLE,
            f"{TEMPLATE_FILE} does not parse: {exc.message}",
            file=artifact.rel(path),
            line=exc.lineno,
        )
        return None
    variables = manifest.get("variables")
    props = variables.get("properties") if isinstance(variables, Mapping) else None
    issues = templating.analyze(ast, dict(props) if isinstance(props, Mapping) else {}).issues
    blocking = [i for i in issues if i.kind in ("unsafe", "non-portable")]
    if blocking:
        result.add(
            UNRENDERABLE,
            f"{TEMPLATE_FILE} is not rendered: {blocking[0].message}",
            file=artifact.rel(path),
            line=blocking[0].line,
        )
        return None
    return ast


def template_context(manifest: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    variables = manifest.get("variables")
    props = variables.get("properties") if isinstance(variables, Mapping) else None
    if isinstance(props, Mapping):
        context.update(
            {k: v["default"] for k, v in props.items() if isinstance(v, Mapping) and "default" in v}
        )
    context.update(values)
    examples = manifest.get("examples")
    if isinstance(examples, list):
        context["examples"] = examples
    return context


def _load_dataset(artifact: Artifact, path: Path, result: ArtifactResult) -> list[tuple[int, dict[str, Any]]]:
    rel = artifact.rel(path)
    if not path.is_file():
        result.add(DATASET_INVALID, f"eval dataset {rel} does not exist", file=rel)
        return []
    records: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for line, record in iter_jsonl(path, artifact.repo):
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("id"), str)
            or not isinstance(record.get("vars"), dict)
            or "expected" not in record
        ):
            result.add(
                DATASET_INVALID, "a record needs a string id, a vars object and expected", file=rel, line=line
            )
            continue
        if record["id"] in seen:
            result.add(DATASET_INVALID, f"duplicate record id {record['id']!r}", file=rel, line=line)
            continue
        seen.add(record["id"])
        records.append((line, record))
    if not records and not result.findings:
        result.add(DATASET_INVALID, f"eval dataset {rel} has no records", file=rel)
    return records
