"""Fixtures for the manifest harness tests: the pinned tools and the generated schema cache."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from genaiops.manifests.build import find_tool
from genaiops.manifests.harness import HarnessResult, run
from genaiops.manifests.schemas import default_cache_root, ensure_schemas
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    """kustomize and kubeconform from .tools/bin (scripts/install-tools.sh)."""
    return {name: find_tool(name, REPO_ROOT) for name in ("kustomize", "kubeconform")}


@pytest.fixture(scope="session")
def schema_dirs() -> list[Path]:
    """The pinned schemas, generated once into the (git-ignored) cache from the Go module cache."""
    return ensure_schemas(default_cache_root(REPO_ROOT))


@pytest.fixture
def harness(tools: dict[str, str], schema_dirs: list[Path]) -> Callable[..., HarnessResult]:
    """Run the harness on a repository folder."""

    def _run(
        repo: Path, search: list[str] | None = None, allow_skip: frozenset[str] = frozenset()
    ) -> HarnessResult:
        return run(
            repo, tools["kustomize"], tools["kubeconform"], schema_dirs, search=search, allow_skip=allow_skip
        )

    return _run


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of this repository's platform/ and environments/ to break on purpose."""
    target = tmp_path / "repo"
    for top in ("platform", "environments"):
        shutil.copytree(REPO_ROOT / top, target / top)
    return target
