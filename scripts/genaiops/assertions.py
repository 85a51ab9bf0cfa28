"""Deterministic evaluation of promptfoo assertions, bounded against hostile input.

Validate runs it on rendered prompts, eval on model responses; both get the same semantics, which
follow promptfoo's documented ones (docs/validate.md has the table):

- ``equals``: the output is exactly the value; a mapping or list value compares as parsed JSON;
- ``contains`` / ``icontains``: the value is a substring (``i``: case-insensitive);
- ``contains-any`` / ``contains-all`` (and ``icontains-*``): a list, or a comma-separated string;
- ``starts-with``; ``regex`` (a search, no implicit anchors or flags);
- ``is-json``: the whole output parses as JSON; a value is a JSON Schema the document must match;
- ``contains-json``: some JSON object embedded in the output parses (and matches the schema value);
- ``word-count`` (a number, or ``{min, max}``), ``levenshtein`` (distance at most ``threshold``, 5);
- every type may be negated with ``not-``.

Types that need a model, a reference corpus or timing (``llm-rubric``, ``similar``, ``rouge-n``,
``latency`` ...) are *deferred*: recognised, never evaluated here and never counted as passed.
Types that execute code or need parsers genaiops does not ship (``javascript``, ``python``,
``is-xml``, ``is-sql`` ...) are *unsupported*. Unknown types and malformed values are *invalid*.

Limits: the output is cut at ``Limits.max_output_chars`` (``CaseResult.truncated`` says so), user
regexes run with a timeout and a bound on their compiled size, JSON extraction tries a bounded
number of candidates.

    case = evaluate_case([{"type": "contains", "value": "{{name}}"}], output, vars={"name": "Ada"},
                         render=my_sandboxed_renderer)
    case.passed, [a.status for a in case.assertions]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import regex
import yaml

Status = Literal["pass", "fail", "deferred", "unsupported", "invalid"]
Renderer = Callable[[str, Mapping[str, Any]], str]
"""Renders an assertion value template with the test's variables (promptfoo renders values)."""
FileLoader = Callable[[str], Any]
"""Loads a ``file://`` reference of an assertion value (resolved by the caller, inside the repo)."""

DETERMINISTIC: frozenset[str] = frozenset(
    {
        "equals",
        "contains",
        "icontains",
        "contains-any",
        "contains-all",
        "icontains-any",
        "icontains-all",
        "starts-with",
        "regex",
        "is-json",
        "contains-json",
        "word-count",
        "levenshtein",
    }
)
"""Types evaluated here (each also as ``not-<type>``)."""

DEFERRED: dict[str, str] = {
    **dict.fromkeys(
        (
            "llm-rubric",
            "model-graded-closedqa",
            "model-graded-factuality",
            "factuality",
            "g-eval",
            "answer-relevance",
            "context-faithfulness",
            "context-recall",
            "context-relevance",
            "select-best",
            "classifier",
            "moderation",
            "similar",
        ),
        "needs a model to grade the response",
    ),
    **dict.fromkeys(("rouge-n", "bleu", "meteor", "f-score"), "compares a model response with a reference"),
    **dict.fromkeys(
        ("latency", "cost", "perplexity", "perplexity-score", "finish-reason"), "measures a real model call"
    ),
    **dict.fromkeys(
        (
            "is-valid-openai-tools-call",
            "is-valid-openai-function-call",
            "is-valid-function-call",
            "tool-call-f1",
        ),
        "needs the model's tool calls",
    ),
}
"""Types recognised and left to the eval stage, with why."""

UNSUPPORTED: dict[str, str] = {
    **dict.fromkeys(
        ("javascript", "python", "ruby", "webhook"),
        "runs arbitrary code or calls a service; genaiops does not execute it",
    ),
    **dict.fromkeys(
        ("is-xml", "contains-xml", "is-html", "contains-html", "is-sql", "contains-sql"),
        "needs a parser genaiops does not ship; run it with promptfoo",
    ),
    "assert-set": "groups of assertions are not evaluated by genaiops; list the assertions directly",
    "human": "needs a human rating",
}
"""Types recognised but never evaluated by genaiops, with why."""


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one assertion may cause."""

    max_output_chars: int = 100_000
    """Longer outputs are truncated before evaluation (and the case says ``truncated``)."""
    regex_timeout_s: float = 0.5
    """Wall-clock budget of one regex search (catastrophic backtracking ends here)."""
    max_pattern_chars: int = 2_000
    max_pattern_cost: int = 100_000
    """Upper bound on a pattern's size with counted repeats expanded (``(a{1000}){1000}`` is 10^6)."""
    max_json_candidates: int = 256
    """``contains-json`` tries at most this many ``{`` positions."""
    max_levenshtein_cells: int = 4_000_000


LIMITS = Limits()


@dataclass(frozen=True)
class AssertionResult:
    """The outcome of one assertion."""

    index: int
    type: str
    status: Status
    reason: str
    weight: float = 1.0
    metric: str | None = None

    @property
    def score(self) -> float | None:
        """1.0 pass, 0.0 fail, None when not evaluated."""
        return {"pass": 1.0, "fail": 0.0}.get(self.status)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "weight": self.weight,
            "metric": self.metric,
        }


@dataclass
class CaseResult:
    """All assertions of one test case on one output."""

    assertions: list[AssertionResult] = field(default_factory=list)
    truncated: bool = False
    output_chars: int = 0
    threshold: float | None = None

    def _with(self, *statuses: Status) -> list[AssertionResult]:
        return [a for a in self.assertions if a.status in statuses]

    @property
    def evaluated(self) -> list[AssertionResult]:
        return self._with("pass", "fail")

    @property
    def deferred(self) -> list[AssertionResult]:
        return self._with("deferred")

    @property
    def unsupported(self) -> list[AssertionResult]:
        return self._with("unsupported")

    @property
    def invalid(self) -> list[AssertionResult]:
        return self._with("invalid")

    @property
    def failed(self) -> list[AssertionResult]:
        return self._with("fail")

    @property
    def score(self) -> float | None:
        """Weighted mean score of the evaluated assertions (promptfoo's test score), None if none."""
        evaluated = self.evaluated
        total = sum(a.weight for a in evaluated)
        if not evaluated or total == 0:
            return None
        return sum((a.score or 0.0) * a.weight for a in evaluated) / total

    @property
    def passed(self) -> bool | None:
        """False on any invalid assertion; with a threshold the score decides, else every evaluated
        assertion must pass; None when nothing was evaluated."""
        if self.invalid:
            return False
        if not self.evaluated:
            return None
        if self.threshold is not None:
            score = self.score
            return score is not None and score >= self.threshold
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "score": self.score,
            "truncated": self.truncated,
            "outputChars": self.output_chars,
            "assertions": [a.to_json() for a in self.assertions],
        }


class InvalidAssertion(Exception):
    """The assertion itself is malformed (bad value, bad regex, schema error, too costly)."""


def js_string(value: Any) -> str:
    """``String(value)`` as JavaScript (promptfoo) would write a YAML scalar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _excerpt(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else js_string(value)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """Strict JSON (no NaN/Infinity, as JSON.parse); ValueError if it does not parse."""
    return json.loads(text, parse_constant=_reject_constant)


def schema_validator(schema: Any) -> Any:
    if not isinstance(schema, dict):
        raise InvalidAssertion(f"the JSON schema must be a mapping, got {type(schema).__name__}")
    from jsonschema import Draft7Validator, SchemaError, validators  # on first use: ~0.1 s to import

    cls = validators.validator_for(schema, default=Draft7Validator)  # ajv's default draft, as promptfoo
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise InvalidAssertion(f"the JSON schema is invalid: {exc.message}") from None
    return cls(schema)


def _resolve_schema(value: Any, load_file: FileLoader | None) -> Any:
    """A schema given inline, as a JSON/YAML string, or as ``file://path``."""
    if isinstance(value, str):
        if value.startswith("file://"):
            if load_file is None:
                raise InvalidAssertion(f"cannot load {value}: file references are not available here")
            return load_file(value.removeprefix("file://"))
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise InvalidAssertion(f"the schema string does not parse: {exc}") from None
    return value


def schema_problem(document: Any, validator: Any) -> str | None:
    error = next(iter(validator.iter_errors(document)), None)
    if error is None:
        return None
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where}: {message}"


def pattern_cost(pattern: str) -> int:
    """The pattern's size with counted repeats (``{n}``, ``{n,m}``, ``{n,}``) multiplied out.

    A conservative estimate used to refuse patterns whose compiled form would be huge; character
    classes and escapes count as one atom.
    """
    stack: list[int] = [0]
    last = 0  # cost of the previous atom or group, which a quantifier multiplies
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            last = 1
            stack[-1] += 1
            continue
        if ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            last = 1
            stack[-1] += 1
            continue
        if ch == "(":
            stack.append(0)
            i += 1
            continue
        if ch == ")":
            inner = stack.pop() if len(stack) > 1 else 0
            last = max(inner, 1)
            stack[-1] += last
            i += 1
            continue
        if ch == "{":
            match = regex.match(r"\{(\d*)(?:,(\d*))?\}", pattern[i:])
            if match and (match.group(1) or match.group(2)):
                bounds = [int(g) for g in match.groups() if g]
                times = max(bounds)
                stack[-1] += last * (times - 1) if times > 0 else -last
                i += match.end()
                continue
        last = 1
        stack[-1] += 1
        i += 1
    return sum(stack)


def _search(pattern: Any, output: str, limits: Limits) -> bool:
    if not isinstance(pattern, str) or not pattern:
        raise InvalidAssertion("regex needs a non-empty pattern string")
    if len(pattern) > limits.max_pattern_chars:
        raise InvalidAssertion(
            f"the regex is {len(pattern)} characters long (limit {limits.max_pattern_chars})"
        )
    cost = pattern_cost(pattern)
    if cost > limits.max_pattern_cost:
        raise InvalidAssertion(
            f"the regex expands to about {cost} atoms through counted repeats "
            f"(limit {limits.max_pattern_cost}); simplify the repetition counts"
        )
    try:
        compiled = regex.compile(pattern, regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise InvalidAssertion(f"the regex does not compile: {exc}") from None
    try:
        return compiled.search(output, timeout=limits.regex_timeout_s) is not None
    except TimeoutError:
        raise InvalidAssertion(
            f"the regex {_excerpt(pattern)} ran longer than {limits.regex_timeout_s} s "
            "(catastrophic backtracking?); rewrite it without nested quantifiers"
        ) from None


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, list):
        items = [js_string(v) for v in value]
    else:
        raise InvalidAssertion("the value must be a list of strings (or a comma-separated string)")
    items = [i for i in items if i]
    if not items:
        raise InvalidAssertion("the value lists no strings")
    return items


def _json_objects(output: str, limits: Limits) -> list[Any]:
    """JSON objects embedded in ``output``, left to right (promptfoo's extractJsonObjects)."""
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    found: list[Any] = []
    tried = 0
    position = output.find("{")
    while position != -1 and tried < limits.max_json_candidates:
        tried += 1
        try:
            obj, end = decoder.raw_decode(output, position)
        except (ValueError, RecursionError):
            position = output.find("{", position + 1)
            continue
        found.append(obj)
        position = output.find("{", end)
    return found


def _levenshtein(a: str, b: str, limits: Limits) -> int:
    if len(a) * len(b) > limits.max_levenshtein_cells:
        raise InvalidAssertion(f"levenshtein on {len(a)} x {len(b)} characters exceeds the comparison budget")
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _check(
    base: str,
    value: Any,
    output: str,
    assertion: Mapping[str, Any],
    limits: Limits,
    load_file: FileLoader | None,
) -> tuple[bool, str]:
    """(passed, reason) of the positive form of ``base``."""
    if base == "equals":
        if isinstance(value, (dict, list)):
            try:
                return parse_json(output) == value, "output parsed as JSON compared with the value"
            except ValueError:
                return False, "the value is structured but the output is not JSON"
        expected = js_string(value)
        return (
            output == expected,
            f"output {'equals' if output == expected else 'differs from'} {_excerpt(expected)}",
        )
    if base in ("contains", "icontains"):
        if value is None:
            raise InvalidAssertion(f"{base} needs a value")
        needle = js_string(value)
        hay, probe = (output.lower(), needle.lower()) if base == "icontains" else (output, needle)
        found = probe in hay
        return found, f"{_excerpt(needle)} {'found' if found else 'not found'} in the output"
    if base in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
        needles = _string_list(value)
        hay = output.lower() if base.startswith("i") else output
        hits = [n for n in needles if (n.lower() if base.startswith("i") else n) in hay]
        if base.endswith("-any"):
            return bool(hits), f"found {hits[:5]}" if hits else f"none of {needles[:10]} found"
        missing = [n for n in needles if n not in hits]
        return not missing, "all found" if not missing else f"missing {missing[:10]}"
    if base == "starts-with":
        if value is None:
            raise InvalidAssertion("starts-with needs a value")
        prefix = js_string(value)
        ok = output.startswith(prefix)
        return ok, f"output {'starts' if ok else 'does not start'} with {_excerpt(prefix)}"
    if base == "regex":
        hit = _search(value, output, limits)
        return hit, f"pattern {_excerpt(value)} {'matches' if hit else 'does not match'}"
    if base == "is-json":
        validator = schema_validator(_resolve_schema(value, load_file)) if value is not None else None
        try:
            document = parse_json(output)
        except (ValueError, RecursionError) as exc:
            return False, f"output is not valid JSON: {str(exc)[:120]}"
        problem = schema_problem(document, validator) if validator is not None else None
        return (
            problem is None,
            "output is valid JSON" if problem is None else f"JSON breaks the schema: {problem}",
        )
    if base == "contains-json":
        validator = schema_validator(_resolve_schema(value, load_file)) if value is not None else None
        objects = _json_objects(output, limits)
        if not objects:
            return False, "no JSON object found in the output"
        if validator is None:
            return True, f"{len(objects)} JSON object(s) found"
        problems = [schema_problem(o, validator) for o in objects]
        ok = any(p is None for p in problems)
        return (
            ok,
            "a JSON object matches the schema" if ok else f"no JSON object matches the schema: {problems[0]}",
        )
    if base == "word-count":
        words = len(output.split())
        if isinstance(value, dict):
            low, high = value.get("min"), value.get("max")
            if not all(
                b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in (low, high)
            ) or (low is None and high is None):
                raise InvalidAssertion("word-count needs a number or {min, max} integers")
            ok = (low is None or words >= low) and (high is None or words <= high)
            expected = f"{low if low is not None else 0}..{high if high is not None else 'any'}"
            return ok, f"{words} words (expected {expected})"
        if isinstance(value, int) and not isinstance(value, bool):
            return words == value, f"{words} words (expected {value})"
        raise InvalidAssertion("word-count needs a number or {min, max} integers")
    if base == "levenshtein":
        if not isinstance(value, str):
            raise InvalidAssertion("levenshtein needs a string value")
        limit = assertion.get("threshold", 5)
        if not isinstance(limit, (int, float)) or isinstance(limit, bool):
            raise InvalidAssertion("levenshtein threshold must be a number")
        distance = _levenshtein(output, value, limits)
        return distance <= limit, f"edit distance {distance} (at most {limit})"
    raise InvalidAssertion(f"no evaluator for {base}")  # pragma: no cover - DETERMINISTIC and _check agree


def _render_value(value: Any, vars: Mapping[str, Any], render: Renderer | None) -> Any:
    if render is None:
        return value
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return render(value, vars)
    if isinstance(value, list):
        return [_render_value(v, vars, render) for v in value]
    return value


def evaluate_assertion(
    assertion: Any,
    output: str,
    *,
    vars: Mapping[str, Any] | None = None,
    index: int = 0,
    limits: Limits = LIMITS,
    render: Renderer | None = None,
    load_file: FileLoader | None = None,
) -> AssertionResult:
    """Evaluate one promptfoo assertion on ``output`` (already truncated by the caller if needed)."""
    if not isinstance(assertion, Mapping):
        return AssertionResult(index, "?", "invalid", "an assertion must be a mapping with a `type`")
    raw_type = assertion.get("type")
    weight_raw = assertion.get("weight", 1.0)
    weight = (
        float(weight_raw)
        if isinstance(weight_raw, (int, float)) and not isinstance(weight_raw, bool) and weight_raw >= 0
        else 1.0
    )
    metric = assertion.get("metric") if isinstance(assertion.get("metric"), str) else None
    if not isinstance(raw_type, str) or not raw_type:
        return AssertionResult(index, "?", "invalid", "the assertion has no `type`", weight, metric)
    negate = raw_type.startswith("not-")
    base = raw_type[4:] if negate else raw_type
    if base in DEFERRED:
        return AssertionResult(
            index, raw_type, "deferred", f"deferred to eval: {DEFERRED[base]}", weight, metric
        )
    if base in UNSUPPORTED:
        return AssertionResult(
            index, raw_type, "unsupported", f"not evaluated: {UNSUPPORTED[base]}", weight, metric
        )
    if base not in DETERMINISTIC:
        return AssertionResult(
            index, raw_type, "invalid", f"unknown assertion type {raw_type!r}", weight, metric
        )
    if "transform" in assertion:
        return AssertionResult(
            index,
            raw_type,
            "unsupported",
            "not evaluated: `transform` runs JavaScript, which genaiops does not execute",
            weight,
            metric,
        )
    try:
        value = _render_value(assertion.get("value"), vars or {}, render)
    except Exception as exc:  # the value's template is user content: its failure is the assertion's
        return AssertionResult(
            index,
            raw_type,
            "invalid",
            f"the value does not render: {type(exc).__name__}: {str(exc)[:200]}",
            weight,
            metric,
        )
    try:
        passed, reason = _check(base, value, output, assertion, limits, load_file)
    except InvalidAssertion as exc:
        return AssertionResult(index, raw_type, "invalid", str(exc), weight, metric)
    if negate:
        passed, reason = not passed, f"negated: {reason}"
    return AssertionResult(index, raw_type, "pass" if passed else "fail", reason, weight, metric)


def evaluate_case(
    assertions: Sequence[Any],
    output: str,
    *,
    vars: Mapping[str, Any] | None = None,
    threshold: float | None = None,
    limits: Limits = LIMITS,
    render: Renderer | None = None,
    load_file: FileLoader | None = None,
) -> CaseResult:
    """Evaluate every assertion of a test case on ``output``, truncating huge outputs first."""
    truncated = len(output) > limits.max_output_chars
    subject = output[: limits.max_output_chars] if truncated else output
    case = CaseResult(truncated=truncated, output_chars=len(output), threshold=threshold)
    for index, assertion in enumerate(assertions):
        case.assertions.append(
            evaluate_assertion(
                assertion, subject, vars=vars, index=index, limits=limits, render=render, load_file=load_file
            )
        )
    return case
