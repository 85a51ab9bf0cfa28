"""A blue-green Rollout whose new colour failed its smoke test: the active colour untouched.

``smoke-failed CHANGE ENV --rollout NAME``: CHANGE (an ``env-change`` commit) gave the Rollout NAME a new
revision that cannot serve. Waits until the Rollout aborted a new revision whose pods mount the changed
settings (Argo CD applied the commit; its sync operation itself may still be retrying, as waves wait for a
health that will not come): phase ``Degraded`` with the abort set, and the new revision's pre-promotion
AnalysisRun (the smoke test) ended ``Failed`` or ``Error``. Then checks that the switch never happened:
the active Service still selects the stable revision, whose pods are all ready and answered requests in
the last minute (Prometheus), and the team webhook got Argo CD's ``health-degraded`` notification.
Records the stable revision with CHANGE, for ``restored --revert``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from genaiops_e2e.probe.argocd import environment_app, summary
from genaiops_e2e.probe.common import ProbeFailed, load_record, poll, save_record
from genaiops_e2e.probe.repo import clone, git
from genaiops_e2e.probe.rollout import (
    answered_last_minute,
    kube_get,
    notified,
    prometheus_query,
    ready_pods,
    revision_mounts,
    rollout_line,
)
from genaiops_e2e.state import State


def _smoke_verdict(state: State, namespace: str, name: str, revision: str) -> str | None:
    """The pre-promotion AnalysisRun of ``revision`` that ended Failed or Error, and its metrics' verdicts."""
    for run in kube_get(state, namespace, "analysisruns")["items"]:
        labels = run["metadata"].get("labels", {})
        status = run.get("status") or {}
        owners = run["metadata"]["ownerReferences"]
        owned = any(o.get("kind") == "Rollout" and o.get("name") == name for o in owners)
        if not owned or labels.get("rollouts-pod-template-hash") != revision:
            continue
        if labels.get("rollout-type") != "PrePromotion" or status.get("phase") not in ("Failed", "Error"):
            continue
        verdicts = [
            f"{metric['name']} {metric.get('phase')}: {str(metric.get('message') or '')[:160]}"
            for metric in status.get("metricResults") or []
        ]
        return f"{run['metadata']['name']}: {status.get('phase')} ({'; '.join(verdicts)})"
    return None


def _carrying(state: State, namespace: str, revision: str, value: str) -> list[str]:
    """The ConfigMaps the pods of ``revision`` mount that carry ``value`` (the change reached them)."""
    return [
        name
        for name in sorted(revision_mounts(state, namespace, revision))
        if value in json.dumps(kube_get(state, namespace, "configmap", name).get("data") or {})
    ]


def smoke_failed(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.change)
    app = environment_app(state, args.env)
    namespace = app["spec"]["destination"]["namespace"]
    commit = record["after"]

    with clone(state) as tree:
        committed = int(git(tree, "show", "-s", "--format=%ct", commit).strip())
        what = f"{args.rollout} did not abort the new revision of {commit[:12]} with the active colour kept"

        def check() -> tuple[tuple[dict[str, Any], str, list[str]] | None, str]:
            app = environment_app(state, args.env)
            rollout = kube_get(state, namespace, "rollout", args.rollout)
            status = rollout.get("status") or {}
            seen = f"{summary(app)}\n{rollout_line(rollout)}"
            if not (status.get("abort") and status.get("phase") == "Degraded"):
                return None, seen
            new, stable = str(status.get("currentPodHash")), str(status.get("stableRS"))
            changed = _carrying(state, namespace, new, record["value"])
            verdict = _smoke_verdict(state, namespace, args.rollout, new) if changed else None
            active = (status.get("blueGreen") or {}).get("activeSelector")
            wanted = int(rollout["spec"]["replicas"])
            ready = ready_pods(state, namespace, stable)
            seen += f"; smoke test {verdict}; active {active}; stable {stable}: {ready}/{wanted} ready"
            done = verdict is not None and new != stable and active == stable and ready >= wanted
            return ((rollout, verdict, changed) if done else None), seen

        (rollout, verdict, changed), seen = poll(check, args.timeout, what)
        degraded = notified(state, tree, "health-degraded", app["metadata"]["name"], commit)
    status = rollout["status"]
    new, stable = str(status["currentPodHash"]), str(status["stableRS"])
    active = rollout["spec"]["strategy"]["blueGreen"]["activeService"]
    selected = kube_get(state, namespace, "service", active)["spec"]["selector"].get(
        "rollouts-pod-template-hash"
    )
    if selected != stable:
        raise ProbeFailed(f"Service {active} selects {selected}, not the stable {stable}")
    served = prometheus_query(state, answered_last_minute(namespace, stable))
    if not served or float(served[0]["value"][1]) <= 0:
        raise ProbeFailed(f"the stable revision {stable} answered no request in the last minute")
    save_record(args.change, {**record, "stable": stable})
    print(
        f"{args.rollout} in {namespace} aborted revision {new} {seen - committed:.0f}s after {commit[:12]} "
        f"({', '.join(changed)} carries the change)\n  smoke test {verdict}\n"
        f"  active Service {active} still selects {stable}, which answered "
        f"{float(served[0]['value'][1]):.0f} requests in the last minute\n"
        f"  team webhook: Argo CD's {degraded['event']!r} for {degraded['application']} at "
        f"{str(degraded.get('revision'))[:12]} (health {degraded.get('health')})"
    )
