"""The offline Sensor model (sensor_sim.py) agrees with Argo Events' own filter code.

`argo_events_filter/` is a tiny Go program over argo-events v1.9.11's `pkg/sensors/dependencies`
(pinned by its go.mod/go.sum, built through the Go module proxy on first use, then from the build
cache). Every dependency of every Sensor we ship, and of the examples, is run against a corpus of
GitHub events by both; any disagreement means the routing tests model something Argo does not do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PRESENT_KINDS
from tests.platform.conftest import PLATFORM, load_docs
from tests.platform.sensor_sim import dependency_matches
from tests.platform.test_sensors import pull_request, push

pytestmark = pytest.mark.tools

SOURCE = Path(__file__).parent / "argo_events_filter"
RealFilter = Callable[[dict[str, Any], dict[str, Any]], bool]


@pytest.fixture(scope="module")
def real_filter(tmp_path_factory: pytest.TempPathFactory) -> RealFilter:
    go = shutil.which("go")
    assert go, "Go is needed to build the Argo Events filter checker"
    binary = tmp_path_factory.mktemp("filter") / "filter"
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local")}
    proc = subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr

    def run(filters: dict[str, Any], event: dict[str, Any]) -> bool:
        out = subprocess.run(
            [str(binary), json.dumps(filters), json.dumps(event)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip() == "true"

    return run


def corpus() -> list[tuple[str, dict[str, Any]]]:
    create = push("artifacts/prompts/p/template.j2")
    create["body"]["X-GitHub-Event"] = "create"
    return [
        ("prompt template", push("artifacts/prompts/a/template.j2")),
        ("docs only", push("docs/x.md", "README.md")),
        ("lookalike folder", push("docs/artifacts/prompts/g.md")),
        ("guardrail removed", push(removed=("artifacts/guardrails/o/policy.yaml",))),
        (
            "rag + model config",
            push("artifacts/rag/r/rag.yaml", "artifacts/model-configs/m/model-config.yaml"),
        ),
        ("prompt dataset", push("artifacts/prompts/review-sentiment/eval/dataset.jsonl")),
        ("prompt manifest", push("artifacts/prompts/review-sentiment/prompt.yaml")),
        ("fifty files", push(*[f"artifacts/prompts/p{i}/template.j2" for i in range(50)])),
        (
            "no commits",
            {"headers": {}, "body": {"X-GitHub-Event": "push", "ref": "refs/heads/main", "commits": []}},
        ),
        ("pr opened", pull_request("opened")),
        ("pr synchronize", pull_request("synchronize")),
        ("pr closed", pull_request("closed")),
        ("pr labeled", pull_request("labeled")),
        ("create event", create),
    ]


def test_sensor_model_matches_argo_events(real_filter: RealFilter, built_docs: list[dict[str, Any]]) -> None:
    examples = [
        d
        for p in sorted(PLATFORM.glob("events/*/examples/*.yaml"))
        for d in load_docs(p.read_text(encoding="utf-8"))
        if d.get("kind") == "Sensor"
    ]
    # every Sensor an overlay builds (one push Sensor per kind, the pull-request one) and the examples
    sensors = [d for d in built_docs if d["kind"] == "Sensor"] + examples
    assert len(sensors) == len(PRESENT_KINDS) + 1 + len(examples)
    compared, matched = 0, 0
    disagreements = []
    for sensor in sensors:
        for dependency in sensor["spec"]["dependencies"]:
            for label, event in corpus():
                real = real_filter(dependency.get("filters") or {}, event)
                model = dependency_matches(dependency, event)
                compared += 1
                matched += real
                if real != model:
                    disagreements.append(
                        f"{sensor['metadata']['name']}/{dependency['name']} on {label}: "
                        f"argo-events={real} model={model}"
                    )
    assert disagreements == []
    dependencies = sum(len(s["spec"]["dependencies"]) for s in sensors)
    assert compared == dependencies * len(corpus()) and 0 < matched < compared, (
        "the corpus must exercise both outcomes"
    )
