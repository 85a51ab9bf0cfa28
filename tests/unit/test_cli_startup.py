"""`genaiops --help` stays fast: building the parser imports no heavy library.

Every COMMAND_MODULES module is imported to build the parser, so a module-level import of the
metrics stack (rouge_score -> nltk -> scipy), the vector store client (qdrant_client) or httpx makes
every invocation pay seconds of CPU. Commands import those inside their handlers. This checks which
modules are loaded (in a fresh interpreter), not how long it takes; the figure is in
tests/benchmarks/bench_lint.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "rouge_score",
    "nltk",
    "scipy",
    "numpy",
    "qdrant_client",
    "httpx",
    "urllib3",
    "genaiops.llm.localserver",
)

PROBE = """
import json, sys
from genaiops.cli import COMMAND_MODULES, build_parser
build_parser()
print(json.dumps({"modules": sorted(sys.modules), "commands": COMMAND_MODULES}))
"""


def test_building_the_parser_imports_no_heavy_library() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    data = json.loads(proc.stdout)
    assert set(data["commands"]) <= set(data["modules"])  # every command module was really imported
    loaded = [m for m in data["modules"] if m.split(".")[0] in HEAVY or m in HEAVY]
    assert loaded == []


def test_the_lazy_llm_package_still_exports_its_names() -> None:
    import genaiops.llm as llm
    from genaiops.llm.provider import Provider
    from genaiops.llm.types import ChatRequest

    assert llm.Provider is Provider and llm.ChatRequest is ChatRequest
    assert set(llm.__all__) <= set(dir(llm)) | set(llm._LAZY)
