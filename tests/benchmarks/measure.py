"""What one benchmarked process cost: wall time, CPU time and peak memory, its children included.

Shared by the benchmark scripts (each runs as ``python tests/benchmarks/<script>.py``, so this folder is
on ``sys.path``). Output is discarded: a benchmark reads the process's report or result file instead.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    wall: float
    """Seconds from start to exit."""
    cpu: float
    """User + system seconds of the process and every child it waited for."""
    rss_mib: float
    """Peak resident memory of the process or its largest child, MiB."""
    exit_code: int


def measure(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> Measured:
    """Run ``command`` in ``cwd`` to completion and return what it cost."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)
