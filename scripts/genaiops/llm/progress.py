"""A minimal progress bar for long eval runs: stderr only, and only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    """``done/total`` with a bar, rate and ETA, redrawn at most 10 times a second; silent off a TTY."""

    def __init__(
        self, total: int, label: str = "eval", stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.total = max(0, total)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._lock = threading.Lock()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self.done = min(self.total, self.done + count)
            now = time.monotonic()
            if self.enabled and (now - self._last_draw >= 0.1 or self.done == self.total):
                self._last_draw = now
                self.stream.write("\r" + self.render(now - self._started))
                self.stream.flush()

    def render(self, elapsed: float, width: int = 30) -> str:
        fraction = self.done / self.total if self.total else 1.0
        filled = round(fraction * width)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:6.1f}/s eta {eta:5.0f}s"
        )

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
