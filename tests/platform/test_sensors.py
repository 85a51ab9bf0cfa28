"""Event routing: GitHub webhooks through our Sensors as an overlay builds them (simulated offline, see
sensor_sim.py) reach exactly the right versioned CI template with the right parameters: a push starts one
CI per touched kind, a pull request one CI for every kind."""

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

SENSOR_FILES = [
    PLATFORM / "events" / "ci-sensor" / "sensor.yaml",
    PLATFORM / "events" / "pull-request-sensor.yaml",
]
"""The Sensors as written: the push Sensor every kind loads (../<kind>/ patches it), the pull-request one."""
PR_CI = "genaiops-pr-ci-v1"
EXAMPLES = sorted(PLATFORM.glob("events/*/examples/*.yaml"))
# the kinds this repository ships (a rendered project keeps only the selected ones)
KINDS = [BY_NAME[name] for name in PRESENT_KINDS]
CLONE = "https://git.example.com/ml-platform/genai-platform.git"


@pytest.fixture
def sensors(built_docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every Sensor of an overlay with all the kinds this repository ships."""
    return [d for d in built_docs if d["kind"] == "Sensor"]


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


def pull_request(
    action: str = "opened", head_repo: str | None = "ml-platform/genai-platform"
) -> dict[str, Any]:
    """A GitHub pull_request event; ``head_repo`` None: the fork was deleted (GitHub sends null)."""
    return {
        "headers": {"X-Github-Event": ["pull_request"]},
        "body": {
            "X-GitHub-Event": "pull_request",
            "action": action,
            "number": 42,
            "repository": {"full_name": "ml-platform/genai-platform", "clone_url": CLONE},
            "pull_request": {
                "head": {
                    "sha": "c" * 40,
                    "ref": "feature/x",
                    "repo": {"full_name": head_repo} if head_repo else None,
                },
                "base": {"sha": "d" * 40, "ref": "main"},
            },
        },
    }


def targets(fired: list[Any]) -> list[str]:
    return sorted(f.workflow["spec"]["workflowTemplateRef"]["name"] for f in fired)


def test_each_sensor_file_opens_with_a_sample_payload() -> None:
    for path in [*SENSOR_FILES, *EXAMPLES]:
        assert path.read_text(encoding="utf-8").startswith("# Sample payload"), path


def test_one_push_sensor_per_kind_and_one_for_pull_requests(sensors: list[dict[str, Any]]) -> None:
    assert sorted(s["metadata"]["name"] for s in sensors) == sorted(
        [*(f"{k.name}-ci" for k in KINDS), "pull-request-ci"]
    )
    assert "KIND" not in json.dumps(sensors) and "FOLDER" not in json.dumps(sensors), "a placeholder is left"


def _sample(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    block = re.search(r"^# (\{\n.*?^# \})$", text, re.S | re.M)
    assert block, "the commented sample payload must be a JSON object"
    return json.loads(
        "\n".join(line.removeprefix("#").removeprefix(" ") for line in block.group(0).splitlines())
    )


def test_the_sample_payloads_route_as_their_files_say(sensors: list[dict[str, Any]]) -> None:
    push_sample = _sample(SENSOR_FILES[0])
    touched = {p.split("/")[1] for c in push_sample["body"]["commits"] for p in c["modified"] if "/" in p}
    expected = sorted(f"{k.pipeline}-v1" for k in KINDS if k.folder in touched)  # none: kind not rendered
    assert targets(fire(sensors, push_sample)) == expected
    assert targets(fire(sensors, _sample(SENSOR_FILES[1]))) == [PR_CI]


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


def test_a_pull_request_starts_one_ci_for_every_kind(sensors: list[dict[str, Any]]) -> None:
    """A pull_request payload lists no files: one workflow routes it by git diff for every kind, so the
    pull request gets one scorecard comment, not one per kind."""
    fired = fire(sensors, pull_request("synchronize"))
    assert targets(fired) == [PR_CI]
    params = fired[0].parameters
    assert params["repo-url"] == CLONE
    assert params["commit-sha"] == "c" * 40
    assert params["branch"] == "feature/x"
    assert params["repository"] == "ml-platform/genai-platform"
    assert params["pr-number"] == "42"
    assert params["head-repository"] == "ml-platform/genai-platform"  # the same repository: trusted
    assert json.loads(params["event"])["pull_request"]["base"]["sha"] == "d" * 40


@pytest.mark.parametrize(
    ("head_repo", "expected"), [("someone/genai-platform", "someone/genai-platform"), (None, "")]
)
def test_a_fork_pull_request_names_its_head_repository(
    sensors: list[dict[str, Any]], head_repo: str | None, expected: str
) -> None:
    """The pipeline trusts a run only when the head is the repository itself; a fork, or a deleted one
    (GitHub sends `"repo": null`), is passed on as such."""
    [fired] = fire(sensors, pull_request("opened", head_repo))
    assert fired.parameters["head-repository"] == expected != fired.parameters["repository"]


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
