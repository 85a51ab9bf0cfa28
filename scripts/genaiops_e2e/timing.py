"""Phase timings of a harness run: measured around each phase and printed as a table at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from genaiops_e2e.proc import log


@dataclass
class Timings:
    """Wall-clock seconds per phase, in the order the phases ran."""

    phases: list[tuple[str, float, str]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[list[str]]:
        """Time a phase; the phase may append "failed" to the yielded list to record a failure it handled."""
        log(f"--- {name}")
        start = time.monotonic()
        outcome = "failed"
        marks: list[str] = []
        try:
            yield marks
            outcome = "failed" if "failed" in marks else "ok"
        finally:
            seconds = time.monotonic() - start
            self.phases.append((name, seconds, outcome))
            log(f"--- {name}: {outcome} in {seconds:.1f}s")

    def table(self) -> str:
        width = max([len("phase"), *(len(name) for name, _, _ in self.phases)])
        lines = [f"{'phase':<{width}}  {'seconds':>8}  outcome"]
        lines += [f"{name:<{width}}  {seconds:>8.1f}  {outcome}" for name, seconds, outcome in self.phases]
        total = sum(seconds for _, seconds, _ in self.phases)
        lines.append(f"{'total':<{width}}  {total:>8.1f}")
        return "\n".join(lines)
