"""The repository's own manifests build and validate, and every kind we ship has a schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from genaiops.manifests.harness import HarnessResult
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.tools


def test_every_kustomization_builds_and_validates(harness: Callable[..., HarnessResult]) -> None:
    result = harness(REPO_ROOT)
    report = result.render()
    assert not result.failed_builds, report
    assert not result.invalid, report
    assert not result.skipped_kinds, report
    assert result.ok, report


def test_builds_cover_environments_bootstrap_and_platform(harness: Callable[..., HarnessResult]) -> None:
    result = harness(REPO_ROOT)
    built = {b.rel for b in result.builds}
    settings = yaml.safe_load((REPO_ROOT / "genaiops.yaml").read_text(encoding="utf-8"))
    envs = [e["name"] for e in settings["environments"]]
    expected = {
        "environments/base",
        "environments/bootstrap",
        "environments/bootstrap/apps",
        *(f"environments/{env}" for env in envs),
        *(f"platform/overlays/{env}" for env in envs),
    }
    assert expected <= built, expected - built
    assert not any(rel.startswith("platform/kinds/") for rel in built)  # Components are not roots
    kinds = set(result.tally())
    assert {"Application", "AppProject", "Namespace", "WorkflowTemplate", "Sensor", "EventSource"} <= kinds
