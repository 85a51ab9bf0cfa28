"""A pull request from a fork gets no pipeline Secret, whatever its own settings ask for.

The fork's head changes an example artifact and adds an ``llm:`` block to ``genaiops.yaml`` that points
the model endpoint at the HTTP sink and names ``E2E_PIPELINE_CANARY`` as its API-key variable: a value only
the Secret ``genaiops-pipeline-env`` holds. Delivered as a pull request whose head repository is another
one, the single ``genaiops-pr-ci-v1`` Workflow must end ``Failed`` because that variable is not set in its
validate or eval step (the step ran, and the Secret was not there), no step pod may reference the
Secret, the sink must never see the canary, and the fork's pull request still gets its one comment.
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections.abc import Callable
from pathlib import Path

from genaiops_e2e import kube
from genaiops_e2e.probe.common import (
    EXAMPLES,
    ProbeFailed,
    cluster_of,
    failed_pod_logs,
    records,
    shipped_kinds,
    workflow_pods,
)
from genaiops_e2e.probe.pullrequest import deliver, push_to_branch, repository_of, the_comment
from genaiops_e2e.state import State

CANARY_VARIABLE = "E2E_PIPELINE_CANARY"
TRUSTED_SECRET = "genaiops-pipeline-env"


def _point_settings_at_the_sink(state: State) -> Callable[[Path], None]:
    """The fork's settings change: the model endpoint at the sink, the canary as its API key."""

    def change(tree: Path) -> None:
        settings = tree / "genaiops.yaml"
        text = settings.read_text()
        if "\nllm:" in f"\n{text}":
            raise ProbeFailed("genaiops.yaml already has a top-level llm: block; the fork adds its own")
        settings.write_text(
            f"{text.rstrip()}\n\n# e2e: a fork asking for the pipeline's secret\n"
            f"llm:\n  baseUrl: {state.sink_url_cluster}/v1\n  apiKeyEnv: {CANARY_VARIABLE}\n"
        )

    return change


def _secrets_referenced(state: State, workflow: str) -> set[str]:
    """The Secrets the workflow's remaining step pods take environment from (failed pods are kept)."""
    return {
        source["secretRef"]["name"]
        for pod in workflow_pods(state, workflow)
        for container in pod["spec"]["containers"]
        for source in container.get("envFrom") or []
        if "secretRef" in source
    }


def fork_pull_request(args: argparse.Namespace) -> None:
    state = State.load()
    if not state.pipeline_canary:
        raise ProbeFailed("this installation has no pipeline canary: run `python -m genaiops_e2e up` again")
    kind = shipped_kinds(state)[0]
    number = 1000 + secrets.randbelow(9000)
    branch = f"e2e/fork-{number}"
    repository = repository_of(state)
    fork = f"e2e-fork-{number}/{repository.split('/')[1]}"
    change = _point_settings_at_the_sink(state)
    commits = push_to_branch(state, branch, [(kind, EXAMPLES[kind])], first=True, also=change)
    workflow = deliver(state, "opened", number, branch, commits, args.timeout, head_repo=fork, phase="Failed")
    logs = failed_pod_logs(state, workflow, tail=40)
    if CANARY_VARIABLE not in logs or "not set" not in logs:
        raise ProbeFailed(f"{workflow} failed, but not because {CANARY_VARIABLE} was missing:\n{logs}")
    if TRUSTED_SECRET in (referenced := _secrets_referenced(state, workflow)):
        raise ProbeFailed(f"a step pod of the fork's {workflow} references {TRUSTED_SECRET}: {referenced}")
    if state.pipeline_canary in json.dumps(records(state)):
        raise ProbeFailed("the HTTP sink received the pipeline Secret's canary value")
    body = str(the_comment(state, repository, number)["body"])
    if "Failed" not in body or commits[1] not in body:
        raise ProbeFailed(f"the fork's comment does not say it failed at {commits[1][:12]}:\n{body}")
    print(
        f"fork #{number} ({fork}): {workflow} Failed with {CANARY_VARIABLE} unset; its pods reference "
        f"{sorted(referenced) or 'no Secret'}; the sink never saw the canary; one comment says Failed"
    )
    kube.remove_workflows(cluster_of(state), state.namespace, workflow)
