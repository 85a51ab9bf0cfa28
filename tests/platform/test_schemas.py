"""kubeconform -strict over the platform build, against the pinned Kubernetes and Argo schemas (generated
offline into the schema cache by the manifest harness, genaiops.manifests). The prompt kind's Sensor example
is checked in test_prompt_events.py."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from genaiops.manifests.schemas import default_cache_root, ensure_schemas, schema_locations
from tests.conftest import REPO_ROOT
from tests.platform.conftest import PLATFORM, load_docs, tool

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def locations() -> list[str]:
    return schema_locations(ensure_schemas(default_cache_root(REPO_ROOT)))


def kubeconform(locations: list[str], *files: Path) -> list[dict[str, str]]:
    args = [tool("kubeconform"), "-strict", "-verbose", "-output", "json"]
    for location in locations:
        args += ["-schema-location", location]
    proc = subprocess.run([*args, *map(str, files)], capture_output=True, text=True, check=False, timeout=300)
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)["resources"]


def test_build_is_schema_valid_and_nothing_is_skipped(
    built_text: str, tmp_path: Path, locations: list[str]
) -> None:
    out = tmp_path / "platform.yaml"
    out.write_text(built_text, encoding="utf-8")
    resources = kubeconform(locations, out)
    statuses = Counter(r["status"] for r in resources)
    problems = [f"{r['kind']}/{r['name']}: {r.get('msg')}" for r in resources if r["status"] != "statusValid"]
    assert problems == [] and statuses["statusValid"] == len(load_docs(built_text))


def test_unknown_sensor_field_fails_naming_it(tmp_path: Path, locations: list[str]) -> None:
    sensor = load_docs((PLATFORM / "events" / "ci-sensor" / "sensor.yaml").read_text(encoding="utf-8"))[0]
    sensor["spec"]["dependencies"][0]["filters"]["dataLogicalOperatr"] = "or"
    path = tmp_path / "sensor.yaml"
    path.write_text(yaml.safe_dump(sensor), encoding="utf-8")
    [result] = kubeconform(locations, path)
    assert result["status"] == "statusInvalid"
    assert "/spec/dependencies/0/filters" in result["msg"] and "dataLogicalOperatr" in result["msg"]
