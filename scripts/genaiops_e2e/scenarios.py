"""The chainsaw scenarios of ``tests/e2e/``: one chainsaw run per scenario folder, timed separately.

Each scenario folder holds a ``chainsaw-test.yaml``; ``tests/e2e/.chainsaw.yaml`` sets the timeouts. The
scenarios call ``python -m genaiops_e2e.probe`` for what needs the host (pushing a commit to the git
server, reading the artifact store, building an environment) and assert on cluster state with chainsaw.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from genaiops_e2e import gobuild
from genaiops_e2e.cluster import tool_path
from genaiops_e2e.proc import log, run
from genaiops_e2e.state import State
from genaiops_e2e.timing import Timings


def discover(repo: Path, names: list[str]) -> list[Path]:
    """Scenario folders (those with a chainsaw-test.yaml), all or the named ones, in name order."""
    root = repo / "tests" / "e2e"
    found = sorted(p.parent for p in root.glob("*/chainsaw-test.yaml"))
    if names:
        found = [p for p in found if p.name in names]
    return found


def run_all(timings: Timings, repo: Path, names: list[str]) -> bool:
    """Run each scenario; True when all passed."""
    state = State.load()
    from genaiops.project import load_project

    environments = load_project(repo).environments
    approval_env = next((e.name for e in reversed(environments) if e.approval), environments[-1].name)
    chainsaw = gobuild.binary(gobuild.CHAINSAW, "chainsaw")
    scripts = str(repo / "scripts")
    env = {
        "KUBECONFIG": state.kubeconfig,
        "PATH": f"{Path(sys.executable).parent}:{tool_path(dict(os.environ))}",
        "PYTHONPATH": scripts + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "E2E_NAMESPACE": state.namespace,
        "E2E_ENVIRONMENT": state.environment,
        "E2E_APPROVAL_ENV": approval_env,
        "E2E_RUN_DIR": str(State.path().parent),
    }
    ok = True
    for folder in discover(repo, names):
        with timings.phase(f"scenario {folder.name}") as marks:
            proc = run(
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
                env=env,
                cwd=repo,
                check=False,
                timeout=3600,
            )
            if proc.returncode != 0:
                ok = False
                marks.append("failed")
                log(f"scenario {folder.name} FAILED")
    return ok
