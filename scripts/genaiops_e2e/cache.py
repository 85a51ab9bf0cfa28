"""Where built binaries, root filesystems and image archives live: a user-level cache keyed by version.

CI runs in a fresh clone in another folder of the same machine, so a cache inside the clone would always
be empty there; ``$GENAIOPS_E2E_CACHE`` (default ``${XDG_CACHE_HOME:-~/.cache}/genaiops-e2e``) carries
over, like Go's own caches. Every entry is built under a temporary name and renamed when complete, so an
interrupted build is never mistaken for a finished one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from genaiops_e2e.proc import log

RECIPE_VERSION = "1"
"""Bump when a build recipe changes so every cached entry is rebuilt."""

STALE_SCRATCH_SECONDS = 6 * 3600
"""Scratch folders older than this were left by a run that was killed; the next run removes them."""


def cache_root() -> Path:
    """The user-level cache folder (created on first use)."""
    override = os.environ.get("GENAIOPS_E2E_CACHE")
    if override:
        root = Path(override)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base) / "genaiops-e2e"
    root.mkdir(parents=True, exist_ok=True)
    return root


def content_key(*parts: str | bytes, files: Iterable[Path] = ()) -> str:
    """A short digest of strings and file contents, for entries keyed by what they are made of."""
    digest = hashlib.sha256(RECIPE_VERSION.encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    for path in sorted(files):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def entry(kind: str, key: str, build: Callable[[Path], None]) -> Path:
    """The folder ``<cache>/<kind>/<key>``, made by ``build(tmp)`` once and reused afterwards."""
    final = cache_root() / kind / key
    if final.is_dir():
        return final
    tmp = final.with_name(f".{final.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"building {kind}/{key} (not in the cache)")
    try:
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(final)
    return final


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder on the cache's disk (large archives do not fit a small /tmp), removed after use.

    A run killed mid-build cannot remove its folder, so stale ones (older than a few hours) go first.
    """
    parent = cache_root() / ".scratch"
    parent.mkdir(exist_ok=True)
    cutoff = time.time() - STALE_SCRATCH_SECONDS
    for stale in parent.iterdir():
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as folder:
        yield Path(folder)
