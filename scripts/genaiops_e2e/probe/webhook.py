"""GitHub webhooks posted to the platform's EventSource, and which Workflows the Sensors started for them.

A delivery is a real commit on the git server (an empty one, so every delivery has its own sha) described
by a GitHub push payload whose file list is chosen by the scenario, signed with the EventSource's HMAC
secret (``X-Hub-Signature-256``) or deliberately not. The Sensors' Workflows carry the commit as their
``commit-sha`` parameter, so each delivery's Workflows can be told apart.

"Exactly these kinds, none for the others" needs to know when every Sensor has seen a delivery. JetStream
hands each Sensor its events in order, so a second delivery that touches every kind is a barrier: once
each kind's Workflow for the barrier exists, every Sensor has already decided about the delivery before.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from genaiops.kinds import BY_NAME
from genaiops_e2e import kube
from genaiops_e2e.probe.common import ProbeFailed, cluster_of, shipped_kinds
from genaiops_e2e.probe.repo import clone, git
from genaiops_e2e.probe.submit import push_payload
from genaiops_e2e.state import State

NOISE_FOLDERS = ("docs", "platform")
"""Where the paths outside artifacts/ that a real push touches too come from (they must start nothing)."""
MIN_NOISE = 5


def _artifact_files(tree: Path, kind: str) -> list[str]:
    root = tree / "artifacts" / BY_NAME[kind].folder
    return sorted(str(p.relative_to(tree)) for p in root.rglob("*") if p.is_file())


def _noise(tree: Path) -> list[str]:
    found = [p for folder in NOISE_FOLDERS for p in sorted((tree / folder).rglob("*.md"))]
    return [str(p.relative_to(tree)) for p in found]


def _spread(tree: Path, kinds: list[str], count: int) -> list[str]:
    """``count`` paths (as far as the repository has them): files of each kind in turn, at least one each,
    then documentation noise."""
    pools = [_artifact_files(tree, kind) for kind in kinds]
    if not all(pools):
        raise ProbeFailed(f"a kind of {kinds} has no files under artifacts/")
    wanted = max(count - MIN_NOISE, len(kinds))
    chosen: list[str] = []
    index = 0
    while len(chosen) < wanted and any(index < len(pool) for pool in pools):
        chosen += [pool[index] for pool in pools if index < len(pool)]
        index += 1
    chosen = chosen[:wanted]
    return chosen + _noise(tree)[: max(count - len(chosen), 0)]


def post_event(state: State, event: str, payload: dict[str, object], *, signed: bool) -> int:
    """POST a GitHub webhook delivery of ``event`` to the EventSource, signed with the run's secret (or,
    with ``signed=False``, with a wrong one); returns the HTTP status it answered."""
    body = json.dumps(payload).encode()
    secret = state.webhook_secret.encode() if signed else uuid.uuid4().hex.encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        state.webhook_url_host,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:  # nothing listens: the EventSource is down
        raise ProbeFailed(f"the EventSource at {state.webhook_url_host} did not answer: {exc}") from None


def deliver(state: State, kinds: list[str], count: int, *, signed: bool) -> tuple[str, int, int]:
    """Push an empty commit and post its webhook; returns (commit sha, HTTP status, paths listed)."""
    with clone(state) as tree:
        files = _spread(tree, kinds, count)
        before = git(tree, "rev-parse", "HEAD").strip()
        message = f"e2e: webhook delivery touching {', '.join(kinds)}"
        git(tree, "commit", "--quiet", "--allow-empty", "-m", message)
        after = git(tree, "rev-parse", "HEAD").strip()
        git(tree, "push", "--quiet", "origin", "main")
    payload = push_payload(state, before, after, message, files)
    status = post_event(state, "push", payload, signed=signed)
    return after, status, len(files)


def started(state: State, sha: str) -> dict[str, list[str]]:
    """Workflows whose ``commit-sha`` is ``sha``: kind -> names."""
    listed = json.loads(
        kube.kubectl(cluster_of(state), "-n", state.namespace, "get", "workflows", "-o", "json")
    )
    found: dict[str, list[str]] = {}
    for workflow in listed["items"]:
        parameters = ((workflow.get("spec") or {}).get("arguments") or {}).get("parameters") or []
        if any(p.get("name") == "commit-sha" and p.get("value") == sha for p in parameters):
            kind = workflow["metadata"].get("labels", {}).get("genaiops.dev/kind", "?")
            found.setdefault(kind, []).append(workflow["metadata"]["name"])
    return found


def _barrier(state: State, kinds: list[str], timeout: float) -> str:
    """A signed delivery touching every kind, awaited until each kind's Sensor has started its Workflow."""
    sha, status, _ = deliver(state, kinds, len(kinds), signed=True)
    if status != 200:
        raise ProbeFailed(f"the barrier delivery was answered {status}, not 200")
    deadline = time.monotonic() + timeout
    while True:
        seen = started(state, sha)
        if all(kind in seen for kind in kinds):
            return sha
        if time.monotonic() > deadline:
            raise ProbeFailed(
                f"the barrier delivery started only {sorted(seen)} of {kinds} within {timeout}s"
            )
        time.sleep(2)


def webhook(args: argparse.Namespace) -> None:
    """Post a push touching ``--files`` paths across all kinds but the last (and docs noise); check that
    exactly one Workflow per touched kind starts, none for the others; signed wrongly, that none starts."""
    state = State.load()
    kinds = shipped_kinds(state)
    touched = kinds[:-1] if len(kinds) > 1 else kinds
    expected_status = 200 if not args.bad_signature else 400
    sha, status, paths = deliver(state, touched, args.files, signed=not args.bad_signature)
    if status != expected_status:
        raise ProbeFailed(f"the EventSource answered {status}, expected {expected_status}")
    barrier = _barrier(state, kinds, args.timeout)
    found = started(state, sha)
    wanted = {} if args.bad_signature else {kind: 1 for kind in touched}
    counts = {kind: len(names) for kind, names in found.items()}
    cluster = cluster_of(state)
    for names in [*found.values(), *started(state, barrier).values()]:  # their runs are not the point
        kube.remove_workflows(cluster, state.namespace, *names)
    if counts != wanted:
        raise ProbeFailed(f"the delivery of {sha[:12]} started {found}; expected one per kind of {wanted}")
    what = "nothing" if not wanted else ", ".join(f"{k}: 1" for k in wanted)
    print(f"delivery {sha[:12]} ({paths} paths, answered {status}) started {what}; none for the others")
