"""`argo lint --offline` (the pinned Argo CLI) over every template, as built and as committed, and
the clear messages it gives for an unknown field and a dangling templateRef."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.kinds import BY_NAME
from tests.conftest import PRESENT_KINDS
from tests.platform.conftest import PLATFORM, load_docs, platform_files, tool

pytestmark = pytest.mark.tools

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def argo_lint(*paths: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [tool("argo"), "lint", "--offline", "--no-color", "--output", "simple", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return proc.returncode, _ANSI.sub("", proc.stdout + proc.stderr)


def argo_only(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") in ("WorkflowTemplate", "CronWorkflow")]


def test_built_templates_lint_clean(built_text: str, tmp_path: Path) -> None:
    out = tmp_path / "platform.yaml"
    out.write_text(yaml.safe_dump_all(argo_only(load_docs(built_text))), encoding="utf-8")
    code, text = argo_lint(out)
    assert code == 0, text


def test_committed_files_lint_clean_together() -> None:
    """The source files as committed (image name `genaiops`, no namespace) lint clean too; linting them
    together lets templateRefs across files resolve."""
    files = [p for p in platform_files() if argo_only(load_docs(p.read_text(encoding="utf-8")))]
    # the library (base, route, notify, sign), the pipelines written once (ci, cd), the pull-request
    # pipeline and the scheduled checks (their template and two CronWorkflows): the per-kind pipelines are
    # kustomize renames of ci and cd
    assert len(files) == 10, [str(f) for f in files]
    code, text = argo_lint(*files)
    assert code == 0, text


def _write(tmp_path: Path, docs: list[dict[str, Any]]) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return path


def test_unknown_field_fails_naming_the_field(built_text: str, tmp_path: Path) -> None:
    docs = argo_only(load_docs(built_text))
    ci_name = f"{BY_NAME[PRESENT_KINDS[0]].pipeline}-v1"
    ci = next(d for d in docs if d["metadata"]["name"] == ci_name)
    ci["spec"]["activeDeadline"] = 60
    code, text = argo_lint(_write(tmp_path, docs))
    assert code != 0
    assert ci_name in text and 'unknown field "spec.activeDeadline"' in text


def test_dangling_template_ref_fails_naming_the_template(built_text: str, tmp_path: Path) -> None:
    docs = argo_only(load_docs(built_text))
    cd_name = f"{PRESENT_KINDS[-1]}-cd-v1"
    cd = next(d for d in docs if d["metadata"]["name"] == cd_name)
    release = next(t for t in cd["spec"]["templates"] if t["name"] == "release")
    release["dag"]["tasks"][0]["templateRef"]["name"] = "genaiops-sign-v9"
    code, text = argo_lint(_write(tmp_path, docs))
    assert code != 0
    assert 'couldn\'t find workflow template "genaiops-sign-v9"' in text and cd_name in text


def test_platform_folder_has_no_jinja_files() -> None:
    """copier copies plain files verbatim; Argo's {{...}} must never meet a Jinja renderer."""
    assert not list(PLATFORM.rglob("*.jinja"))
