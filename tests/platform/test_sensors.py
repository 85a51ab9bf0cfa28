"""Event routing: GitHub webhooks through our Sensors (simulated offline, see sensor_sim.py) reach
exactly the right versioned CI template, once per kind per event, with the right parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from genaiops.kinds import BY_NAME
from tests.conftest import PRESENT_KINDS
from tests.platform.conftest import PLATFORM, load_docs
from tests.platform.sensor_sim import Unsupported, dependency_matches, fire

SENSOR_FILES = sorted(PLATFORM.glob("events/*/sensor.yaml"))
EXAMPLES = sorted(PLATFORM.glob("events/*/examples/*.yaml"))
# the kinds this repository ships (a rendered project keeps only the selected ones)
KINDS = [BY_NAME[name] for name in PRESENT_KINDS]
CLONE = "https://git.example.com/ml-platform/genai-platform.git"


@pytest.fixture(scope="module")
def sensors() -> list[dict[str, Any]]:
    return [doc for path in SENSOR_FILES for doc in load_docs(path.read_text(encoding="utf-8"))]


def push(*paths: str, ref: str = "refs/heads/main", removed: tuple[str, ...] = ()) -> dict[str, Any]:
    """A GitHub push as the Argo Events GitHub EventSource publishes it."""
    return {
        "headers": {"X-Github-Event": ["push"]},
        "body": {
            "X-GitHub-Event": "push",
            "ref": ref,
            "before": "a" * 40,
            "after": "b" * 40,
            "repository": {"full_name": "ml-platform/genai-platform", "clone_url": CLONE},
            "commits": [{"added": [], "modified": list(paths), "removed": list(removed)}],
        },
    }


def pull_request(action: str = "opened") -> dict[str, Any]:
    return {
        "headers": {"X-Github-Event": ["pull_request"]},
        "body": {
            "X-GitHub-Event": "pull_request",
            "action": action,
            "number": 42,
            "repository": {"full_name": "ml-platform/genai-platform", "clone_url": CLONE},
            "pull_request": {
                "head": {"sha": "c" * 40, "ref": "feature/x"},
                "base": {"sha": "d" * 40, "ref": "main"},
            },
        },
    }


def targets(fired: list[Any]) -> list[str]:
    return sorted(f.workflow["spec"]["workflowTemplateRef"]["name"] for f in fired)


def test_one_sensor_file_per_kind_opens_with_a_sample_payload() -> None:
    assert [p.parent.name for p in SENSOR_FILES] == sorted(k.name for k in KINDS)
    for path in [*SENSOR_FILES, *EXAMPLES]:
        assert path.read_text(encoding="utf-8").startswith("# Sample payload"), path


@pytest.mark.parametrize("kind", PRESENT_KINDS)
def test_sample_payload_in_the_sensor_file_routes_to_its_kind(
    kind: str, sensors: list[dict[str, Any]]
) -> None:
    text = (PLATFORM / "events" / kind / "sensor.yaml").read_text(encoding="utf-8")
    block = re.search(r"^# (\{\n.*?^# \})$", text, re.S | re.M)
    assert block, "the commented sample payload must be a JSON object"
    payload = json.loads(
        "\n".join(line.removeprefix("#").removeprefix(" ") for line in block.group(0).splitlines())
    )
    assert targets(fire(sensors, payload)) == [f"{BY_NAME[kind].pipeline}-v1"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_push_under_a_kind_folder_starts_only_that_kinds_ci(
    kind: Any, sensors: list[dict[str, Any]]
) -> None:
    fired = fire(sensors, push(f"artifacts/{kind.folder}/some-id/{kind.manifest}", "README.md"))
    assert targets(fired) == [f"{kind.pipeline}-v1"]
    params = fired[0].parameters
    assert params["repo-url"] == CLONE
    assert params["commit-sha"] == "b" * 40
    assert params["branch"] == "main"
    assert params["event-type"] == "push"
    assert params["repository"] == "ml-platform/genai-platform"
    assert json.loads(params["event"])["after"] == "b" * 40, "the workflow gets the webhook body to route"


def test_a_fifty_file_merge_starts_one_workflow_per_kind_not_per_file(sensors: list[dict[str, Any]]) -> None:
    files = [
        f"artifacts/{KINDS[i % len(KINDS)].folder}/a{i}/{KINDS[i % len(KINDS)].manifest}" for i in range(49)
    ]
    files.append("docs/index.md")
    assert len(files) == 50
    assert targets(fire(sensors, push(*files))) == sorted(f"{k.pipeline}-v1" for k in KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_removal_still_routes(kind: Any, sensors: list[dict[str, Any]]) -> None:
    removed = (f"artifacts/{kind.folder}/old/{kind.manifest}",)
    assert targets(fire(sensors, push(removed=removed))) == [f"{kind.pipeline}-v1"]


def test_changes_outside_artifacts_start_nothing(sensors: list[dict[str, Any]]) -> None:
    assert fire(sensors, push("docs/architecture.md", "scripts/genaiops/cli.py", "platform/README.md")) == []
    # a folder that merely contains the word is not the kind's folder
    assert fire(sensors, push("docs/artifacts/prompts/guide.md")) == []


def test_branch_comes_from_the_ref(sensors: list[dict[str, Any]]) -> None:
    kind = KINDS[0]
    fired = fire(sensors, push(f"artifacts/{kind.folder}/m/{kind.manifest}", ref="refs/heads/feature/a-b"))
    assert fired[0].parameters["branch"] == "feature/a-b"


def test_pull_requests_start_each_kinds_ci_once(sensors: list[dict[str, Any]]) -> None:
    """A pull_request payload lists no files, so each kind's CI routes the PR by git diff itself."""
    fired = fire(sensors, pull_request("synchronize"))
    assert targets(fired) == sorted(f"{k.pipeline}-v1" for k in KINDS)
    for item in fired:
        assert item.parameters["commit-sha"] == "c" * 40
        assert item.parameters["branch"] == "feature/x"
        assert item.parameters["event-type"] == "pull_request"
        assert item.parameters["pr-number"] == "42"


@pytest.mark.parametrize("action", ["closed", "labeled", "assigned"])
def test_other_pull_request_actions_start_nothing(action: str, sensors: list[dict[str, Any]]) -> None:
    assert fire(sensors, pull_request(action)) == []


def test_other_events_start_nothing(sensors: list[dict[str, Any]]) -> None:
    event = push("artifacts/prompts/p/template.j2")
    event["body"]["X-GitHub-Event"] = "create"
    assert fire(sensors, event) == []


def test_simulator_refuses_features_it_does_not_model() -> None:
    dependency = {"name": "d", "filters": {"script": "return true"}}
    with pytest.raises(Unsupported):
        dependency_matches(dependency, push("x"))


def test_sensor_files_hold_one_sensor_each() -> None:
    for path in SENSOR_FILES:
        docs = load_docs(Path(path).read_text(encoding="utf-8"))
        assert [d["kind"] for d in docs] == ["Sensor"], path
