"""Lint of prompt artifacts: metadata, template, variables, test cases, dataset, context window.

Checks (rule ids in docs/rules.md; format in docs/artifacts/prompts.md):
- ``prompt/schema``: prompt.yaml matches its schema; ``variables`` and ``output.schema`` are valid
  JSON Schemas;
- ``prompt/unbounded-variable``: every string variable has maxLength and every array maxItems;
- ``prompt/template-syntax``: template.j2 parses;
- ``prompt/non-portable-syntax``, ``prompt/unsafe-template``, ``prompt/undefined-reference``: the
  template stays in the portable subset, never reaches for Python internals, and reads only
  declared fields;
- ``prompt/undeclared-variable`` / ``prompt/unused-variable``: used and declared variables agree;
- ``prompt/test-cases-schema``, ``prompt/test-case-vars``: test_cases.yaml is promptfoo test cases
  whose vars fit the variables schema; ``prompt/dataset-schema``: the same for eval records;
- ``prompt/unknown-model-config``: the targeted model config exists;
- ``prompt/context-overflow``: the prompt rendered with maximum-length values fits the model's
  context window minus max_tokens (counted offline with the catalog's tokenizer);
  ``prompt/render-error`` when that render fails, ``prompt/context-unchecked`` (warning) when the
  check could not run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateSyntaxError, nodes

from genaiops import rules, schemacheck, templating, tokens
from genaiops.catalog import load_catalog
from genaiops.discovery import Artifact
from genaiops.errors import ArtifactError
from genaiops.kinds import ARTIFACT_ID_PATTERN, BY_NAME
from genaiops.lint import worstcase
from genaiops.safeio import iter_jsonl, load_yaml, read_text

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument
    from genaiops.stages.runner import StageContext

TEMPLATE_FILE = "template.j2"
TEST_CASES_FILE = "test_cases.yaml"
DEFAULT_DATASET = "eval/dataset.jsonl"
DATASET_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.jsonl\Z")
"""Dataset paths are relative, plain ASCII and inside the artifact (the schema says the same)."""
DOCS = "docs/artifacts/prompts.md"

SCHEMA = rules.rule(
    "prompt/schema",
    "lint",
    "prompt.yaml breaks its schema, or its `variables` / `output.schema` is not a valid JSON Schema.",
    f"See {DOCS} for every key.",
)
UNBOUNDED = rules.rule(
    "prompt/unbounded-variable",
    "lint",
    "A string variable has no maxLength (or an array no maxItems), so the prompt's maximum "
    "length is unknown.",
    "Add maxLength (at most 1,000,000) to strings and maxItems (at most 1,000) to arrays.",
)
SYNTAX = rules.rule(
    "prompt/template-syntax",
    "lint",
    "template.j2 is not valid Jinja2.",
    "Fix the tag or expression at the reported line.",
)
NON_PORTABLE = rules.rule(
    "prompt/non-portable-syntax",
    "lint",
    "The template uses Jinja2 features outside the portable subset (macros, includes, "
    "calls, blocks, * and ** operators, filters or tests other engines lack).",
    f"Rewrite with the constructs listed in {DOCS} (section Template subset).",
)
UNSAFE = rules.rule(
    "prompt/unsafe-template",
    "lint",
    "The template reaches for Python internals (underscore attributes such as __class__).",
    "Templates only read the declared variables; remove the expression.",
)
UNDEFINED_REF = rules.rule(
    "prompt/undefined-reference",
    "lint",
    "The template reads a field its variables schema does not declare, or `loop` outside a for loop.",
    "Declare the field in the variable's `properties` or fix the name.",
)
UNDECLARED = rules.rule(
    "prompt/undeclared-variable",
    "lint",
    "The template uses a variable that prompt.yaml does not declare under variables.properties.",
    "Declare it (with a type and maxLength) or fix its spelling in the template.",
)
UNUSED = rules.rule(
    "prompt/unused-variable",
    "lint",
    "prompt.yaml declares a variable that the template never uses.",
    "Remove the declaration or use the variable in template.j2.",
)
TEST_CASES_SCHEMA = rules.rule(
    "prompt/test-cases-schema",
    "lint",
    "test_cases.yaml is not a list of promptfoo test cases "
    "(description, vars, assert: [{type, value, threshold, weight, metric}], metadata).",
    f"See {DOCS} (section Test cases) and promptfoo's assertion types.",
)
TEST_CASE_VARS = rules.rule(
    "prompt/test-case-vars",
    "lint",
    "A test case's vars do not match the variables schema (missing, extra, too long, wrong type).",
    "Make the vars fit prompt.yaml's variables schema.",
)
DATASET_SCHEMA = rules.rule(
    "prompt/dataset-schema",
    "lint",
    "An eval dataset record is not {id, vars, expected[, category, metadata]} or its vars "
    "do not match the variables schema, or two records share an id.",
    f"See {DOCS} (section Eval dataset).",
)
UNKNOWN_MODEL_CONFIG = rules.rule(
    "prompt/unknown-model-config",
    "lint",
    "model_config names no model-config artifact in artifacts/model-configs/.",
    "Point model_config at an existing model config id, or add that artifact.",
)
CONTEXT_OVERFLOW = rules.rule(
    "prompt/context-overflow",
    "lint",
    "Rendered with maximum-length values, the prompt does not fit the target model's "
    "context window minus max_tokens.",
    "Lower the variables' maxLength, shorten the template, or target a larger model.",
)
RENDER_ERROR = rules.rule(
    "prompt/render-error",
    "lint",
    "The template fails to render with maximum-length values of the declared variables.",
    "Check filters and loops against the variables' types.",
)
CONTEXT_UNCHECKED = rules.rule(
    "prompt/context-unchecked",
    "lint",
    "The context-window check could not run (the model config or its model is "
    "unusable, or the render is too large to measure) - a warning.",
    "Fix the model config the prompt targets; its own lint says what is wrong.",
)


def _local_refs(
    schema: Any, root: Mapping[str, Any], path: list[str | int]
) -> Iterator[tuple[list[str | int], str]]:
    """(path, ref) of every ``$ref`` in ``schema`` that names no entry of the root's ``$defs``."""
    if isinstance(schema, Mapping):
        ref = schema.get("$ref")
        defs = root.get("$defs")
        if isinstance(ref, str) and not (isinstance(defs, Mapping) and ref.removeprefix("#/$defs/") in defs):
            yield [*path, "$ref"], ref
        for key, value in schema.items():
            yield from _local_refs(value, root, [*path, str(key)])
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _local_refs(value, root, [*path, index])


def _sub_schema_ok(
    doc: YamlDocument, path: list[str | int], problems: list[schemacheck.SchemaError], result: ArtifactResult
) -> bool:
    """Whether the JSON Schema at ``path`` of the manifest passed the schema and its $refs resolve."""
    if any(list(p.path[: len(path)]) == path for p in problems):
        return False
    node: Any = doc.data
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return False
    dangling = list(_local_refs(node, node, path))
    for where, ref in dangling:
        result.add(
            SCHEMA,
            f"{schemacheck.json_path(where)}: {ref!r} names no entry of this schema's $defs",
            file=doc.file,
            line=doc.line_of(where),
        )
    return not dangling


def _variables(doc: YamlDocument, usable: bool) -> tuple[dict[str, Any], Draft202012Validator | None]:
    """Declared variables (name -> schema) and a validator for a vars mapping, if the schema is usable."""
    raw = doc.data.get("variables")
    if not isinstance(raw, Mapping):
        return {}, None
    props = raw.get("properties")
    declared = {str(k): v for k, v in props.items()} if isinstance(props, Mapping) else {}
    if not usable:
        return declared, None
    from jsonschema import Draft202012Validator  # on first use: ~0.1 s to import

    return declared, Draft202012Validator(raw)


def _vars_errors(validator: Draft202012Validator | None, values: Any) -> list[str]:
    if validator is None or not isinstance(values, Mapping):
        return []
    try:
        found = sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path])
    except re.error as exc:  # an ECMA-262 `pattern` that Python's re cannot evaluate
        return [f"a variables `pattern` cannot be evaluated here ({exc}); the values were not checked"]
    return [f"{schemacheck.json_path(e.absolute_path)}: {e.message[:300]}" for e in found]


def _test_cases(
    artifact: Artifact, validator: Draft202012Validator | None, result: ArtifactResult
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Check test_cases.yaml; returns (vars of every case, vars of the cases that are valid).

    All vars are fixture values for the length check; only valid cases are rendered (an invalid
    one already has its finding, and rendering it would only repeat it).
    """
    doc = load_yaml(artifact.root / TEST_CASES_FILE, artifact.repo)
    if schemacheck.check_document(doc, "prompt-test-cases", result, TEST_CASES_SCHEMA):
        cases = doc.data if isinstance(doc.data, list) else []
        return [c["vars"] for c in cases if isinstance(c, Mapping) and isinstance(c.get("vars"), Mapping)], []
    fixtures, valid = [], []
    for index, case in enumerate(doc.data):
        problems = _vars_errors(validator, case["vars"])
        for message in problems:
            result.add(
                TEST_CASE_VARS,
                f"test case {index + 1} ({case['description']!r}) vars: {message}",
                file=doc.file,
                line=doc.line_of([index, "vars"]),
            )
        fixtures.append(case["vars"])
        if not problems:
            valid.append(case["vars"])
    return fixtures, valid


def _dataset(
    artifact: Artifact, manifest: YamlDocument, validator: Draft202012Validator | None, result: ArtifactResult
) -> list[Mapping[str, Any]]:
    """Check the eval dataset records; returns their vars (fixtures for the length check)."""
    eval_section = manifest.data.get("eval")
    name = (
        eval_section.get("dataset", DEFAULT_DATASET) if isinstance(eval_section, Mapping) else DEFAULT_DATASET
    )
    if not isinstance(name, str) or not DATASET_PATH.match(name) or ".." in name.split("/"):
        return []  # the schema finding covers it; never build a path from it
    path = artifact.root / name
    rel = artifact.rel(path)
    fixtures: list[Mapping[str, Any]] = []
    seen: dict[str, int] = {}
    reported = 0
    for line, record in iter_jsonl(path, artifact.repo):
        problems = [f"{e.json_path}: {e.message}" for e in schemacheck.errors(record, "prompt-dataset")]
        if not problems:
            problems = [f"vars {m}" for m in _vars_errors(validator, record["vars"])]
            if record["id"] in seen:
                problems.append(f"id {record['id']!r} repeats line {seen[record['id']]}")
            seen.setdefault(record["id"], line)
            fixtures.append(record["vars"])
        for message in problems:
            reported += 1
            if reported <= schemacheck.MAX_FINDINGS_PER_FILE:
                result.add(DATASET_SCHEMA, f"record on line {line}: {message}", file=rel, line=line)
    if reported > schemacheck.MAX_FINDINGS_PER_FILE:
        result.add(
            DATASET_SCHEMA,
            f"{reported - schemacheck.MAX_FINDINGS_PER_FILE} more dataset problems not shown",
            file=rel,
        )
    result.metrics["datasetRecords"] = len(fixtures)
    return fixtures


def _first_line(ast: nodes.Template, name: str) -> int | None:
    return next((n.lineno for n in ast.find_all(nodes.Name) if n.name == name), None)


def _template(
    artifact: Artifact, manifest: YamlDocument, declared: dict[str, Any], result: ArtifactResult
) -> nodes.Template | None:
    """Parse and analyse template.j2; returns the AST when it is safe to render."""
    path = artifact.root / TEMPLATE_FILE
    rel = artifact.rel(path)
    source = read_text(path, artifact.repo)
    try:
        ast = templating.parse(source)
    except TemplateSyntaxError as exc:
        result.add(SYNTAX, f"{exc.message}", file=rel, line=exc.lineno)
        return None
    analysis = templating.analyze(ast, declared)
    by_kind = {"non-portable": NON_PORTABLE, "unsafe": UNSAFE, "undefined-reference": UNDEFINED_REF}
    for issue in analysis.issues:
        result.add(by_kind[issue.kind], f"{issue.message}", file=rel, line=issue.line)
    provided = templating.PROVIDED_NAMES if manifest.data.get("examples") else frozenset()
    undeclared = sorted(analysis.used - set(declared) - provided)
    for name in undeclared:
        result.add(
            UNDECLARED,
            f"variable {name!r} is used but not declared in prompt.yaml",
            file=rel,
            line=_first_line(ast, name),
        )
    for name in sorted(set(declared) - analysis.used):
        result.add(
            UNUSED,
            f"variable {name!r} is declared but {TEMPLATE_FILE} never uses it",
            file=manifest.file,
            line=manifest.line_of(["variables", "properties", name]),
        )
    result.metrics["variables"] = len(declared)
    return ast if not analysis.issues and not undeclared else None


def _target(
    artifact: Artifact, manifest: YamlDocument, ctx: StageContext, result: ArtifactResult
) -> tuple[str, int, int] | None:
    """(tokenizer, context window, max_tokens) of the targeted model config, or None (with a finding)."""
    target_id = manifest.data.get("model_config")
    if not isinstance(target_id, str) or not ARTIFACT_ID_PATTERN.match(target_id):
        return None  # the schema finding covers it
    target = Artifact(BY_NAME["model-config"], target_id, artifact.repo)

    def line() -> int | None:  # only when there is a finding: the node tree is composed on demand
        return manifest.line_of(["model_config"])

    if not target.manifest_path.is_file():
        result.add(
            UNKNOWN_MODEL_CONFIG,
            f"model_config {target_id!r}: there is no {target.relpath}/{target.kind.manifest}",
            file=manifest.file,
            line=line(),
        )
        return None
    try:
        config = ctx.manifest(target).data
    except ArtifactError as exc:
        result.add(
            CONTEXT_UNCHECKED,
            f"context window not checked: model config {target_id!r} is unreadable ({exc.message})",
            severity="warning",
            file=manifest.file,
            line=line(),
        )
        return None
    model_name = config.get("model_name") if isinstance(config, Mapping) else None
    max_tokens = config.get("max_tokens") if isinstance(config, Mapping) else None
    entry = load_catalog(artifact.repo).get(model_name)
    if entry is None or not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        result.add(
            CONTEXT_UNCHECKED,
            f"context window not checked: model config {target_id!r} has no usable "
            f"model_name/max_tokens (model {model_name!r})",
            severity="warning",
            file=manifest.file,
            line=line(),
        )
        return None
    return entry.tokenizer, entry.context_window, max_tokens


def _render(
    ast: nodes.Template, context: dict[str, Any], limit: int, what: str, rel: str, result: ArtifactResult
) -> tuple[str, bool] | None:
    """Render in the sandbox; a failure becomes a finding and None."""
    outcome = templating.try_render(ast, context, limit)
    if not isinstance(outcome, templating.RenderProblem):
        return outcome
    rule_id, message = {
        "unsafe": (UNSAFE, f"the sandbox refused while rendering {what}: {outcome.message}"),
        "undefined": (UNDEFINED_REF, f"rendering {what}: {outcome.message}"),
        "limit": (RENDER_ERROR, f"rendering {what} stopped: {outcome.message}"),
        "error": (RENDER_ERROR, f"rendering {what} failed: {outcome.message}"),
    }[outcome.kind]
    result.add(rule_id, message, file=rel)
    return None


def _with_examples(manifest: YamlDocument, values: Mapping[str, Any]) -> dict[str, Any]:
    context = dict(values)
    examples = manifest.data.get("examples")
    if isinstance(examples, list):
        context["examples"] = examples
    return context


def _check_test_renders(
    ast: nodes.Template,
    manifest: YamlDocument,
    cases: list[Mapping[str, Any]],
    rel: str,
    result: ArtifactResult,
) -> list[str]:
    """Render every test case (a missing optional variable must be guarded with `is defined`).

    Returns the rendered prompts: the length check measures them too, since a branch only a
    test case's values select may be longer than the worst-case values' rendering.
    """
    texts = []
    for index, values in enumerate(cases):
        rendered = _render(
            ast,
            _with_examples(manifest, values),
            worstcase.MAX_TOTAL_CHARS,
            f"test case {index + 1}",
            rel,
            result,
        )
        if rendered is not None:
            texts.append(rendered[0])
    return texts


def _check_context(
    ast: nodes.Template,
    manifest: YamlDocument,
    declared: dict[str, Any],
    fixtures: list[Mapping[str, Any]],
    case_texts: list[str],
    target: tuple[str, int, int],
    rel: str,
    result: ArtifactResult,
) -> None:
    """The longest prompt (worst-case values, or a test case) fits the context window minus max_tokens."""
    tokenizer, window, max_tokens = target
    budget = window - max_tokens
    values, cut_short = worstcase.worst_context(declared, fixtures)
    rendered = _render(
        ast,
        _with_examples(manifest, values),
        worstcase.MAX_TOTAL_CHARS + 2_000_000,
        "with maximum-length values",
        rel,
        result,
    )
    if rendered is None:
        return
    text, truncated = rendered
    count = tokens.count_within(text, tokenizer, budget)
    source = "with maximum-length values"
    for index, case_text in enumerate(case_texts):
        case_count = tokens.count_within(case_text, tokenizer, budget)
        if case_count.tokens > count.tokens:  # an overflowing count is exact, so the maximum decides
            count, text, truncated = case_count, case_text, False
            source = f"with test case {index + 1}"
    result.metrics.update(
        {
            "maxPromptTokens": count.tokens,
            "tokenCount": count.method,
            "tokenBudget": budget,
            "renderedChars": len(text),
        }
    )
    if count.tokens > budget:
        at_least = "at least " if truncated else ""
        result.add(
            CONTEXT_OVERFLOW,
            f"{source}, the prompt is {at_least}{count.tokens} tokens ({tokenizer}, "
            f"{count.method}), over the budget of {budget} (context window {window} - max_tokens "
            f"{max_tokens})",
            file=manifest.file,
            line=manifest.line_of(["variables"]),
        )
    elif truncated or cut_short:
        result.add(
            CONTEXT_UNCHECKED,
            "context window not fully checked: the worst-case prompt is larger than genaiops renders",
            severity="warning",
            file=manifest.file,
        )


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Lint one prompt artifact."""
    manifest = ctx.manifest(artifact)
    problems = schemacheck.errors(manifest.data, artifact.kind.schema)
    schemacheck.add_findings(problems, artifact.kind.schema, result, SCHEMA, file=manifest.file, doc=manifest)
    declared, validator = _variables(manifest, _sub_schema_ok(manifest, ["variables"], problems, result))
    if isinstance(manifest.data.get("output"), Mapping) and "schema" in manifest.data["output"]:
        _sub_schema_ok(manifest, ["output", "schema"], problems, result)
    for path in worstcase.unbounded(declared):
        name = path.split(".", 1)[0].split("[", 1)[0]
        result.add(
            UNBOUNDED,
            f"variable {path}: its maximum length is unknown",
            file=manifest.file,
            line=manifest.line_of(["variables", "properties", name]),
        )
    ast = _template(artifact, manifest, declared, result)
    fixtures, cases = _test_cases(artifact, validator, result)
    fixtures += _dataset(artifact, manifest, validator, result)
    target = _target(artifact, manifest, ctx, result)
    rel = artifact.rel(artifact.root / TEMPLATE_FILE)
    if ast is not None:
        case_texts = _check_test_renders(ast, manifest, cases, rel, result)
        if target is not None:
            _check_context(ast, manifest, declared, fixtures, case_texts, target, rel, result)
