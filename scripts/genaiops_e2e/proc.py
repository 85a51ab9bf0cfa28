"""Running external commands: logged, bounded by a timeout, failing with the command's own output."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SECRETS: set[str] = set()
"""Values never to print (per-run tokens); ``log`` and ``HarnessError`` replace them with ***."""


def redact(text: str) -> str:
    for secret in SECRETS:
        if secret:
            text = text.replace(secret, "***")
    return text


class HarnessError(RuntimeError):
    """A step of the harness failed; the message says which and why (no traceback is shown)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


def log(message: str) -> None:
    """One progress line on stderr, prefixed so it stands out among tool output."""
    print(f"e2e: {redact(message)}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    capture: bool = False,
    input_bytes: bytes | None = None,
    check: bool = True,
    quiet: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv``; with ``capture`` the output is returned, otherwise it streams to stderr.

    A failure (with ``check``) raises HarnessError naming the command and the tail of its output.
    """
    args = [os.fspath(a) for a in argv]
    if not quiet:
        log("$ " + shlex.join(args)[:300])
    full_env = {**os.environ, **(env or {})}
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            env=full_env,
            timeout=timeout,
            input=input_bytes,
            stdout=subprocess.PIPE if capture else sys.stderr,
            stderr=subprocess.PIPE if capture else sys.stderr,
            check=False,
        )
    except FileNotFoundError:
        raise HarnessError(f"{args[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise HarnessError(f"{shlex.join(args)[:200]}: no result after {timeout:.0f}s") from None
    if check and proc.returncode != 0:
        tail = ""
        if capture:
            tail = (proc.stderr or b"").decode(errors="replace")[-3000:] or (proc.stdout or b"").decode(
                errors="replace"
            )[-3000:]
        raise HarnessError(f"{shlex.join(args)[:200]} exited {proc.returncode}\n{tail}".rstrip())
    return proc


def output(argv: Sequence[str | os.PathLike[str]], **kwargs: object) -> str:
    """Run ``argv`` and return its standard output as text."""
    proc = run(argv, capture=True, **kwargs)  # type: ignore[arg-type]
    return proc.stdout.decode(errors="replace")
