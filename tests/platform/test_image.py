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


def test_the_schema_validators_are_compiled_at_build_time(dockerfile: str, tmp_path: Any) -> None:
    """The build stage fills the code cache the final stage points at, and a step then reads every fast
    validator from it without generating one (generation would cost each step ~0.3 s)."""
    import os
    import subprocess
    import sys

    build = re.split(r"^FROM .*$", dockerfile, flags=re.M)[-2]
    filled = re.search(r"GENAIOPS_CACHE_DIR=(\S+) .*compile_fast_validators", build, re.S)
    assert filled, "the build stage compiles the validators"
    assert f"GENAIOPS_CACHE_DIR={filled.group(1)}" in final_stage(dockerfile)
    env = {**os.environ, "GENAIOPS_CACHE_DIR": str(tmp_path / "cache")}
    warm = "from genaiops.schemacheck import compile_fast_validators as c; print(c())"
    assert (
        int(
            subprocess.run(
                [sys.executable, "-c", warm], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        > 0
    )
    step = (
        "import fastjsonschema\n"
        "def refuse(*a, **k): raise AssertionError('generated at run time')\n"
        "fastjsonschema.compile_to_code = refuse\n"
        "from genaiops import schemacheck\n"
        "for name in sorted(schemacheck.FAST_SCHEMAS): schemacheck._fast_validator(name)\n"
    )
    subprocess.run([sys.executable, "-c", step], env=env, check=True)
