"""Start-up stays small: the CLI and every stage's check modules import without the heavy libraries,
which are imported where they are used (issue: speed at scale). Importing rouge-score pulls in nltk and
scipy.stats (about 3 s), qdrant-client its pydantic models (about 3 s), httpx about 0.3 s: paid by every
Argo step that imported them at module level, whether it scored ROUGE, opened a store or called out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from genaiops.cli import COMMAND_MODULES
from genaiops.stages.registry import CHECKS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "nltk", "rouge_score", "sacrebleu", "qdrant_client", "httpx", "urllib3")


def _imported_after(modules: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))\n"
    )
    return list(_run_fresh(code))


def _run_fresh(code: str) -> Any:
    """What ``code`` prints as JSON, run in a fresh interpreter that sees only this repository's package."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "scripts"), "PATH": ""},
    )
    return json.loads(proc.stdout)


def test_the_stages_import_no_heavy_library() -> None:
    checks = sorted({target.split(":")[0] for kinds in CHECKS.values() for target in kinds.values()})
    assert _imported_after(["genaiops.cli", *checks]) == []


def test_the_stages_import_jsonschema_only_when_a_check_needs_it() -> None:
    """jsonschema (about 0.1 s) is for schema *failures* and user-declared schemas; a shipped schema's
    pass is decided by its generated validator, so most steps never import it."""
    checks = sorted({target.split(":")[0] for kinds in CHECKS.values() for target in kinds.values()})
    assert _imported_after(["genaiops.cli", *checks], ("jsonschema",)) == []
    assert _imported_after(["genaiops.cli", "genaiops.assertions"], ("jsonschema",)) == []


def test_the_console_script_freezes_what_is_left_before_exit() -> None:
    """`run` (the console script) returns main's exit code and leaves nothing for the collector at exit."""
    code = (
        "import contextlib, gc, io, json, sys\n"
        "from genaiops.cli import run\n"
        "sys.argv = ['genaiops', 'rules']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = run()\n"
        "print(json.dumps([rc, gc.get_freeze_count() > 0, len(gc.get_objects())]))\n"
    )
    rc, frozen, tracked = _run_fresh(code)
    assert rc == 0 and frozen and tracked < 100


def test_the_probe_sees_a_heavy_import() -> None:
    assert _imported_after(["genaiops.cli", "genaiops.llm.client"]) == ["urllib3"]


def test_help_lists_every_command_without_rendering() -> None:
    """`genaiops --help` builds every command's parser: jinja2 (about 30 ms) waits for a real render."""
    assert _imported_after(["genaiops.cli", *COMMAND_MODULES], (*HEAVY, "jinja2")) == []


def test_promote_imports_no_numpy() -> None:
    """Every promotion is its own process (an Argo step, or one of many racing for a branch): numpy (about
    0.3 s) is only for a RAG config's alias swap and a merge request's scorecard, imported there."""
    assert _imported_after(["genaiops.cli", "genaiops.promote.run"], ("numpy", *HEAVY)) == []


def test_help_lists_the_commands_without_importing_them() -> None:
    """`genaiops --help` names every helper command with its help line from genaiops.commands; only the
    command that runs imports its module."""
    code = (
        "import json, sys\n"
        "from genaiops.cli import COMMAND_MODULES, build_parser\n"
        "build_parser(False)  # the stages' parsers (promote's imports its options)\n"
        "before = set(sys.modules)\n"
        "text = build_parser('').format_help()\n"
        "print(json.dumps([text, [m for m in COMMAND_MODULES if m in set(sys.modules) - before]]))\n"
    )
    text, imported = _run_fresh(code)
    assert imported == []
    from genaiops.commands import COMMANDS

    words = text.split()
    squeezed = "".join(words)  # argparse wraps help lines, also at hyphens
    for name, (_, help_text) in COMMANDS.items():
        assert name in words and "".join(help_text.split()) in squeezed, name


def test_a_command_gets_its_full_parser() -> None:
    from genaiops.cli import build_parser

    args = build_parser("reject").parse_args(["reject", "prompt/x", "1.0.0", "--reason", "bad"])
    assert args.command == "reject" and args.reason == "bad" and callable(args.handler)
