"""Prompt templates: a sandboxed Jinja2 environment and the portable subset prompts may use.

Prompt templates are rendered by genaiops (Jinja2), by promptfoo (Nunjucks) and by Rust services
(MiniJinja). ``analyze`` walks the parsed template and reports everything outside the subset all
three render the same way (docs/artifacts/prompts.md lists it), every attempt to reach Python
internals, and references to fields the variables' JSON Schema does not declare.

Rendering always happens in ``jinja2.sandbox.SandboxedEnvironment`` with ``StrictUndefined``, and
only after ``analyze`` found nothing unsafe.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

PORTABLE_FILTERS = frozenset(
    {
        "abs",
        "batch",
        "capitalize",
        "d",
        "default",
        "dictsort",
        "first",
        "float",
        "indent",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "reject",
        "rejectattr",
        "replace",
        "reverse",
        "round",
        "select",
        "selectattr",
        "slice",
        "sort",
        "string",
        "sum",
        "title",
        "trim",
        "truncate",
        "upper",
    }
)
"""Filters that Jinja2, Nunjucks and MiniJinja all provide with the same meaning."""
PORTABLE_TESTS = frozenset(
    {
        "defined",
        "undefined",
        "divisibleby",
        "even",
        "odd",
        "number",
        "string",
        "mapping",
        "iterable",
        "equalto",
    }
)
LOOP_ATTRIBUTES = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length"})
PROVIDED_NAMES = frozenset({"examples"})
"""Names the renderer provides besides the declared variables (prompt.yaml ``examples``)."""

_NON_PORTABLE_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro definitions",
    nodes.CallBlock: "call blocks",
    nodes.Call: "function or method calls",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from-import",
    nodes.Extends: "extends",
    nodes.Block: "blocks",
    nodes.FilterBlock: "filter blocks",
    nodes.With: "with blocks",
    nodes.ExprStmt: "do statements",
    nodes.Scope: "scoped blocks",
    nodes.OverlayScope: "overlay scopes",
    nodes.EvalContextModifier: "autoescape blocks",
    nodes.ScopedEvalContextModifier: "autoescape blocks",
    nodes.Slice: "slices",
    nodes.NSRef: "namespaces",
    nodes.Mul: "the * operator (string repetition can explode a prompt)",
    nodes.Pow: "the ** operator",
    nodes.FloorDiv: "the // operator",
    nodes.Continue: "continue",
    nodes.Break: "break",
}

IssueKind = Literal["non-portable", "unsafe", "undefined-reference"]


@dataclass(frozen=True)
class Issue:
    """One problem ``analyze`` found, with the template line it is on."""

    kind: IssueKind
    message: str
    line: int | None


@dataclass
class Analysis:
    """What a template uses: top-level names, and the problems found."""

    used: set[str] = field(default_factory=set)
    issues: list[Issue] = field(default_factory=list)


MAX_OPERATION_SIZE = 1_000_000
"""Largest sequence a template's ``*`` may build, and bound on ``**`` results (in bits / 4)."""


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` intercepted so no template can build a huge value.

    Intercepting them also stops Jinja's compiler from constant-folding ``{{ 'a' * 10**9 }}`` or
    ``{{ 9 ** 9 ** 9 }}`` while a template is merely parsed or analysed.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and right > 0
                and (
                    right > MAX_OPERATION_SIZE
                    or max(abs(left), 2).bit_length() * right > 4 * MAX_OPERATION_SIZE
                )
            ):
                raise SecurityError(f"{left} ** {right} is too large to compute in a template")
            return left**right
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(count, int)
                    and len(seq) * count > MAX_OPERATION_SIZE
                ):
                    raise SecurityError(f"repeating a sequence {count} times is too large for a template")
            return left * right
        return super().call_binop(context, operator, left, right)


@cache
def environment() -> SandboxedEnvironment:
    """The one environment prompts are parsed and rendered with (sandboxed, strict undefined)."""
    return BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )


@lru_cache(maxsize=512)
def _parse_cached(source: str) -> nodes.Template:
    return environment().parse(source)


def parse(source: str) -> nodes.Template:
    """Parse a template; raises jinja2.TemplateSyntaxError (with ``lineno``) when it does not parse.

    Parsed trees are cached by source text (treat them as read-only): many artifacts share a
    template, and lint, validate and eval parse the same one.
    """
    return _parse_cached(source)


_COMPILED: weakref.WeakKeyDictionary[nodes.Template, Template] = weakref.WeakKeyDictionary()


def compiled(ast: nodes.Template) -> Template:
    """The compiled template for a parsed tree (compiled once, then reused for every render)."""
    template = _COMPILED.get(ast)
    if template is None:
        template = _COMPILED[ast] = environment().from_string(ast)
    return template


def _properties(schema: Any) -> tuple[dict[str, Any], bool] | None:
    """(declared properties, closed?) of an object schema, or None when it says nothing about them."""
    if not isinstance(schema, Mapping):
        return None
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return None
    return dict(props), schema.get("additionalProperties") is False


def _items(schema: Any) -> Any:
    return schema.get("items") if isinstance(schema, Mapping) else None


class _Walker:
    """Walks the AST once, tracking which schema each local name stands for."""

    def __init__(self, variables: Mapping[str, Any], analysis: Analysis) -> None:
        self.variables = variables
        self.analysis = analysis

    def issue(self, kind: IssueKind, message: str, node: nodes.Node) -> None:
        self.analysis.issues.append(Issue(kind, message, getattr(node, "lineno", None)))

    def schema_of(self, node: nodes.Node, scope: Mapping[str, Any]) -> Any:
        """The JSON Schema the expression ``node`` evaluates under, when it can be told statically."""
        if isinstance(node, nodes.Name):
            return scope.get(node.name, self.variables.get(node.name))
        if isinstance(node, nodes.Getattr):
            props = _properties(self.schema_of(node.node, scope))
            return props[0].get(node.attr) if props else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            parent = self.schema_of(node.node, scope)
            if isinstance(node.arg.value, int):
                return _items(parent)
            props = _properties(parent)
            return props[0].get(node.arg.value) if props else None
        return None

    def check_field(self, node: nodes.Node, parent: nodes.Node, name: Any, scope: Mapping[str, Any]) -> None:
        if isinstance(name, str) and name.startswith("_"):
            self.issue("unsafe", f"access to {name!r}: underscore attributes reach Python internals", node)
            return
        if isinstance(parent, nodes.Name) and parent.name == "loop" and "loop" in scope:
            if name not in LOOP_ATTRIBUTES:
                self.issue(
                    "non-portable",
                    f"loop.{name} is not portable (use one of: {', '.join(sorted(LOOP_ATTRIBUTES))})",
                    node,
                )
            return
        props = _properties(self.schema_of(parent, scope))
        if props is not None and isinstance(name, str) and props[1] and name not in props[0]:
            declared = ", ".join(sorted(props[0])) or "none"
            self.issue(
                "undefined-reference",
                f"{_describe(parent)}.{name} is not declared in the variables "
                f"schema (declared fields: {declared})",
                node,
            )

    def walk(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        for kind, what in _NON_PORTABLE_NODES.items():
            if isinstance(node, kind):
                self.issue("non-portable", f"{what} are outside the portable template subset", node)
                break
        if isinstance(node, nodes.Filter) and node.name not in PORTABLE_FILTERS:
            self.issue("non-portable", f"filter {node.name!r} is not in the portable subset", node)
        elif isinstance(node, nodes.Test) and node.name not in PORTABLE_TESTS:
            self.issue("non-portable", f"test {node.name!r} is not in the portable subset", node)
        elif isinstance(node, nodes.Getattr):
            self.check_field(node, node.node, node.attr, scope)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            self.check_field(node, node.node, node.arg.value, scope)
        elif (
            isinstance(node, nodes.Name)
            and node.name == "loop"
            and node.ctx == "load"
            and "loop" not in scope
        ):
            self.issue("undefined-reference", "`loop` is used outside a for loop", node)
        if isinstance(node, nodes.For):
            self.walk(node.iter, scope)
            inner = dict(scope)
            inner["loop"] = None
            item_schema = _items(self.schema_of(node.iter, scope))
            for target in _targets(node.target):
                inner[target] = item_schema if isinstance(node.target, nodes.Name) else None
            for child in (*node.body, *([node.test] if node.test is not None else [])):
                self.walk(child, inner)
            for child in node.else_:
                self.walk(child, scope)
            return
        if isinstance(node, (nodes.Assign, nodes.AssignBlock)):
            for target in _targets(node.target):
                scope[target] = None
        for child in node.iter_child_nodes():
            self.walk(child, scope)


def _targets(node: nodes.Node) -> Iterator[str]:
    if isinstance(node, nodes.Name):
        yield node.name
    elif isinstance(node, nodes.Tuple):
        for item in node.items:
            yield from _targets(item)


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_describe(node.node)}[{node.arg.value!r}]"
    return "value"


def analyze(ast: nodes.Template, variables: Mapping[str, Any]) -> Analysis:
    """Names the template reads from its context, plus every portability/safety/reference issue.

    ``variables`` maps each declared variable to its JSON Schema (the ``properties`` of the
    prompt's variables schema); nested ``properties`` / ``items`` let attribute access be checked.
    """
    analysis = Analysis(used=set(meta.find_undeclared_variables(ast)) - {"loop"})
    _Walker(variables, analysis).walk(ast, {})
    analysis.issues.sort(key=lambda i: (i.line or 0, i.kind, i.message))
    return analysis


MAX_ITERATIONS = 2_000_000
"""Loop iterations one render may take: nested loops over large arrays cannot hang a check."""


class IterationLimitExceeded(Exception):
    """A render iterated over the context's lists more than its limit allows."""


class _Counter:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit

    def tick(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise IterationLimitExceeded(f"the template loops more than {self.limit:,} times")


class _CountedList(list[Any]):
    """A list whose iteration is metered by a shared counter (what a template's for loop uses)."""

    counter: _Counter

    def __iter__(self) -> Iterator[Any]:
        for item in list.__iter__(self):
            self.counter.tick()
            yield item


def _metered(value: Any, counter: _Counter) -> Any:
    if isinstance(value, list):
        wrapped = _CountedList(_metered(v, counter) for v in value)
        wrapped.counter = counter
        return wrapped
    if isinstance(value, dict):
        return {k: _metered(v, counter) for k, v in value.items()}
    return value


def render(
    ast: nodes.Template, context: Mapping[str, Any], max_chars: int, max_iterations: int = MAX_ITERATIONS
) -> tuple[str, bool]:
    """Render a parsed template in the sandbox; stops once the output passes ``max_chars``.

    Returns (text, truncated). Raises IterationLimitExceeded when loops over the context's lists
    run more than ``max_iterations`` times, jinja2 errors (UndefinedError, SecurityError,
    TemplateError) and TypeError/ValueError from filters; the caller turns them into findings.
    """
    template = compiled(ast)
    counter = _Counter(max_iterations)
    pieces: list[str] = []
    size = 0
    for piece in template.generate({k: _metered(v, counter) for k, v in context.items()}):
        pieces.append(piece)
        size += len(piece)
        if size > max_chars:
            return "".join(pieces)[:max_chars], True
    return "".join(pieces), False


@dataclass(frozen=True)
class RenderProblem:
    """Why a template did not render: the sandbox refused (``unsafe``), a name was undefined
    (``undefined``), loops ran past the iteration limit (``limit``), or anything else (``error``)."""

    kind: Literal["unsafe", "undefined", "limit", "error"]
    message: str


_RENDER_ERRORS = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    AttributeError,
    KeyError,
    IndexError,
    RecursionError,
)


def try_render(
    ast: nodes.Template, context: Mapping[str, Any], max_chars: int, max_iterations: int = MAX_ITERATIONS
) -> tuple[str, bool] | RenderProblem:
    """``render``, with every way a user's template can fail turned into a RenderProblem.

    Each stage maps the problem's kind onto its own rule ids; none of them re-lists the exceptions.
    """
    try:
        return render(ast, context, max_chars, max_iterations)
    except SecurityError as exc:
        return RenderProblem("unsafe", str(exc))
    except UndefinedError as exc:
        return RenderProblem("undefined", exc.message or str(exc))
    except IterationLimitExceeded as exc:
        return RenderProblem("limit", str(exc))
    except _RENDER_ERRORS as exc:
        return RenderProblem("error", f"{type(exc).__name__}: {str(exc)[:300]}")


__all__ = [
    "PORTABLE_FILTERS",
    "PORTABLE_TESTS",
    "Analysis",
    "Issue",
    "IterationLimitExceeded",
    "RenderProblem",
    "TemplateSyntaxError",
    "analyze",
    "environment",
    "parse",
    "render",
    "try_render",
]
