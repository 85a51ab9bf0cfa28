"""Run a read-only stage's per-artifact checks in forked worker processes, results in input order.

Only stages in ``PARALLEL_STAGES`` qualify: lint reads files and writes nothing, so checking
artifacts in two processes cannot change a finding; other stages talk to servers, build images or
write commits and stay serial. Small runs stay serial too (forking costs more than it saves), and
so does any platform without ``fork`` (workers inherit the loaded modules and the run's state
instead of re-importing them).

``GENAIOPS_JOBS`` sets the number of processes (``1`` forces a serial run); by default it is the
number of CPUs this process may use, at most ``MAX_JOBS``. ``pool.map`` returns results in the
order of the input, so the report is the same, byte for byte apart from timings, whatever the
number of processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from genaiops.errors import UsageError

PARALLEL_STAGES = frozenset({"lint"})
MIN_ARTIFACTS = 64
"""Fewer artifacts than this are checked in the calling process."""
MAX_JOBS = 8
ENV_JOBS = "GENAIOPS_JOBS"
_CHUNK = 8
"""Artifacts handed to a worker at a time: small enough to balance kinds of unequal cost."""

T = TypeVar("T")
R = TypeVar("R")
_STATE: Any = None


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def jobs_for(stage: str, count: int) -> int:
    """How many processes check ``count`` artifacts of ``stage`` (1: serial, in this process)."""
    if stage not in PARALLEL_STAGES:
        return 1
    raw = os.environ.get(ENV_JOBS, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise UsageError(
                f"{ENV_JOBS}={raw!r} is not a positive whole number",
                hint=f"Unset {ENV_JOBS} to use every CPU, or set it to 1 for a serial run.",
            )
        wanted = int(raw)
    else:
        wanted = min(available_cpus(), MAX_JOBS)
    if count < MIN_ARTIFACTS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(wanted, count // (MIN_ARTIFACTS // 2)))


def _call(index: int) -> Any:
    func, items, state = _STATE
    return func(items[index], state)


def map_forked(func: Callable[[T, Any], R], items: Sequence[T], state: Any, jobs: int) -> list[R]:
    """``[func(item, state) for item in items]`` over ``jobs`` forked processes, in input order.

    ``func`` must be a module-level function; ``items`` and ``state`` reach the workers through
    fork, never through pickling, so only the results are pickled back.
    """
    global _STATE
    if jobs <= 1:
        return [func(item, state) for item in items]
    _STATE = (func, items, state)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return pool.map(_call, range(len(items)), chunksize=_CHUNK)
    finally:
        _STATE = None
