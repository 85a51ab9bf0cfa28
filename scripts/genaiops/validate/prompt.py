"""Validate of prompt artifacts: a deterministic test harness over the rendered prompt, no model.

test_cases.yaml is a promptfoo test file, loaded by promptfoo unchanged, so a test case's assertions
are about the *model response* by default (promptfoo's semantics). A case marked
``metadata: {target: prompt}`` is a structural test of the *prompt itself*, rendered with the case's
vars (the seed's structural expectations) - the only "output" validate has, since it calls no model.
So validate renders every test case in the sandbox, and:

- ``prompt/template-unrenderable``: template.j2 does not parse or leaves the portable subset, so it
  is not rendered (lint says exactly why); ``prompt/sandbox-escape``: the template or an assertion
  value reaches for Python internals - refused statically or by the sandbox, never executed;
- ``prompt/test-render-failed``: a test case does not render (a missing variable under
  StrictUndefined, a filter on the wrong type), whatever its target;
- ``prompt/assertion-failed``: a deterministic assertion (promptfoo semantics, genaiops.assertions)
  of a ``target: prompt`` case fails on the rendered prompt; ``prompt/assertion-invalid``: an
  assertion is malformed (unknown type, bad value, a regex that does not compile or runs past its
  time budget), or a ``target: prompt`` case holds a type that needs a model response (model-graded,
  rouge-n, latency, ...: eval never sends prompt-targeted cases to the model);
- ``prompt/assertion-deferred`` (info): every assertion of a response-targeted case (no ``target``,
  or ``target: response``) is left to eval and counted, never passed;
  ``prompt/assertion-unsupported`` (warning): code-running types are never executed;
- ``prompt/output-truncated`` (warning): the rendered prompt was too large and assertions saw only
  its beginning;
- ``prompt/example-not-json`` / ``prompt/example-schema``: with ``output.format: json`` every
  few-shot example output is JSON matching ``output.schema``;
- ``prompt/json-not-opened``: a JSON prompt's rendering ends by opening the JSON (``{`` or ``[``);
- ``prompt/missing-reasoning-cue``: a chain-of-thought prompt (``reasoning_cue`` in prompt.yaml)
  contains its cue in every rendering;
- ``prompt/test-cases-invalid``: test_cases.yaml is not a list of test cases with vars and assert,
  or a case's ``metadata.target`` is neither ``prompt`` nor ``response``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError

from genaiops import assertions, rules, templating
from genaiops.errors import ArtifactError
from genaiops.safeio import load_json, load_yaml, read_text

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument
    from genaiops.stages.runner import StageContext

TEMPLATE_FILE = "template.j2"
TEST_CASES_FILE = "test_cases.yaml"
PROMPT_TARGET = "prompt"
RESPONSE_TARGET = "response"
TARGETS = (PROMPT_TARGET, RESPONSE_TARGET)
MAX_FINDINGS_PER_KIND = 50
NEEDS_RESPONSE = (
    "it needs a model response, but this case targets the rendered prompt (metadata.target: "
    "prompt), which eval never sends to the model; move it to a response-targeted test case"
)

UNRENDERABLE = rules.rule(
    "prompt/template-unrenderable",
    "validate",
    "template.j2 does not parse or uses constructs outside the portable subset, so validate "
    "does not render it.",
    "Run `genaiops lint` on the prompt and fix what it reports.",
)
SANDBOX_ESCAPE = rules.rule(
    "prompt/sandbox-escape",
    "validate",
    "The template or an assertion value tries to reach Python internals (e.g. "
    "`''.__class__.__mro__`); it was refused, never executed.",
    "Templates and assertion values only read variables; remove the expression.",
)
RENDER_FAILED = rules.rule(
    "prompt/test-render-failed",
    "validate",
    "A test case does not render: an undefined variable (StrictUndefined) or a filter "
    "applied to the wrong type.",
    "Give the test case every variable the template reads, or guard optional ones with `is defined`.",
)
ASSERTION_FAILED = rules.rule(
    "prompt/assertion-failed",
    "validate",
    "A deterministic assertion of a test case fails on the rendered prompt.",
    "Fix the template or the expectation; see docs/validate.md for the semantics.",
)
ASSERTION_INVALID = rules.rule(
    "prompt/assertion-invalid",
    "validate",
    "An assertion is malformed: unknown type, missing or wrong value, a regex that does "
    "not compile, is too large, or runs past its time budget; or a test case targeting the "
    "prompt (metadata.target: prompt) holds a type that needs a model response.",
    "See docs/validate.md (Assertions) for each type's value; move response checks to a "
    "response-targeted test case.",
)
ASSERTION_DEFERRED = rules.rule(
    "prompt/assertion-deferred",
    "validate",
    "The assertions of a test case that targets the model response (no metadata.target, or "
    "target: response; promptfoo's default) are left to eval - information, not a pass.",
)
ASSERTION_UNSUPPORTED = rules.rule(
    "prompt/assertion-unsupported",
    "validate",
    "An assertion type that runs code or needs a parser genaiops does not ship "
    "(javascript, python, is-xml, is-sql, ...) is not evaluated (a warning).",
    "Express the expectation with deterministic types, or run it with promptfoo.",
)
OUTPUT_TRUNCATED = rules.rule(
    "prompt/output-truncated",
    "validate",
    "A rendered prompt is larger than assertions evaluate; they saw only its beginning (a warning).",
    "Shorten the test case's vars or the template.",
)
EXAMPLE_NOT_JSON = rules.rule(
    "prompt/example-not-json",
    "validate",
    "A few-shot example output of a JSON prompt is not valid JSON.",
    "Write the example output as exactly one JSON document.",
)
EXAMPLE_SCHEMA = rules.rule(
    "prompt/example-schema",
    "validate",
    "A few-shot example output of a JSON prompt does not match output.schema.",
    "Make the example match the response schema the prompt asks for.",
)
JSON_NOT_OPENED = rules.rule(
    "prompt/json-not-opened",
    "validate",
    "A JSON-output prompt does not end by opening the JSON document (`{` or `[`).",
    "End the template with the opening brace, e.g. `Answer: {`.",
)
MISSING_CUE = rules.rule(
    "prompt/missing-reasoning-cue",
    "validate",
    "A chain-of-thought prompt (reasoning_cue in prompt.yaml) renders without its reasoning cue.",
    'Keep the cue (e.g. "Let me think step by step") outside conditional blocks.',
)
TEST_CASES_INVALID = rules.rule(
    "prompt/test-cases-invalid",
    "validate",
    "test_cases.yaml is not a non-empty list of test cases, each with vars and assert, or a "
    "test case's metadata.target is neither `prompt` nor `response`.",
    "See docs/artifacts/prompts.md (test_cases.yaml).",
)


_FOLDABLE = (
    nodes.BinExpr,
    nodes.UnaryExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Concat,
    nodes.CondExpr,
    nodes.Compare,
)


def constant_expressions(ast: nodes.Template) -> list[int | None]:
    """Lines of expressions built only from literals (e.g. ``'x' * 10**9``, ``'a'|center(10**9)``).

    Jinja folds such expressions while compiling, outside any output or time budget, so a
    literal-only expression can exhaust memory before rendering starts. Validate refuses them
    (they are never needed: write the result literally) and only then analyses the template.
    """
    lines: list[int | None] = []
    for node in ast.find_all(_FOLDABLE):
        if isinstance(node, nodes.Filter) and node.node is None:
            continue
        if next(iter(node.find_all((nodes.Name, nodes.Call))), None) is None:
            lines.append(node.lineno)
    return sorted(set(lines), key=lambda line: line or 0)


class _Renderer:
    """Renders the prompt and assertion value templates in the sandbox, mapping errors to kinds."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def value(self, source: str, variables: Mapping[str, Any]) -> str:
        """Render an assertion value template (promptfoo renders values with the test's vars)."""
        ast = templating.parse(source)
        if constant_expressions(ast):
            raise TemplateError(
                "a literal-only expression would be evaluated while compiling; write its result"
            )
        issues = templating.analyze(ast, {}).issues
        unsafe = [i for i in issues if i.kind == "unsafe"]
        if unsafe:
            raise SecurityError(unsafe[0].message)
        blocked = [i for i in issues if i.kind == "non-portable"]
        if blocked:
            raise TemplateError(blocked[0].message)
        text, _ = templating.render(ast, variables, self.limit)
        return text


def _context(manifest: YamlDocument, values: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    variables = manifest.data.get("variables")
    props = variables.get("properties") if isinstance(variables, Mapping) else None
    if isinstance(props, Mapping):  # JSON Schema defaults fill variables a test case leaves out
        context.update(
            {k: v["default"] for k, v in props.items() if isinstance(v, Mapping) and "default" in v}
        )
    context.update(values)
    examples = manifest.data.get("examples")
    if isinstance(examples, list):
        context["examples"] = examples
    return context


def _load_template(
    artifact: Artifact, manifest: YamlDocument, result: ArtifactResult
) -> nodes.Template | None:
    path = artifact.root / TEMPLATE_FILE
    rel = artifact.rel(path)
    try:
        ast = templating.parse(read_text(path, artifact.repo))
    except TemplateSyntaxError as exc:
        result.add(UNRENDERABLE, f"{TEMPLATE_FILE} does not parse: {exc.message}", file=rel, line=exc.lineno)
        return None
    constant = constant_expressions(ast)
    for line in constant:
        result.add(
            UNRENDERABLE,
            "not rendered: a literal-only expression (Jinja evaluates it while compiling, "
            "outside any budget); write its result literally",
            file=rel,
            line=line,
        )
    if constant:
        return None
    variables = manifest.data.get("variables")
    props = variables.get("properties") if isinstance(variables, Mapping) else None
    issues = templating.analyze(ast, dict(props) if isinstance(props, Mapping) else {}).issues
    for issue in issues:
        if issue.kind == "unsafe":
            result.add(SANDBOX_ESCAPE, f"refused, not rendered: {issue.message}", file=rel, line=issue.line)
    non_portable = [i for i in issues if i.kind == "non-portable"]
    for issue in non_portable:
        result.add(UNRENDERABLE, f"not rendered: {issue.message}", file=rel, line=issue.line)
    return None if any(i.kind in ("unsafe", "non-portable") for i in issues) else ast


def _load_cases(
    artifact: Artifact, result: ArtifactResult
) -> tuple[YamlDocument, list[tuple[int, Mapping[str, Any]]]]:
    doc = load_yaml(artifact.root / TEST_CASES_FILE, artifact.repo)
    if not isinstance(doc.data, list) or not doc.data:
        result.add(
            TEST_CASES_INVALID, f"{doc.file} must be a non-empty list of test cases", file=doc.file, line=1
        )
        return doc, []
    cases = []
    for index, case in enumerate(doc.data):
        if (
            not isinstance(case, Mapping)
            or not isinstance(case.get("vars", {}), Mapping)
            or not isinstance(case.get("assert"), list)
        ):
            result.add(
                TEST_CASES_INVALID,
                f"test case {index + 1} needs a `vars` mapping and an `assert` list",
                file=doc.file,
                line=doc.line_of([index]),
            )
            continue
        target = case_target(case)
        if target not in TARGETS:
            result.add(
                TEST_CASES_INVALID,
                f"test case {index + 1}: metadata.target is {target!r}; use `prompt` (a structural "
                "test of the rendered prompt) or `response` (the default: graded on the model "
                "response in eval)",
                file=doc.file,
                line=doc.line_of([index, "metadata", "target"]),
            )
            continue
        cases.append((index, case))
    return doc, cases


def case_target(case: Mapping[str, Any]) -> object:
    """What a test case's assertions are about: ``metadata.target``, by default the model response."""
    metadata = case.get("metadata")
    if not isinstance(metadata, Mapping) or "target" not in metadata:
        return RESPONSE_TARGET
    return metadata["target"]


def _describe(index: int, case: Mapping[str, Any]) -> str:
    description = case.get("description")
    return f"test case {index + 1}" + (f" ({description!r})" if isinstance(description, str) else "")


def _render_case(
    ast: nodes.Template, context: Mapping[str, Any], limit: int, what: str, rel: str, result: ArtifactResult
) -> tuple[str, bool] | None:
    outcome = templating.try_render(ast, context, limit)
    if not isinstance(outcome, templating.RenderProblem):
        return outcome
    if outcome.kind == "unsafe":
        result.add(SANDBOX_ESCAPE, f"the sandbox refused while rendering {what}: {outcome.message}", file=rel)
    else:
        result.add(RENDER_FAILED, f"{what} does not render: {outcome.message}", file=rel)
    return None


class _Counter:
    """Caps findings per rule so a broken file cannot flood the report."""

    def __init__(self, result: ArtifactResult) -> None:
        self.result = result
        self.counts: dict[str, int] = {}

    def add(self, rule_id: str, message: str, **kwargs: Any) -> None:
        self.counts[rule_id] = self.counts.get(rule_id, 0) + 1
        if self.counts[rule_id] <= MAX_FINDINGS_PER_KIND:
            self.result.add(rule_id, message, **kwargs)

    def close(self) -> None:
        for rule_id, count in self.counts.items():
            if count > MAX_FINDINGS_PER_KIND:
                self.result.add(rule_id, f"{count - MAX_FINDINGS_PER_KIND} more not shown", severity="info")


def _file_loader(artifact: Artifact) -> assertions.FileLoader:
    def load(relative: str) -> Any:
        path = artifact.root / relative
        try:
            if path.suffix in (".yaml", ".yml"):
                return load_yaml(path, artifact.repo).data
            return load_json(path, artifact.repo)
        except ArtifactError as exc:  # outside the repo, missing, unparsable: the assertion is invalid
            raise assertions.InvalidAssertion(f"cannot load file://{relative}: {exc.message}") from None

    return load


def _evaluate_case(
    artifact: Artifact,
    case_doc: YamlDocument,
    index: int,
    case: Mapping[str, Any],
    output: str,
    truncated: bool,
    renderer: _Renderer,
    counter: _Counter,
    tally: dict[str, int],
) -> dict[str, Any]:
    what = _describe(index, case)
    raw_threshold = case.get("threshold")
    threshold = (
        float(raw_threshold)
        if isinstance(raw_threshold, (int, float)) and not isinstance(raw_threshold, bool)
        else None
    )
    if case_target(case) != PROMPT_TARGET:
        tally["deferred"] += len(case["assert"])
        counter.add(
            ASSERTION_DEFERRED,
            f"{what}: its {len(case['assert'])} assertion(s) target the model response "
            "(promptfoo's default; metadata.target: prompt tests the rendered prompt) and run in eval",
            severity="info",
            file=case_doc.file,
            line=case_doc.line_of([index]),
        )
        return {"index": index, "description": case.get("description"), "target": RESPONSE_TARGET}
    outcome = assertions.evaluate_case(
        case["assert"],
        output,
        vars=case.get("vars") or {},
        threshold=threshold,
        render=renderer.value,
        load_file=_file_loader(artifact),
    )
    outcome.truncated = outcome.truncated or truncated
    outcome.assertions = [  # eval never sends a prompt-targeted case to the model
        replace(item, status="invalid", reason=NEEDS_RESPONSE) if item.status == "deferred" else item
        for item in outcome.assertions
    ]
    for item in outcome.assertions:
        line = case_doc.line_of([index, "assert", item.index])
        where = f"{what}, assertion {item.index + 1} ({item.type})"
        if item.status == "fail" and threshold is None:
            counter.add(ASSERTION_FAILED, f"{where}: {item.reason}", file=case_doc.file, line=line)
        elif item.status == "invalid":
            rule_id = SANDBOX_ESCAPE if "SecurityError" in item.reason else ASSERTION_INVALID
            counter.add(rule_id, f"{where}: {item.reason}", file=case_doc.file, line=line)
        elif item.status == "unsupported":
            counter.add(
                ASSERTION_UNSUPPORTED,
                f"{where}: {item.reason}",
                severity="warning",
                file=case_doc.file,
                line=line,
            )
        tally[item.status] += 1
    if threshold is not None and outcome.passed is False and not outcome.invalid:
        counter.add(
            ASSERTION_FAILED,
            f"{what}: weighted score {outcome.score:.3f} is below the test case's threshold {threshold}",
            file=case_doc.file,
            line=case_doc.line_of([index, "threshold"]),
        )
    if outcome.truncated:
        counter.add(
            OUTPUT_TRUNCATED,
            f"{what}: the rendered prompt has {outcome.output_chars} characters or more; "
            f"assertions saw the first {assertions.LIMITS.max_output_chars}",
            severity="warning",
            file=case_doc.file,
            line=case_doc.line_of([index]),
        )
    return {"index": index, "description": case.get("description"), **outcome.to_json()}


def _check_structure(manifest: YamlDocument, what: str, text: str, counter: _Counter, rel: str) -> None:
    output = manifest.data.get("output")
    if isinstance(output, Mapping) and output.get("format") == "json":
        tail = text.rstrip()
        if not tail.endswith(("{", "[")):
            ending = tail[-40:] if tail else ""
            counter.add(
                JSON_NOT_OPENED,
                f"{what}: the JSON prompt ends with {ending!r} instead of opening the JSON",
                file=rel,
            )
    cue = manifest.data.get("reasoning_cue")
    if isinstance(cue, str) and cue and cue.casefold() not in text.casefold():
        counter.add(MISSING_CUE, f"{what}: the rendered prompt lacks the reasoning cue {cue!r}", file=rel)


def _check_examples(manifest: YamlDocument, result: ArtifactResult) -> None:
    output = manifest.data.get("output")
    examples = manifest.data.get("examples")
    if not isinstance(output, Mapping) or output.get("format") != "json" or not isinstance(examples, list):
        return
    schema = output.get("schema")
    validator = None
    if isinstance(schema, Mapping):
        try:
            validator = assertions.schema_validator(dict(schema))
        except assertions.InvalidAssertion:
            validator = None  # lint reports an invalid output.schema
    for index, example in enumerate(examples):
        text = example.get("output") if isinstance(example, Mapping) else None
        if not isinstance(text, str):
            continue
        line = manifest.line_of(["examples", index, "output"])
        try:
            document = assertions.parse_json(text)
        except (ValueError, RecursionError) as exc:
            result.add(
                EXAMPLE_NOT_JSON,
                f"example {index + 1}: output is not valid JSON ({str(exc)[:160]})",
                file=manifest.file,
                line=line,
            )
            continue
        problem = assertions.schema_problem(document, validator) if validator is not None else None
        if problem is not None:
            result.add(
                EXAMPLE_SCHEMA,
                f"example {index + 1}: output breaks output.schema at {problem}",
                file=manifest.file,
                line=line,
            )
    result.metrics["fewShotExamples"] = len(examples)


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Validate one prompt artifact: few-shot examples, then render every test case; evaluate the
    assertions of ``target: prompt`` cases on the rendering and defer the others to eval."""
    manifest = ctx.manifest(artifact)
    _check_examples(manifest, result)
    ast = _load_template(artifact, manifest, result)
    case_doc, cases = _load_cases(artifact, result)
    if ast is None:
        return
    rel = artifact.rel(artifact.root / TEMPLATE_FILE)
    limit = assertions.LIMITS.max_output_chars + 1
    renderer = _Renderer(limit)
    counter = _Counter(result)
    tally = dict.fromkeys(("pass", "fail", "invalid", "deferred", "unsupported"), 0)
    details: list[dict[str, Any]] = []
    rendered_ok = 0
    for index, case in cases:
        what = _describe(index, case)
        rendered = _render_case(ast, _context(manifest, case.get("vars") or {}), limit, what, rel, result)
        if rendered is None:
            continue
        rendered_ok += 1
        text, truncated = rendered
        _check_structure(manifest, what, text, counter, rel)
        details.append(
            _evaluate_case(artifact, case_doc, index, case, text, truncated, renderer, counter, tally)
        )
    counter.close()
    result.metrics.update(
        {
            "testCases": len(cases),
            "rendered": rendered_ok,
            "assertionsPassed": tally["pass"],
            "assertionsFailed": tally["fail"],
            "assertionsInvalid": tally["invalid"],
            "assertionsDeferred": tally["deferred"],
            "assertionsUnsupported": tally["unsupported"],
        }
    )
    result.details["testCases"] = json.loads(json.dumps(details, default=str))
