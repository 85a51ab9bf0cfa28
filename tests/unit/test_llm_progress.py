"""The progress bar writes to a terminal only."""

from __future__ import annotations

import io

from genaiops.llm.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_tty() -> None:
    stream = io.StringIO()
    with Progress(10, stream=stream) as bar:
        for _ in range(10):
            bar.advance()
    assert bar.done == 10
    assert stream.getvalue() == ""


def test_draws_on_a_tty_and_finishes_the_line() -> None:
    stream = _Tty()
    with Progress(4, label="prompt/x", stream=stream) as bar:
        for _ in range(4):
            bar.advance()
    out = stream.getvalue()
    assert out.startswith("\rprompt/x [")
    assert "4/4" in out and out.endswith("\n")
    assert bar.render(1.0).count("#") == 30


def test_never_counts_past_total() -> None:
    bar = Progress(2, enabled=False)
    bar.advance(5)
    assert bar.done == 2
