"""The prompt kind's fan-in Sensor example (platform/events/prompt/examples/): it sits next to the prompt
Sensor, is not deployed, is schema-valid, and fires only when a prompt and its eval dataset change together.

Prompt-specific, so named test_prompt_*.py: a repository rendered without the prompt kind drops it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from genaiops.manifests.schemas import default_cache_root, ensure_schemas, schema_locations
from tests.conftest import REPO_ROOT
from tests.platform import platform_policy as policy
from tests.platform.conftest import PLATFORM, load_docs
from tests.platform.sensor_sim import dependency_matches, fire
from tests.platform.test_schemas import kubeconform
from tests.platform.test_sensors import push, targets

EXAMPLE = PLATFORM / "events" / "prompt" / "examples" / "prompt-with-dataset.yaml"


def test_the_fan_in_example_sits_next_to_the_prompt_sensor_and_is_not_deployed() -> None:
    assert EXAMPLE.is_file()
    kustomization: dict[str, Any] = yaml.safe_load(
        (PLATFORM / "events" / "prompt" / "kustomization.yaml").read_text(encoding="utf-8")
    )
    assert all("examples" not in r for r in kustomization["resources"])


def test_fan_in_example_needs_both_the_prompt_and_its_dataset() -> None:
    example = load_docs(EXAMPLE.read_text(encoding="utf-8"))
    deps = {d["name"]: d for d in example[0]["spec"]["dependencies"]}
    template_only = push("artifacts/prompts/review-sentiment/template.j2")
    dataset_only = push("artifacts/prompts/review-sentiment/eval/dataset.jsonl")
    assert dependency_matches(deps["prompt-template"], template_only)
    assert not dependency_matches(deps["prompt-dataset"], template_only)
    assert dependency_matches(deps["prompt-dataset"], dataset_only)
    assert not dependency_matches(deps["prompt-template"], dataset_only)
    assert fire(example, template_only) == [] and fire(example, dataset_only) == []
    both = fire(
        example,
        push(
            "artifacts/prompts/review-sentiment/prompt.yaml",
            "artifacts/prompts/review-sentiment/eval/dataset.jsonl",
        ),
    )
    assert targets(both) == ["prompt-ci-v1"]


@pytest.mark.tools
def test_the_fan_in_example_is_schema_valid() -> None:
    locations = schema_locations(ensure_schemas(default_cache_root(REPO_ROOT)))
    resources = kubeconform(locations, EXAMPLE)
    assert resources and [r["status"] for r in resources] == ["statusValid"] * len(resources)


def test_the_fan_in_example_passes_what_the_prompt_ci_declares(built_docs: list[dict[str, Any]]) -> None:
    """Swapped in for the prompt push Sensor, its parameters land on prompt-ci-v1's declared parameters."""
    example = load_docs(EXAMPLE.read_text(encoding="utf-8"))
    assert policy.check_sensor_parameters([*built_docs, *example]) == []
