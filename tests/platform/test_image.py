"""The pipeline image definition matches what the templates expect of it (checked statically: there is
no container engine here; building and running it on a cluster belongs to the end-to-end tests)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.platform import platform_policy as policy
from tests.platform.conftest import PLATFORM, load_docs, platform_files

DOCKERFILE = PLATFORM / "image" / "Dockerfile"


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def final_stage(text: str) -> str:
    return re.split(r"^FROM .*$", text, flags=re.M)[-1]


def test_base_images_are_pinned_to_exact_versions(dockerfile: str) -> None:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, re.M))
    images = [args.get(m.strip("${}"), m) for m in re.findall(r"^FROM (\S+)", dockerfile, re.M)]
    assert images
    for image in images:
        if image in {"uv", "build"}:
            continue
        tag = image.partition(":")[2]
        assert tag and tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag), f"{image} is not pinned"


def test_runs_as_the_non_root_user_the_templates_expect(dockerfile: str, built_docs: list[Any]) -> None:
    users = re.findall(r"^USER (\S+)$", final_stage(dockerfile), re.M)
    assert users == ["10001:10001"]
    # every pipeline a workflow is started from (the library's templates run under its pod settings)
    run_as = {
        policy.workflow_spec(d).get("securityContext", {}).get("runAsUser")
        for d in built_docs
        if d.get("kind") == "WorkflowTemplate" and "genaiops.dev/pipeline" in d["metadata"].get("labels", {})
    }
    assert run_as == {10001}


def test_has_what_the_steps_run(dockerfile: str) -> None:
    stage = final_stage(dockerfile)
    assert 'ENTRYPOINT ["genaiops"]' in stage
    assert re.search(r"apt-get install .*\bgit\b", stage), "the checkout and route steps run git"
    assert "safe.directory" in stage, "git must trust the tree Argo's init container wrote"
    assert "HOME=/tmp" in stage, "HOME must be on the writable /tmp emptyDir"
    assert "--no-dev" in dockerfile and "--frozen" in dockerfile, "install exactly uv.lock, without dev tools"


def test_steps_use_the_image_by_its_plain_name() -> None:
    docs: list[dict[str, Any]] = [
        d for p in platform_files() for d in load_docs(p.read_text(encoding="utf-8"))
    ]
    commands = {
        at.template["container"]["image"]
        for at in policy.templates(docs)
        if "container" in at.template and at.template["container"].get("command") != ["cosign"]
    }
    assert commands == {"genaiops"}, "kustomize maps the plain name `genaiops` per overlay"


def test_build_context_is_small() -> None:
    lines = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "ignore everything, then allow what the Dockerfile copies"
    assert {"!pyproject.toml", "!uv.lock", "!scripts/"} <= set(patterns)
