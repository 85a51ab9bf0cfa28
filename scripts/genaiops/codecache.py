"""A per-user cache of generated Python code, compiled: what is costly to generate is generated once.

``cached_code(name, key, generate)`` returns the code object of the module source ``generate()`` makes,
and the name of its first function. The compiled code is kept under the cache folder
(``$GENAIOPS_CACHE_DIR``, else ``$XDG_CACHE_HOME/genaiops``, else ``~/.cache/genaiops``), in
``code/<name>-<hash>.marshal``, where the hash covers ``key`` (what the code is generated from) and the
Python version. A cache that cannot be read or written (a read-only file system in a pipeline pod) only
costs the generation: nothing fails. The folder is created private (0700) and is used only while it is
owned by the current user (or by root: the pipeline image ships one, filled at build time and read-only for
the step's user) and writable by nobody else, since its files are executed.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import CodeType

_FIRST_FUNCTION = re.compile(r"^def (\w+)\(", re.MULTILINE)


def cache_root() -> Path:
    """The genaiops cache folder of this user."""
    explicit = os.environ.get("GENAIOPS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "genaiops"


def _private_folder(folder: Path) -> bool:
    """Whether ``folder`` exists (created if needed) and only this user, or root, can write to it."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid in (os.getuid(), 0) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path) -> tuple[CodeType, str] | None:
    try:
        entry, code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return (code, entry) if isinstance(code, CodeType) and isinstance(entry, str) else None


def _write(path: Path, value: tuple[str, CodeType]) -> None:
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(handle, "wb") as out:
            out.write(marshal.dumps(value))
        os.replace(temporary, path)
    except OSError:
        return


def cached_code(name: str, key: str, generate: Callable[[], str]) -> tuple[CodeType, str]:
    """(compiled module code, name of its first function) for ``generate()``'s source, cached by ``key``."""
    digest = hashlib.sha256(f"{sys.version}\0{key}".encode()).hexdigest()[:32]
    folder = cache_root() / "code"
    usable = _private_folder(folder)
    path = folder / f"{name}-{digest}.marshal"
    if usable:
        found = _read(path)
        if found is not None:
            return found
    source = generate()
    match = _FIRST_FUNCTION.search(source)
    if match is None:
        raise ValueError(f"generated code for {name} defines no function")
    code = compile(source, f"<generated {name}>", "exec")
    if usable:
        _write(path, (match.group(1), code))
    return code, match.group(1)
