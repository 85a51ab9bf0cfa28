"""What the probe commands share: example artifacts, the cluster, records of changes, workflow status."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from genaiops_e2e import kube
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State

EXAMPLES = {
    "prompt": "review-sentiment",
    "model-config": "support-assistant",
    "rag": "internal-kb",
    "guardrail": "customer-support",
}
"""The example artifact each kind's scenario changes (its recorded cassettes still answer the eval)."""


class ProbeFailed(Exception):
    """An expectation of a scenario did not hold."""


T = TypeVar("T")
POLL_S = 3


def poll(
    check: Callable[[], tuple[T | None, str]], timeout: float, what: str, every: float = POLL_S
) -> tuple[T, float]:
    """Call ``check`` every ``every`` seconds until its first value is not None; return that value and the
    wall-clock time it was seen. ``check`` also says what it saw: after ``timeout`` seconds the probe
    fails with ``what`` (e.g. "dev did not sync abc") and that last description."""
    deadline = time.monotonic() + timeout
    while True:
        found, seen = check()
        if found is not None:
            return found, time.time()
        if time.monotonic() > deadline:
            raise ProbeFailed(f"{what} within {timeout:.0f}s:\n{seen}")
        time.sleep(every)


def cluster_of(state: State) -> kube.Cluster:
    from genaiops_e2e.cluster import Cluster, tool_path

    env = {"KUBECONFIG": state.kubeconfig, "PATH": tool_path(dict(os.environ))}
    return Cluster("genaiops-e2e", Path(state.kubeconfig), "", state.node_ip, env)


def shipped_kinds(state: State) -> list[str]:
    from genaiops.project import load_project

    return [k for k in load_project(Path(state.repo)).kinds if k in EXAMPLES]


def record_path(workflow: str) -> Path:
    return State.path().parent / "scenarios" / f"{workflow}.json"


def save_record(workflow: str, record: dict[str, str]) -> None:
    path = record_path(workflow)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))


def load_record(workflow: str) -> dict[str, str]:
    path = record_path(workflow)
    if not path.exists():
        raise ProbeFailed(f"no change was recorded for {workflow} (run `probe change` first)")
    return json.loads(path.read_text())


def get_workflow(state: State, name: str) -> dict[str, object]:
    return json.loads(
        kube.kubectl(cluster_of(state), "-n", state.namespace, "get", "workflow", name, "-o", "json")
    )


def workflow_nodes(workflow: dict[str, object]) -> list[dict[str, object]]:
    return list(((workflow.get("status") or {}).get("nodes") or {}).values())  # type: ignore[union-attr]


def failed_steps(workflow: dict[str, object]) -> str:
    failed = [
        f"{n.get('displayName')}: {n.get('phase')} {n.get('message') or ''}".strip()
        for n in workflow_nodes(workflow)
        if n.get("phase") in ("Failed", "Error") and n.get("type") == "Pod"
    ]
    return "; ".join(failed) or str((workflow.get("status") or {}).get("message") or "no failed step")  # type: ignore[union-attr]


def workflow_pods(state: State, workflow: str) -> list[dict[str, Any]]:
    """The step pods of ``workflow`` that are still there (failed ones are kept, podGC OnPodSuccess)."""
    listed = kube.kubectl(
        cluster_of(state),
        "-n",
        state.namespace,
        "get",
        "pods",
        "-l",
        f"workflows.argoproj.io/workflow={workflow}",
        "-o",
        "json",
    )
    return list(json.loads(listed)["items"])


def failed_pod_logs(state: State, workflow: str, tail: int = 15) -> str:
    """The last lines of each failed step pod's main container: why a step failed, in the probe's own
    error (a CI log shows its tail; chainsaw's full dump comes long before it)."""
    cluster = cluster_of(state)
    try:
        pods = workflow_pods(state, workflow)
    except (HarnessError, ValueError, KeyError) as exc:
        return f"(no pod logs: {exc})"
    parts = []
    for pod in pods:
        if (pod.get("status") or {}).get("phase") != "Failed":
            continue
        name = pod["metadata"]["name"]
        try:
            text = kube.kubectl(cluster, "-n", state.namespace, "logs", name, "-c", "main", f"--tail={tail}")
        except HarnessError as exc:
            text = f"(no log: {exc})"
        parts.append(f"--- {name} (main, last {tail} lines)\n{text.rstrip()}")
    return "\n".join(parts)


def find_node(workflow: dict[str, object], display: str) -> dict[str, object] | None:
    matches = [n for n in workflow_nodes(workflow) if n.get("displayName") == display]
    return matches[-1] if matches else None


TERMINAL = ("Succeeded", "Failed", "Error")


def argo(state: State, *args: str) -> None:
    argo = kube.tools_bin(Path(state.repo)) / "argo"
    env = {**os.environ, "KUBECONFIG": state.kubeconfig}
    proc = subprocess.run(
        [str(argo), "-n", state.namespace, *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise HarnessError(f"argo {' '.join(args)}: {proc.stderr.strip()}")
    print(proc.stdout.strip())


def records(state: State) -> dict[str, object]:
    """Everything the HTTP sink was sent (its ``/_records``)."""
    try:
        with urllib.request.urlopen(f"{state.sink_url_host}/_records", timeout=30) as response:
            return dict(json.load(response))
    except (OSError, ValueError) as exc:
        raise ProbeFailed(f"the HTTP sink at {state.sink_url_host} did not answer: {exc}") from None
