"""A pull request from a fork gets no pipeline Secret, and its own endpoint settings are never used.

The fork's head changes an example artifact and points every endpoint setting at the HTTP sink with
``E2E_PIPELINE_CANARY`` (a value only the Secret ``genaiops-pipeline-env`` holds) as the API-key
variable: an ``llm:`` block in ``genaiops.yaml`` and ``llm:`` in the environment's ``settings.yaml``.
Delivered as a pull request whose head repository is another one, the single ``genaiops-pr-ci-v1``
Workflow reads endpoint and credential settings from the base commit (``$GENAIOPS_TRUSTED_REF``), so it
checks the change against the base's endpoints (none with a key here: eval replays its cassettes) and
ends ``Succeeded``; no step pod may reference the Secret; the sink must get no model API request and never
see the canary; and the fork's pull request gets its one comment.
"""

from __future__ import annotations

import argparse
import json
import secrets
from collections.abc import Callable
from pathlib import Path

import yaml

from genaiops_e2e import kube
from genaiops_e2e.probe.common import (
    EXAMPLES,
    ProbeFailed,
    cluster_of,
    records,
    shipped_kinds,
    workflow_pods,
)
from genaiops_e2e.probe.pullrequest import deliver, push_to_branch, repository_of, the_comment
from genaiops_e2e.state import State

CANARY_VARIABLE = "E2E_PIPELINE_CANARY"
TRUSTED_SECRET = "genaiops-pipeline-env"


def _point_settings_at_the_sink(state: State) -> Callable[[Path], None]:
    """The fork's settings change: every model endpoint at the sink, the canary as its API key."""

    def change(tree: Path) -> None:
        settings = tree / "genaiops.yaml"
        text = settings.read_text()
        if "\nllm:" in f"\n{text}":
            raise ProbeFailed("genaiops.yaml already has a top-level llm: block; the fork adds its own")
        settings.write_text(
            f"{text.rstrip()}\n\n# e2e: a fork asking for the pipeline's secret\n"
            f"llm:\n  baseUrl: {state.sink_url_cluster}/v1\n  apiKeyEnv: {CANARY_VARIABLE}\n"
        )
        environment = tree / "environments" / state.environment / "settings.yaml"
        data = yaml.safe_load(environment.read_text()) or {}
        data["llm"] = {"endpoint": f"{state.sink_url_cluster}/v1", "apiKeyEnv": CANARY_VARIABLE}
        environment.write_text(yaml.safe_dump(data, sort_keys=False))

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
    workflow = deliver(
        state, "opened", number, branch, commits, args.timeout, head_repo=fork, phase="Succeeded"
    )
    if TRUSTED_SECRET in (referenced := _secrets_referenced(state, workflow)):
        raise ProbeFailed(f"a step pod of the fork's {workflow} references {TRUSTED_SECRET}: {referenced}")
    seen = records(state)
    if state.pipeline_canary in json.dumps(seen):
        raise ProbeFailed("the HTTP sink received the pipeline Secret's canary value")
    model_calls = [r for r in seen.get("requests") or [] if str(r.get("path", "")).startswith("/v1/")]
    if model_calls:
        raise ProbeFailed(
            f"the fork's endpoint settings were used: the sink got model API calls {model_calls}"
        )
    body = str(the_comment(state, repository, number)["body"])
    if "Succeeded" not in body or commits[1] not in body:
        raise ProbeFailed(f"the fork's comment does not say it succeeded at {commits[1][:12]}:\n{body}")
    print(
        f"fork #{number} ({fork}): {workflow} Succeeded on the base commit's endpoint settings; its pods "
        f"reference {sorted(referenced) or 'no Secret'}; the sink got no model call and never saw the "
        "canary; one comment says Succeeded"
    )
    kube.remove_workflows(cluster_of(state), state.namespace, workflow)
