"""The template sandbox bounds arithmetic: no template can build a huge value, even while parsed."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from genaiops import templating


@pytest.mark.parametrize(
    "source", ["{{ 'a' * 10**9 }}", "{{ [0] * 10**8 }}", "{{ 10**9 * 'ab' }}", "{{ 2 ** (10 ** 8) }}"]
)
def test_huge_values_are_refused_at_render_and_not_folded_at_analysis(source: str) -> None:
    ast = templating.parse(source)
    templating.analyze(ast, {})  # must not constant-fold the expression
    with pytest.raises(SecurityError):
        templating.compiled(ast).render()


def test_ordinary_arithmetic_still_works() -> None:
    ast = templating.parse("{{ 2 * 3 }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ [1] * 2 }}")
    assert templating.compiled(ast).render() == "6 ababab 1024 [1, 1]"


@pytest.mark.parametrize(
    ("source", "context", "kind"),
    [
        ("{{ ''.__class__.__mro__ }}", {}, "unsafe"),
        ("{{ missing }}", {}, "undefined"),
        ("{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}", {"xs": list(range(2000))}, "limit"),
        ("{{ 1 // 0 }}", {}, "error"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", {}, "error"),  # RecursionError
    ],
)
def test_every_render_failure_becomes_a_problem_of_its_kind(source: str, context: dict, kind: str) -> None:
    outcome = templating.try_render(templating.parse(source), context, 10_000, max_iterations=1_000_000)
    assert isinstance(outcome, templating.RenderProblem) and outcome.kind == kind, outcome


def test_a_good_render_is_returned_as_text() -> None:
    assert templating.try_render(templating.parse("Hi {{ name }}"), {"name": "Ada"}, 100) == ("Hi Ada", False)
