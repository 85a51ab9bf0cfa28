"""The Argo CD tree is consistent: every Application's rendered resources are allowed by its
AppProject (kinds, namespaces, source repository) and every path it points at builds."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.tools

CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "ClusterWorkflowTemplate",
    "PriorityClass",
    "StorageClass",
}


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]


def _build(kustomize: str, path: Path) -> list[dict[str, Any]]:
    proc = subprocess.run([kustomize, "build", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if isinstance(d, dict)]


def _settings() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "genaiops.yaml").read_text(encoding="utf-8"))


def _environments() -> list[str]:
    return [e["name"] for e in _settings()["environments"]]


def _allowed(entries: list[dict[str, str]] | None, group: str, kind: str) -> bool:
    return any(e.get("group") in (group, "*") and e.get("kind") in (kind, "*") for e in entries or [])


@pytest.mark.parametrize("env", _environments())
def test_project_allows_everything_its_applications_deploy(env: str, tools: dict[str, str]) -> None:
    docs = _docs(REPO_ROOT / f"environments/bootstrap/apps/{env}.yaml")
    project = next(d for d in docs if d["kind"] == "AppProject")
    apps = [d for d in docs if d["kind"] == "Application"]
    assert apps
    spec = project["spec"]
    destinations = {(d["server"], d["namespace"]) for d in spec["destinations"]}
    for app in apps:
        source, dest = app["spec"]["source"], app["spec"]["destination"]
        assert app["spec"]["project"] == project["metadata"]["name"]
        assert source["repoURL"] in spec["sourceRepos"]
        assert (dest["server"], dest["namespace"]) in destinations
        for res in _build(tools["kustomize"], REPO_ROOT / source["path"]):
            group = res["apiVersion"].rpartition("/")[0]
            kind, name = res["kind"], res["metadata"]["name"]
            if kind in CLUSTER_SCOPED:
                assert _allowed(spec.get("clusterResourceWhitelist"), group, kind), (env, kind, name)
                continue
            assert _allowed(spec.get("namespaceResourceWhitelist"), group, kind), (
                f"{app['metadata']['name']}: {group or 'core'}/{kind} {name} is not in the allow-list"
            )
            namespace = res["metadata"].get("namespace", dest["namespace"])
            assert (dest["server"], namespace) in destinations, (kind, name, namespace)


def test_root_application_points_at_the_children(tools: dict[str, str]) -> None:
    root = _build(tools["kustomize"], REPO_ROOT / "environments/bootstrap")
    app = next(d for d in root if d["kind"] == "Application")
    project = next(d for d in root if d["kind"] == "AppProject")
    assert app["spec"]["project"] == project["metadata"]["name"]
    children = _build(tools["kustomize"], REPO_ROOT / app["spec"]["source"]["path"])
    for child in children:
        assert _allowed(project["spec"]["namespaceResourceWhitelist"], "argoproj.io", child["kind"])
    names = {(d["kind"], d["metadata"]["name"]) for d in children}
    project_name = _settings()["project"]
    for env in _environments():
        assert ("AppProject", f"{project_name}-{env}") in names
        assert ("Application", f"{project_name}-artifacts-{env}") in names
