"""Faults injected while a workflow runs: a git server outage, a workflow-controller restart."""

from __future__ import annotations

import argparse
import time

from genaiops_e2e import kube
from genaiops_e2e.probe.common import TERMINAL, ProbeFailed, cluster_of, failed_steps, find_node, get_workflow
from genaiops_e2e.probe.workflows import wait_node
from genaiops_e2e.state import State


def git_outage(args: argparse.Namespace) -> None:
    """Stop the git server once the release starts (verify runs), until promote's first attempt failed."""
    state = State.load()
    cluster = cluster_of(state)
    deadline = time.monotonic() + args.timeout
    while True:
        workflow = get_workflow(state, args.workflow)
        if find_node(workflow, "verify") is not None:
            break
        if (workflow.get("status") or {}).get("phase") in TERMINAL:  # type: ignore[union-attr]
            raise ProbeFailed(f"{args.workflow} ended before its release: {failed_steps(workflow)}")
        if time.monotonic() > deadline:
            raise ProbeFailed(f"{args.workflow} never reached verify within {args.timeout}s")
        time.sleep(1)
    kube.kubectl(cluster, "-n", "genaiops-e2e", "scale", "deployment/git-server", "--replicas=0")
    kube.kubectl(
        cluster,
        "-n",
        "genaiops-e2e",
        "wait",
        "--for=delete",
        "pod",
        "-l",
        "app.kubernetes.io/name=git-server",
        "--timeout=120s",
        timeout=150,
    )
    print("git server stopped")
    try:
        while True:
            node = find_node(get_workflow(state, args.workflow), "promote(0)")
            if node is not None and node.get("phase") in ("Failed", "Error"):
                print(f"promote(0): {node.get('phase')} {node.get('message') or ''}")
                exit_code = (node.get("outputs") or {}).get("exitCode")  # type: ignore[union-attr]
                if str(exit_code) != "3":
                    raise ProbeFailed(f"promote's first attempt exited {exit_code}, not 3 (infrastructure)")
                break
            if node is not None and node.get("phase") == "Succeeded":
                raise ProbeFailed("promote succeeded while the git server was down")
            if (workflow := get_workflow(state, args.workflow)).get("status", {}).get("phase") in TERMINAL:  # type: ignore[union-attr]
                raise ProbeFailed(f"{args.workflow} ended during the outage: {failed_steps(workflow)}")
            if time.monotonic() > deadline:
                raise ProbeFailed(f"promote(0) of {args.workflow} did not fail within {args.timeout}s")
            time.sleep(1)
    finally:
        kube.kubectl(cluster, "-n", "genaiops-e2e", "scale", "deployment/git-server", "--replicas=1")
        kube.rollout(cluster, "genaiops-e2e", "git-server", timeout_s=180)
        print("git server started again")


def controller_restart(args: argparse.Namespace) -> None:
    state = State.load()
    cluster = cluster_of(state)
    wait_node(
        argparse.Namespace(workflow=args.workflow, node=args.node, phase="Running", timeout=args.timeout)
    )
    kube.kubectl(cluster, "-n", "argo", "delete", "pod", "-l", "app=workflow-controller", "--wait=true")
    print(f"deleted the workflow-controller pod while {args.node} of {args.workflow} ran")
    kube.rollout(cluster, "argo", "workflow-controller", timeout_s=180)
