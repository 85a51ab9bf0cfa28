"""The CEL runtime for guardrail conditions: the compiled extension of ``common-expression-language``.

``import cel`` runs the package's ``__init__``, which also imports its interactive REPL (``cel.cli``:
prompt_toolkit and rich, ~0.3-0.4 s per process) that genaiops never uses. This module loads only the
Rust extension ``cel.cel`` (``compile``, ``Context``, ``Program``) from the installed package, and
registers it under its own name so a later ``import cel`` reuses it instead of initialising it twice.
If the package layout ever changes, it falls back to the ordinary ``import cel``.

``compile`` caches programs by expression text: lint's analysis and the engine's ``CompiledPolicy``
compile the same conditions, and policies often share conditions. A ``Program`` is immutable (each
``execute`` takes its own context), so sharing one is safe. Failures are not cached.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

_EXTENSION = "cel.cel"


def _load_extension() -> ModuleType:
    """The ``cel.cel`` extension module, without running the ``cel`` package's ``__init__``."""
    loaded = sys.modules.get(_EXTENSION)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("cel")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in map(Path, locations):
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"cel{suffix}"
            if not path.is_file():
                continue
            loader = importlib.machinery.ExtensionFileLoader(_EXTENSION, str(path))
            ext_spec = importlib.util.spec_from_file_location(_EXTENSION, path, loader=loader)
            if ext_spec is None:
                continue
            module = importlib.util.module_from_spec(ext_spec)
            loader.exec_module(module)
            if not hasattr(module, "compile") or not hasattr(module, "Context"):
                continue
            sys.modules[_EXTENSION] = module
            return module
    import cel  # the package moved its extension: take the ordinary (slower) import

    return cel


_cel = _load_extension()
Context: Any = _cel.Context


@lru_cache(maxsize=4096)
def compile(expression: str) -> Any:
    """The compiled ``cel.Program`` of ``expression`` (cached); raises ValueError/RuntimeError if invalid."""
    return _cel.compile(expression)
