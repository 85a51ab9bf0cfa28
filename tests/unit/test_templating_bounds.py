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
