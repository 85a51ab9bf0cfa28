"""JSON Schema validation of artifact files, with one finding per error and YAML line numbers.

Schemas ship in ``genaiops/schemas/<name>.schema.json`` (JSON Schema Draft 2020-12). Compiled
validators are cached per process, so checking many artifacts costs one compile per schema.

    from genaiops import schemacheck
    schemacheck.check_document(doc, "prompt", result, PROMPT_SCHEMA_RULE)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from typing import TYPE_CHECKING, Any

import regress

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument

MAX_FINDINGS_PER_FILE = 50
"""A badly broken file reports this many schema errors, then one summary finding."""


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where (JSON path parts) and what."""

    path: tuple[str | int, ...]
    message: str
    validator: str

    @property
    def json_path(self) -> str:
        return json_path(self.path)


def json_path(parts: Iterable[str | int]) -> str:
    """``$.a.b[0]`` for ("a", "b", 0); keys that are not identifiers are quoted: ``$['a b']``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "a").replace("-", "a").isalnum():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def schema_names() -> list[str]:
    """The names of every shipped schema (file name without ``.schema.json``)."""
    folder = resources.files("genaiops") / "schemas"
    return sorted(
        p.name.removesuffix(".schema.json") for p in folder.iterdir() if p.name.endswith(".schema.json")
    )


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema ``genaiops/schemas/<name>.schema.json`` (KeyError if not shipped)."""
    resource = resources.files("genaiops") / "schemas" / f"{name}.schema.json"
    if not resource.is_file():
        raise KeyError(f"no schema named {name!r}; shipped: {', '.join(schema_names())}")
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


def is_ecma_regex(instance: object) -> bool:
    """Whether a string is an ECMA-262 regular expression (JSON Schema's and JavaScript's dialect).

    Python's ``re`` accepts constructs JavaScript rejects, such as inline flags ``(?m)`` and
    ``(?P<name>...)``: a pattern promptfoo (Node.js) evaluates must pass this check.
    """
    if not isinstance(instance, str):
        return True
    regress.Regex(instance)
    return True


@cache
def format_checker() -> FormatChecker:
    """Draft 2020-12 formats, with ``regex`` checked as ECMA-262 (regress) rather than Python ``re``."""
    from jsonschema import Draft202012Validator, FormatChecker  # ~0.1 s: only when a check needs it

    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("regex", raises=regress.RegressError)(is_ecma_regex)
    return checker


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled, cached Draft 2020-12 validator for the shipped schema ``name``."""
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=format_checker())


def _describe(error: ValidationError) -> str:
    """A short message: jsonschema's own, with huge instances elided."""
    message = error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return message


FAST_SCHEMAS = frozenset(
    {
        "catalog",
        "guardrail-policy",
        "guardrail-suite",
        "model-config",
        "prompt",
        "prompt-dataset",
        "prompt-test-cases",
        "rag",
    }
)
"""Schemas validated first by fastjsonschema (generated code, ~15x faster than jsonschema).

Only a *pass* is trusted from the fast path; any failure is re-checked by jsonschema, which gives
the findings. A schema joins this set only if fastjsonschema (draft-07 semantics) never accepts
what jsonschema (2020-12) rejects for it: no keywords beside ``$ref``, no 2020-12-only keywords
(tests/unit/test_schemacheck_fast.py checks this on mutated documents).
"""


def _ecma_regex_ok(instance: str) -> bool:
    try:
        return is_ecma_regex(instance)
    except regress.RegressError:
        return False


@cache
def _fast_validator(name: str) -> Callable[[Any], Any]:
    """fastjsonschema's validator for ``name``: generating it costs ~35 ms a schema, so the generated
    code is kept, compiled, in the validator cache (see genaiops.codecache) and only executed after."""
    import fastjsonschema  # only when a fast-path schema is first used

    from genaiops.codecache import cached_code

    schema = load_schema(name)

    def generate() -> str:
        return str(fastjsonschema.compile_to_code(schema, formats={"regex": _ecma_regex_ok}))

    key = json.dumps([fastjsonschema.VERSION, schema], sort_keys=True)
    code, entry = cached_code(f"schema-{name}", key, generate)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # code generated from our own shipped schema (never from input)
    return partial(namespace[entry], custom_formats={"regex": _ecma_regex_ok})


def compile_fast_validators() -> int:
    """Generate every fast-path validator into the code cache (the pipeline image does this at build time,
    so no step pays for it); returns how many."""
    for name in sorted(FAST_SCHEMAS):
        _fast_validator(name)
    return len(FAST_SCHEMAS)


def _fast_pass(data: Any, schema: str) -> bool:
    if schema not in FAST_SCHEMAS:
        return False
    try:
        _fast_validator(schema)(data)
    except Exception:  # invalid, or data fastjsonschema cannot handle: jsonschema decides
        return False
    return True


def errors(data: Any, schema: str) -> list[SchemaError]:
    """Every violation of ``schema`` by ``data``, sorted by location (deterministic order)."""
    if _fast_pass(data, schema):
        return []
    from jsonschema.exceptions import best_match

    found: list[SchemaError] = []
    for error in validator(schema).iter_errors(data):
        # For anyOf/oneOf, point at the most relevant sub-error rather than "is not valid under any".
        if error.context:
            error = best_match(error.context) or error
        found.append(SchemaError(tuple(error.absolute_path), _describe(error), str(error.validator)))
    found.sort(key=lambda e: ([str(p) for p in e.path], e.message))
    return found


def is_valid(data: Any, schema: str) -> bool:
    """Whether ``data`` conforms to ``schema`` (no findings produced)."""
    return _fast_pass(data, schema) or bool(validator(schema).is_valid(data))


def add_findings(
    found: list[SchemaError],
    schema: str,
    result: ArtifactResult,
    rule_id: str,
    *,
    file: str | None,
    doc: YamlDocument | None = None,
    prefix: Sequence[str | int] = (),
    hint: str | None = None,
) -> int:
    """Turn schema errors (from ``errors``) into findings, at most MAX_FINDINGS_PER_FILE of them."""
    for item in found[:MAX_FINDINGS_PER_FILE]:
        full = (*prefix, *item.path)
        line = doc.line_of(list(full)) if doc is not None else None
        result.add(
            rule_id,
            f"{json_path(full)}: {item.message}",
            file=file,
            line=line,
            hint=hint or f"See the {schema} schema (genaiops/schemas/{schema}.schema.json).",
        )
    if len(found) > MAX_FINDINGS_PER_FILE:
        result.add(rule_id, f"{len(found) - MAX_FINDINGS_PER_FILE} more schema errors not shown", file=file)
    return len(found)


def check_data(
    data: Any,
    schema: str,
    result: ArtifactResult,
    rule_id: str,
    *,
    file: str | None,
    doc: YamlDocument | None = None,
    prefix: Sequence[str | int] = (),
    hint: str | None = None,
) -> int:
    """Validate ``data`` and add one finding per error to ``result``; returns the error count.

    ``prefix`` is the location of ``data`` inside ``doc`` when only part of a document is
    validated, so line numbers still point at the right place.
    """
    return add_findings(
        errors(data, schema), schema, result, rule_id, file=file, doc=doc, prefix=prefix, hint=hint
    )


def check_document(
    doc: YamlDocument, schema: str, result: ArtifactResult, rule_id: str, hint: str | None = None
) -> int:
    """Validate a whole parsed YAML document; findings carry its file and line numbers."""
    return check_data(doc.data, schema, result, rule_id, file=doc.file, doc=doc, hint=hint)
