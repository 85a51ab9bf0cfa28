"""Talking to the cluster: the pinned kubectl and kustomize, applying built manifests, waiting on conditions.

Every wait is on a condition (a rollout finished, a resource reached a state) with a timeout that names
what was awaited, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml

from genaiops_e2e.cluster import Cluster
from genaiops_e2e.proc import HarnessError, log, output


def tools_bin(repo: Path) -> Path:
    """``.tools/bin`` of the repository (kustomize, argo), installed by ``make setup``."""
    return Path(os.environ.get("GENAIOPS_TOOLS_DIR", repo / ".tools")) / "bin"


def kubectl(cluster: Cluster, *args: str, input_text: str | None = None, timeout: float = 300) -> str:
    """Run the pinned kubectl against the cluster and return its output."""
    return output(
        ["kubectl", *args],
        env=cluster.env,
        timeout=timeout,
        input_bytes=input_text.encode() if input_text is not None else None,
    )


def build(repo: Path, folder: Path) -> str:
    """``kustomize build`` as Argo CD runs it (folders outside the root allowed: generated overlays)."""
    kustomize = tools_bin(repo) / "kustomize"
    if not kustomize.exists():
        raise HarnessError(f"{kustomize} is missing: run `make setup` first")
    return output([kustomize, "build", "--load-restrictor", "LoadRestrictionsNone", folder], quiet=True)


def apply(cluster: Cluster, manifests: str, *, what: str, manager: str = "kubectl") -> None:
    """Server-side apply of a multi-document YAML stream, as ``manager`` (fields another manager set stay)."""
    if not manifests.strip():
        raise HarnessError(f"{what}: nothing to apply")
    kubectl(
        cluster,
        "apply",
        "--server-side",
        "--force-conflicts",
        f"--field-manager={manager}",
        "-f",
        "-",
        input_text=manifests,
    )


def relative(folder: Path, target: Path) -> str:
    """``target`` relative to ``folder`` (kustomize refuses absolute paths for folders it loads)."""
    return os.path.relpath(target, folder)


def write_kustomization(folder: Path, content: dict[str, object]) -> Path:
    """A generated kustomization (in the harness's run folder, never in the repository)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **content}
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return folder


def remove_workflows(
    cluster: Cluster, namespace: str, *names: str, selector: str | None = None, force: bool = False
) -> None:
    """Terminate, then delete, workflows: a running one (a CD waiting for approval) keeps its artifact-GC
    finalizer until it has ended, so deleting it alone would wait for its three-day deadline.

    A deletion that does not finish is an error with what holds the workflows, unless ``force`` (the
    install discarding an earlier run's history): then their finalizers are removed after the report,
    as an operator would (Argo v3.6 can keep the artifact-GC finalizer of a workflow stopped before its
    first pod ran, with every strategy marked processed)."""
    select = ["-l", selector] if selector else []
    listed = json.loads(kubectl(cluster, "-n", namespace, "get", "workflows", "-o", "json", *select))
    present = {w["metadata"]["name"] for w in listed["items"]}
    chosen = present if selector else present & set(names)
    shutdown = json.dumps({"spec": {"shutdown": "Terminate"}})
    for name in sorted(chosen):
        kubectl(cluster, "-n", namespace, "patch", "workflow", name, "--type", "merge", "-p", shutdown)
    if not chosen:
        return
    try:
        kubectl(
            cluster, "-n", namespace, "delete", "workflows", *sorted(chosen), "--timeout=180s", timeout=240
        )
    except HarnessError as exc:
        report = f"{exc}\n{_deletion_state(cluster, namespace, sorted(chosen))}"
        if not force:
            raise HarnessError(report) from None
        log(f"removing the finalizers of workflows that did not go away:\n{report}")
        unfinalize = json.dumps({"metadata": {"finalizers": None}})
        for name in sorted(chosen):
            kubectl(cluster, "-n", namespace, "patch", "workflow", name, "--type", "merge", "-p", unfinalize)


def _deletion_state(cluster: Cluster, namespace: str, names: list[str]) -> str:
    """What keeps workflows from going away: their finalizers and artifact-GC status, the GC tasks and
    the GC pods (a finalizer nobody removes is a controller or artifact-store problem, not the test's)."""
    lines = []
    listed = json.loads(kubectl(cluster, "-n", namespace, "get", "workflows", "-o", "json"))
    for workflow in listed["items"]:
        if workflow["metadata"]["name"] in names:
            status = workflow.get("status") or {}
            summary = {
                "finalizers": workflow["metadata"].get("finalizers"),
                "deletionTimestamp": workflow["metadata"].get("deletionTimestamp"),
                "phase": status.get("phase"),
                "artifactGCStatus": status.get("artifactGCStatus"),
                "conditions": status.get("conditions"),
                "taskResultsCompletionStatus": status.get("taskResultsCompletionStatus"),
            }
            lines.append(f"workflow {workflow['metadata']['name']}: {json.dumps(summary)}")
    for what in ("workflowartifactgctasks", "pods"):
        selector = [] if what != "pods" else ["-l", "workflows.argoproj.io/component=artifact-gc"]
        lines.append(kubectl(cluster, "-n", namespace, "get", what, *selector, "-o", "wide"))
    return "\n".join(lines)


def rollout(
    cluster: Cluster, namespace: str, deployment: str, timeout_s: int = 300, kind: str = "deployment"
) -> None:
    """Wait until the Deployment's (or StatefulSet's) new pods are all ready."""
    try:
        kubectl(
            cluster,
            "-n",
            namespace,
            "rollout",
            "status",
            f"{kind}/{deployment}",
            f"--timeout={timeout_s}s",
            timeout=timeout_s + 30,
        )
    except HarnessError as exc:
        events = kubectl(cluster, "-n", namespace, "get", "events", "--sort-by=.lastTimestamp")
        pods = kubectl(cluster, "-n", namespace, "get", "pods", "-o", "wide")
        raise HarnessError(
            f"{kind} {namespace}/{deployment} not ready within {timeout_s}s\n{exc}\n{pods}\n{events[-4000:]}"
        ) from None


def wait_for(
    cluster: Cluster, resource: str, condition: str, namespace: str | None = None, timeout_s: int = 120
) -> None:
    """``kubectl wait --for=<condition>`` with a timeout that names what was awaited."""
    args = ["wait", f"--for={condition}", resource, f"--timeout={timeout_s}s"]
    if namespace:
        args = ["-n", namespace, *args]
    try:
        kubectl(cluster, *args, timeout=timeout_s + 30)
    except HarnessError as exc:
        raise HarnessError(f"{resource} did not reach {condition} within {timeout_s}s: {exc}") from None


def wait_pods_ready(
    cluster: Cluster, namespace: str, selector: str, *, what: str, timeout_s: int = 300
) -> None:
    """Wait until pods matching ``selector`` exist and are all Ready (for pods a controller creates
    later, which ``kubectl wait`` cannot wait for before they exist)."""
    deadline = time.monotonic() + timeout_s
    while True:
        listed = json.loads(kubectl(cluster, "-n", namespace, "get", "pods", "-l", selector, "-o", "json"))
        pods = [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]
        ready = [
            p
            for p in pods
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        ]
        if pods and len(ready) == len(pods):
            return
        if time.monotonic() > deadline:
            events = kubectl(cluster, "-n", namespace, "get", "events", "--sort-by=.lastTimestamp")
            raise HarnessError(
                f"{what} ({namespace}, pods {selector}) not ready within {timeout_s}s: "
                f"{len(ready)}/{len(pods)} ready\n{events[-3000:]}"
            )
        time.sleep(2)
