"""`genaiops serve` refuses bad invocations with a usage error (exit 2) before it serves anything.

The served examples (readiness, guardrail BLOCK, completion, model-config proxy, metrics) are covered in
test_prompt_serve.py, which a repository rendered without those kinds does not have.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "nothing to serve"),
        (["--prompt", "x"], "no OpenAI-compatible endpoint"),
        (["--prompt", "../etc", "--upstream", "http://127.0.0.1:1/v1"], "not a DNS-1123 label"),
        (["--prompt", "x", "--upstream", "http://127.0.0.1:1/v1", "--host", "0.0.0.0"], "not a loopback"),
        (["--prompt", "x", "--upstream", "http://127.0.0.1:1/v1", "--threads", "0"], "--threads must be"),
        (["--prompt", "x", "--upstream", "http://127.0.0.1:1/v1", "--idle-timeout", "0"], "must be positive"),
    ],
)
def test_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    env_free = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "genaiops", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env_free,
    )
    assert proc.returncode == 2 and message in proc.stderr
