"""A pull request, end to end: signed ``pull_request`` deliveries to the EventSource, the one Workflow the
``pull-request-ci`` Sensor starts for every kind, and the one scorecard comment it keeps on the pull request
(read back from the HTTP sink that plays the GitHub API and the team webhook).

The pull request is a branch on the git server changing the example artifact of two kinds (one where the
repository ships one kind); its base is main. Its one comment must carry both artifacts' scorecards.
"opened" must create exactly one comment; a second push to the branch ("synchronize") must update that
same comment in place, never add one. No kind's push CI may start for a pull request's head commit.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from genaiops_e2e import kube
from genaiops_e2e.probe.common import EXAMPLES, ProbeFailed, cluster_of, records, shipped_kinds
from genaiops_e2e.probe.repo import clone, edit, git
from genaiops_e2e.probe.webhook import post_event, started
from genaiops_e2e.probe.workflows import await_phase
from genaiops_e2e.state import State

MARKER = "<!-- genaiops:scorecard -->"
"""The hidden line `genaiops notify --comment-key scorecard` keeps its comment by."""
PR_KIND_LABEL = "all"
"""genaiops-pr-ci-v1's `genaiops.dev/kind` label: it checks every kind at once."""


def push_to_branch(
    state: State,
    branch: str,
    artifacts: list[tuple[str, str]],
    first: bool,
    also: Callable[[Path], None] | None = None,
) -> tuple[str, str]:
    """Commit a change to each (kind, id) on ``branch`` (made from main the first time), and whatever
    ``also`` does to the tree; returns (base, head)."""
    with clone(state) as tree:
        base = git(tree, "rev-parse", "HEAD").strip()
        if first:
            git(tree, "checkout", "--quiet", "-b", branch)
        else:
            git(tree, "fetch", "--quiet", "origin", branch)
            git(tree, "checkout", "--quiet", "-b", branch, "FETCH_HEAD")
        changed = [edit(tree, kind, artifact_id) for kind, artifact_id in artifacts]
        if also is not None:
            also(tree)
        git(tree, "commit", "--quiet", "-am", f"e2e: pull request change to {', '.join(changed)}")
        head = git(tree, "rev-parse", "HEAD").strip()
        git(tree, "push", "--quiet", "origin", branch)
    return base, head


def repository_of(state: State) -> str:
    """owner/name of the repository on the git server (what GitHub calls ``full_name``)."""
    owner, name = state.git_url_cluster.removesuffix(".git").rsplit("/", 2)[-2:]
    return f"{owner}/{name}"


def _payload(
    state: State, action: str, number: int, branch: str, base: str, head: str, head_repo: str
) -> dict[str, object]:
    """GitHub's pull_request webhook body (what the EventSource hands the Sensors)."""
    return {
        "action": action,
        "number": number,
        "repository": {"full_name": repository_of(state), "clone_url": state.git_url_cluster},
        "pull_request": {
            "number": number,
            "head": {"sha": head, "ref": branch, "repo": {"full_name": head_repo}},
            "base": {"sha": base, "ref": "main"},
        },
    }


def deliver(
    state: State,
    action: str,
    number: int,
    branch: str,
    commits: tuple[str, str],
    timeout: float,
    *,
    head_repo: str = "",
    phase: str = "Succeeded",
) -> str:
    """Post the signed ``action`` delivery for the (base, head) ``commits`` from ``head_repo`` (default:
    the repository itself); its one Workflow, once it reached ``phase``."""
    base, head = commits
    payload = _payload(state, action, number, branch, base, head, head_repo or repository_of(state))
    if (status := post_event(state, "pull_request", payload, signed=True)) != 200:
        raise ProbeFailed(f"the EventSource answered {status} to the {action} delivery, expected 200")
    return _one_workflow(state, head, timeout, phase)


def _one_workflow(state: State, head: str, timeout: float, phase: str) -> str:
    """The one Workflow the delivery for ``head`` started, once it exists, awaited until ``phase``; and
    still the only one then (no kind's push CI started for the pull request)."""
    deadline = time.monotonic() + timeout
    while not (found := started(state, head)):
        if time.monotonic() > deadline:
            raise ProbeFailed(f"no Workflow started for the pull request head {head[:12]} in {timeout:.0f}s")
        time.sleep(2)
    names = [n for names in found.values() for n in names]
    if list(found) != [PR_KIND_LABEL] or len(names) != 1:
        raise ProbeFailed(f"the pull request's head {head[:12]} started {found}; expected one pr-ci Workflow")
    await_phase(state, names, phase, max(deadline - time.monotonic(), 60))
    if (after := started(state, head)) != found:
        raise ProbeFailed(f"the pull request's head {head[:12]} started {after}; expected only {names[0]}")
    return names[0]


def the_comment(state: State, repository: str, number: int) -> dict[str, object]:
    """The pull request's one scorecard comment (fails on none or several)."""
    comments = records(state)["comments"]
    assert isinstance(comments, dict)
    listed = comments.get(f"{repository}#{number}", [])
    marked = [c for c in listed if MARKER in str(c.get("body"))]
    if len(listed) != 1 or len(marked) != 1:
        raise ProbeFailed(f"pull request #{number} has {len(listed)} comments ({len(marked)} scorecards)")
    return dict(marked[0])


def pull_request(args: argparse.Namespace) -> None:
    state = State.load()
    artifacts = [(kind, EXAMPLES[kind]) for kind in shipped_kinds(state)[:2]]
    number = 1000 + secrets.randbelow(9000)
    branch = f"e2e/pull-request-{number}"
    repository = repository_of(state)
    cluster = cluster_of(state)

    base, head = push_to_branch(state, branch, artifacts, first=True)
    first = deliver(state, "opened", number, branch, (base, head), args.timeout)
    comment = the_comment(state, repository, number)
    body = str(comment["body"])
    for needed in (head, "Succeeded", *(f"`{artifact_id}`" for _, artifact_id in artifacts)):
        if needed not in body:
            raise ProbeFailed(f"the scorecard comment does not mention {needed!r}:\n{body[:2000]}")
    what = " and ".join(f"{kind} {artifact_id}" for kind, artifact_id in artifacts)
    print(f"#{number} opened: {first} Succeeded; one scorecard comment (id {comment['id']}) for {what}")

    _, head2 = push_to_branch(state, branch, artifacts, first=False)
    second = deliver(state, "synchronize", number, branch, (base, head2), args.timeout)
    updated = the_comment(state, repository, number)
    if updated["id"] != comment["id"] or updated.get("updates") != 1 or head2 not in str(updated["body"]):
        raise ProbeFailed(f"the synchronize run did not update comment {comment['id']} in place: {updated}")
    print(f"#{number} synchronize: {second} Succeeded; the same comment updated in place")

    deliveries = records(state)["deliveries"]
    assert isinstance(deliveries, list)
    for workflow in (first, second):
        if not any(workflow in json.dumps(d) for d in deliveries):
            raise ProbeFailed(f"the team webhook got nothing from {workflow}")
    print("the team webhook got both outcomes; no kind's push CI started for the pull request")
    kube.remove_workflows(cluster, state.namespace, first, second)
