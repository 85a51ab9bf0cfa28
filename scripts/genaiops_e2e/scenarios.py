"""The chainsaw scenarios of ``tests/e2e/``: one chainsaw run per scenario folder, timed separately.

Each scenario folder holds a ``chainsaw-test.yaml``; ``tests/e2e/.chainsaw.yaml`` sets the timeouts. The
scenarios call ``python -m genaiops_e2e.probe`` for what needs the host (pushing a commit to the git
server, reading the artifact store, building an environment) and assert on cluster state with chainsaw.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from genaiops_e2e import gobuild
from genaiops_e2e.cluster import tool_path
from genaiops_e2e.proc import HarnessError, log, redact
from genaiops_e2e.state import State
from genaiops_e2e.timing import Timings


def discover(repo: Path, names: list[str]) -> list[Path]:
    """Scenario folders (those with a chainsaw-test.yaml), all or the named ones, in name order."""
    root = repo / "tests" / "e2e"
    found = sorted(p.parent for p in root.glob("*/chainsaw-test.yaml"))
    if names:
        found = [p for p in found if p.name in names]
    return found


DIGEST_LINES = 40
"""At most this many lines of one probe failure go to the digest."""


def probe_failures(output: list[str]) -> list[str]:
    """The probes' own failure messages in a chainsaw run's output (``probe <command>: ...`` and the lines
    that follow it up to chainsaw's next entry): what went wrong, without the debug dump around it."""
    digest: list[str] = []
    taking = 0
    for line in output:
        text = line.strip()
        if text.startswith("probe ") and ": " in text:
            taking = DIGEST_LINES
        elif taking and ("sink.go:" in text or text.startswith("=== ")):
            taking = 0
        if taking:
            digest.append(text)
            taking -= 1
    return digest


def _chainsaw(
    argv: list[str | os.PathLike[str]], env: dict[str, str], cwd: Path, timeout: float
) -> tuple[int, list[str]]:
    """Run chainsaw, streaming its output to stderr as it comes, and return its exit code and lines."""
    args = [os.fspath(a) for a in argv]
    log("$ " + shlex.join(args)[:300])
    lines: list[str] = []
    with subprocess.Popen(
        args,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(redact(line))
            lines.append(line)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise HarnessError(f"chainsaw: no result after {timeout:.0f}s") from None
    return code, lines


def run_all(timings: Timings, repo: Path, names: list[str], digest: dict[str, list[str]]) -> bool:
    """Run each scenario; True when all passed. ``digest`` gets each failed scenario's probe failures."""
    state = State.load()
    from genaiops.project import load_project

    environments = load_project(repo).environments
    approval_env = next((e.name for e in reversed(environments) if e.approval), environments[-1].name)
    chain = [e.name for e in environments]
    # the environment a version must reach before the approval environment (empty: it is the first)
    previous_env = chain[chain.index(approval_env) - 1] if chain.index(approval_env) > 0 else ""
    chainsaw = gobuild.binary(gobuild.CHAINSAW, "chainsaw")
    scripts = str(repo / "scripts")
    env = {
        "KUBECONFIG": state.kubeconfig,
        "PATH": f"{Path(sys.executable).parent}:{tool_path(dict(os.environ))}",
        "PYTHONPATH": scripts + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "E2E_NAMESPACE": state.namespace,
        "E2E_ENVIRONMENT": state.environment,
        "E2E_APPROVAL_ENV": approval_env,
        "E2E_PREVIOUS_ENV": previous_env,
        "E2E_RUN_DIR": str(State.path().parent),
    }
    ok = True
    for folder in discover(repo, names):
        with timings.phase(f"scenario {folder.name}") as marks:
            code, lines = _chainsaw(
                [
                    chainsaw,
                    "test",
                    "--config",
                    repo / "tests/e2e/.chainsaw.yaml",
                    "--test-dir",
                    folder,
                    "--namespace",
                    state.namespace,
                    "--no-color",
                ],
                env,
                repo,
                timeout=3600,
            )
            if code != 0:
                ok = False
                marks.append("failed")
                digest[folder.name] = probe_failures(lines) or ["(no probe failed: see the output above)"]
                log(f"scenario {folder.name} FAILED")
    return ok
