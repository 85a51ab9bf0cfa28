"""Argo CD's side of the loop, read from the Kubernetes API (as ``argocd --core`` reads it).

- ``argocd-bootstrapped``: the root Application (app-of-apps) synced ``environments/bootstrap/apps``, and
  each environment's artifacts Application exists and, where it syncs automatically, is ``Synced`` at
  main's head and ``Healthy`` (its serving Rollouts ready on the seeded artifacts); an environment that
  needs approval waits for a manual sync.
- ``synced WORKFLOW ENV``: the promotion commit WORKFLOW pushed is what ENV's Application synced (that
  commit or a later one on main), its sync operation succeeded, and a ConfigMap with the promoted
  content's digest exists in ENV's namespace (``--retired``: the retirement commit WORKFLOW pushed, and no
  ConfigMap of the retired artifact is left: Argo CD pruned it). Prints the time from the commit to the
  observed sync.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from genaiops_e2e import kube
from genaiops_e2e.controllers import ARGO_CD_NAMESPACE
from genaiops_e2e.probe.common import ProbeFailed, cluster_of, load_record, poll
from genaiops_e2e.probe.repo import clone, git, promotions
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State


def applications(state: State, selector: str) -> list[dict[str, Any]]:
    listed = kube.kubectl(
        cluster_of(state), "-n", ARGO_CD_NAMESPACE, "get", "applications", "-l", selector, "-o", "json"
    )
    return list(json.loads(listed)["items"])


def summary(app: dict[str, Any]) -> str:
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    operation = status.get("operationState") or {}
    return (
        f"{app['metadata']['name']}: sync {sync.get('status')} at {str(sync.get('revision'))[:12]}, "
        f"health {(status.get('health') or {}).get('status')}, "
        f"operation {operation.get('phase')}: {str(operation.get('message', ''))[:300]}"
    )


def health(app: dict[str, Any]) -> str | None:
    return (app.get("status") or {}).get("health", {}).get("status")


def _synced_at(app: dict[str, Any]) -> str | None:
    """The revision the Application synced, once its sync status and last operation both say so."""
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    operation = status.get("operationState") or {}
    result = operation.get("syncResult") or {}
    settled = sync.get("status") == "Synced" and operation.get("phase") == "Succeeded"
    return str(sync["revision"]) if settled and result.get("revision") == sync.get("revision") else None


def synced_since(tree: Path, app: dict[str, Any], commit: str) -> str | None:
    """The revision ``app`` synced when it is ``commit`` or a later one on main, else None."""
    revision = _synced_at(app)
    return revision if revision is not None and descends(tree, commit, revision) else None


def descends(tree: Path, commit: str, revision: str) -> bool:
    """Whether ``revision`` is ``commit`` or a later commit on main (an older one: not yet)."""
    _head(tree)  # the revision may be newer than the clone
    try:
        git(tree, "merge-base", "--is-ancestor", commit, revision)
    except HarnessError:
        return False
    return True


def promotion_commit(tree: Path, workflow: str, record: dict[str, str]) -> tuple[str, int]:
    """WORKFLOW's (newest) promotion commit on main and its commit time (epoch seconds)."""
    commits = promotions(tree, record["after"], workflow)
    if not commits:
        raise ProbeFailed(f"no promotion commit by {workflow} on main after {record['after'][:12]}")
    return commits[0], int(git(tree, "show", "-s", "--format=%ct", commits[0]).strip())


def environment_app(state: State, env: str) -> dict[str, Any]:
    [app] = applications(state, f"app.kubernetes.io/component=artifacts,genaiops.io/environment={env}")
    return app


def _head(tree: Path) -> str:
    """main's head on the git server now (one fetch into an existing clone, not a clone per poll)."""
    git(tree, "fetch", "--quiet", "origin", "main")
    return git(tree, "rev-parse", "FETCH_HEAD").strip()


def bootstrapped(args: argparse.Namespace) -> None:
    state = State.load()
    with clone(state) as tree:
        _wait_bootstrapped(state, tree, args.timeout)


def _wait_bootstrapped(state: State, tree: Path, timeout: int) -> None:
    def check() -> tuple[str | None, str]:
        head = _head(tree)
        roots = applications(state, "app.kubernetes.io/component=bootstrap")
        environments = applications(state, "app.kubernetes.io/component=artifacts")
        listed = roots + environments
        automated = [app for app in listed if (app["spec"].get("syncPolicy") or {}).get("automated")]
        seen = "\n".join(summary(app) for app in listed) or "no Applications"
        if not (
            len(roots) == 1
            and roots[0] in automated
            and health(roots[0]) == "Healthy"
            and environments
            and all(_synced_at(app) == head and health(app) == "Healthy" for app in automated)
        ):
            return None, seen
        names = ", ".join(sorted(app["metadata"]["name"] for app in automated))
        manual = sorted(app["metadata"]["name"] for app in listed if app not in automated)
        waiting = f"; waiting for a manual sync (approval): {', '.join(manual)}" if manual else ""
        return f"Argo CD synced {names} at main's head {head[:12]}, all Healthy{waiting}", seen

    message, _ = poll(check, timeout, "Argo CD did not sync the bootstrap")
    print(message)


def configmaps_with(state: State, namespace: str, digest: str) -> list[str]:
    listed = json.loads(kube.kubectl(cluster_of(state), "-n", namespace, "get", "configmaps", "-o", "json"))
    return [c["metadata"]["name"] for c in listed["items"] if digest in json.dumps(c)]


def synced(args: argparse.Namespace) -> None:
    state = State.load()
    record = load_record(args.workflow)
    app = environment_app(state, args.env)
    namespace = app["spec"]["destination"]["namespace"]
    with clone(state) as tree:
        commit, committed = promotion_commit(tree, args.workflow, record)

        def check() -> tuple[tuple[str, dict[str, Any]] | None, str]:
            app = environment_app(state, args.env)
            revision = synced_since(tree, app, commit)
            return ((revision, app) if revision else None), summary(app)

        (revision, app), seen = poll(check, args.timeout, f"{args.env} did not sync {commit[:12]}")
    if args.retired:
        _pruned(state, namespace, record, app, revision, seen - committed)
        return
    found = configmaps_with(state, namespace, record["digest"])
    if not found:
        raise ProbeFailed(
            f"{app['metadata']['name']} synced {revision[:12]}, but no ConfigMap in {namespace} "
            f"carries {record['digest']}"
        )
    print(
        f"{app['metadata']['name']} synced {revision[:12]} (promotion {commit[:12]} by {args.workflow}) "
        f"{seen - committed:.0f}s after the commit; ConfigMap {', '.join(found)} in {namespace} carries "
        f"{record['digest']}; health {health(app)}"
    )


def _pruned(
    state: State, namespace: str, record: dict[str, str], app: dict[str, Any], revision: str, delay: float
) -> None:
    """After the retirement's sync, no ConfigMap of the retired artifact is left in ``namespace``."""
    selector = f"genaiops.dev/kind={record['kind']},genaiops.dev/id={record['id']}"
    cluster = cluster_of(state)
    listed = kube.kubectl(cluster, "-n", namespace, "get", "configmaps", "-l", selector, "-o", "name")
    if listed.strip():
        name = app["metadata"]["name"]
        raise ProbeFailed(f"{name} synced {revision[:12]}, but {namespace} still has {listed.strip()}")
    print(
        f"{app['metadata']['name']} synced {revision[:12]} {delay:.0f}s after the retirement commit; "
        f"no ConfigMap labelled {selector} is left in {namespace} (pruned); health {health(app)}"
    )
