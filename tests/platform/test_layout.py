"""The platform folder layout: the WorkflowTemplate library in platform/workflowtemplates/, the Argo
Events resources in platform/events/, one subfolder per kind in each, and one kustomize Component per
kind in platform/kinds/ that opts an overlay into exactly that kind's templates and Sensor."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops import scaffold
from genaiops.kinds import KINDS, Kind
from tests.platform.conftest import OVERLAY_SOURCES, PLATFORM, kustomize_build, load_docs

pytestmark = pytest.mark.tools

KIND_DIRS = sorted(k.name for k in KINDS)
# the kinds this repository ships (a rendered project keeps only the selected ones)
PRESENT = [k for k in KINDS if (PLATFORM / "kinds" / k.name).is_dir()]


def _kustomization(folder: Path) -> dict[str, Any]:
    return yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))


def _subfolders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def test_one_subfolder_per_kind_in_the_library_and_the_events() -> None:
    """A kind is in all three folders or in none (copier's `_exclude` must drop all three)."""
    components = _subfolders(PLATFORM / "kinds")
    assert components and set(components) <= set(KIND_DIRS), components
    shared = {"defaults", "pipeline"}  # the pipelines every kind shares, and their workflow defaults
    assert [f for f in _subfolders(PLATFORM / "workflowtemplates") if f not in shared] == components
    # the push Sensor every kind loads (ci-sensor), like the pipelines above
    assert [f for f in _subfolders(PLATFORM / "events") if f != "ci-sensor"] == components


def test_base_includes_the_shared_library_and_events() -> None:
    resources = _kustomization(PLATFORM / "base")["resources"]
    assert "../workflowtemplates" in resources
    assert "../events" in resources
    assert not (PLATFORM / "base" / "workflowtemplates").exists()
    assert not (PLATFORM / "base" / "events").exists()


@pytest.mark.parametrize("kind", [k.name for k in PRESENT])
def test_each_kind_component_adds_its_own_templates_and_sensor(kind: str) -> None:
    component = _kustomization(PLATFORM / "kinds" / kind)
    assert component["kind"] == "Component"
    assert component["resources"] == [f"../../workflowtemplates/{kind}", f"../../events/{kind}"]


def test_shared_folders_build_to_the_shared_resources() -> None:
    library = load_docs(kustomize_build(PLATFORM / "workflowtemplates"))
    assert {(d["kind"], d["metadata"]["name"]) for d in library} == {
        ("WorkflowTemplate", f"genaiops-{name}-v1") for name in ("base", "route", "notify", "sign", "pr-ci")
    }
    events = load_docs(kustomize_build(PLATFORM / "events"))
    assert sorted((d["kind"], d["metadata"]["name"]) for d in events) == [
        ("EventBus", "default"),
        ("EventSource", "github"),
        ("Sensor", "pull-request-ci"),  # one CI per pull request, for every kind
    ]


@pytest.mark.parametrize("kind", PRESENT, ids=lambda k: k.name)
def test_kind_folders_build_to_exactly_that_kinds_resources(kind: Kind) -> None:
    templates = load_docs(kustomize_build(PLATFORM / "workflowtemplates" / kind.name))
    assert sorted(d["metadata"]["name"] for d in templates) == sorted(
        [f"{kind.pipeline}-v1", f"{kind.name}-cd-v1"]
    )
    assert {d["kind"] for d in templates} == {"WorkflowTemplate"}
    sensors = load_docs(kustomize_build(PLATFORM / "events" / kind.name))
    assert [(d["kind"], d["metadata"]["name"]) for d in sensors] == [("Sensor", f"{kind.name}-ci")]


def test_generated_overlay_patches_reach_the_built_eventsource(tmp_path: Path) -> None:
    """The EventSource patch `genaiops init` writes applies cleanly to the shipped EventSource."""
    for folder in OVERLAY_SOURCES:
        shutil.copytree(PLATFORM / folder, tmp_path / "platform" / folder)
    (tmp_path / "genaiops.yaml").write_text(
        "repository: {url: 'https://github.com/acme/prompt-lib.git'}\n"
        f"kinds: [{PRESENT[0].name}]\n"
        "environments:\n  - name: dev\n    events_url: https://events.acme.example/dev\n",
        encoding="utf-8",
    )
    assert scaffold.run(tmp_path, out=io.StringIO(), err=io.StringIO()) == 0
    built = load_docs(kustomize_build(tmp_path / "platform" / "overlays" / "dev"))
    github = next(d for d in built if d["kind"] == "EventSource")["spec"]["github"]["genaiops"]
    assert github["repositories"] == [{"owner": "acme", "names": ["prompt-lib"]}]
    assert github["webhook"]["url"] == "https://events.acme.example/dev"
    assert github["webhook"]["endpoint"] == "/github"  # the rest of the EventSource is untouched
    assert {d["metadata"]["name"] for d in built if d["kind"] == "Sensor"} == {
        f"{PRESENT[0].name}-ci",
        "pull-request-ci",
    }
