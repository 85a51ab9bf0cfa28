"""Render the template with three answer sets and run each generated repository's own checks inside it.

Answer sets: the defaults; a single environment with two artifact kinds; custom names everywhere. Each
set is rendered once (module-scoped fixture), `git init` + committed like a team would, set up with its
own `make setup`, and then checked: the recorded answers, the files the answers select, the
answer-derived manifests, `pre-commit run --all-files`, `make validate` (kustomize + kubeconform) and
`make test` (the generated repository's pytest).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops.kinds import KINDS
from tests.template.conftest import (
    DEFAULT_ANSWERS,
    TEMPLATE_ROOT,
    check,
    clean_env,
    commit_all,
    git,
    load_answers,
    render,
)

pytestmark = [pytest.mark.template, pytest.mark.xdist_group("template-renders")]


@dataclass(frozen=True)
class AnswerSet:
    """Answers passed with `-d`, and every answer copier must end up recording."""

    name: str
    data: dict[str, Any]

    @property
    def expected(self) -> dict[str, Any]:
        answers = {**DEFAULT_ANSWERS, **self.data}
        if "approval_environments" not in self.data:
            answers["approval_environments"] = ["prod"] if "prod" in answers["environments"] else []
        return answers


ANSWER_SETS = {
    s.name: s
    for s in (
        AnswerSet("defaults", {}),
        AnswerSet(
            "single-env-two-kinds", {"environments": ["dev"], "artifact_kinds": ["prompt", "model-config"]}
        ),
        AnswerSet(
            "custom-names",
            {
                "project_name": "acme-llm-ops",
                "team_name": "search-quality",
                "repo_url": "ssh://git@git.acme.test:2222/search/acme-llm-ops.git",
                "default_branch": "trunk",
                "pipeline_image": "registry.acme.test:5000/search/genaiops-runner",
                "pipeline_image_tag": "2026.11.1",
                "environments": ["qa", "preprod", "live"],
                "approval_environments": ["preprod", "live"],
                "namespace_workflows": "wf-system",
                "namespace_events": "events-system",
                "namespace_argocd": "gitops",
                "namespace_pipelines": "acme-pipelines",
                "artifact_kinds": ["model-config", "rag", "guardrail"],
                "llm_endpoint": "https://llm.acme.test/v1",
                "embedding_endpoint": "http://embeddings.ml.svc.cluster.local:8080/v1",
                "notification_webhook": "https://hooks.acme.test/services/T000/B000/XXXX",
            },
        ),
    )
}

# Files and folders `genaiops init` derives from the answers (everything else is copied verbatim).
DERIVED = ("genaiops.yaml", "environments", "platform/overlays")


@dataclass(frozen=True)
class Rendered:
    path: Path
    answers: AnswerSet


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Rendered]:
    """Render each answer set at most once per module: copier copy, git init + commit, `make setup`."""
    done: dict[str, Rendered | str] = {}

    def get(name: str) -> Rendered:
        if name not in done:
            answer_set = ANSWER_SETS[name]
            dest = tmp_path_factory.mktemp(f"render-{name}") / answer_set.expected["project_name"]
            try:
                render(dest, answer_set.data)
                commit_all(dest, f"Render {name} from the template")
                check(["make", "setup"], dest, clean_env(dest))
                done[name] = Rendered(dest, answer_set)
            except AssertionError as exc:
                done[name] = f"rendering the {name} answer set failed: {exc}"
        result = done[name]
        if isinstance(result, str):
            pytest.fail(result, pytrace=False)
        return result

    return get


@pytest.fixture(params=list(ANSWER_SETS))
def rendered(request: pytest.FixtureRequest, renders: Callable[[str], Rendered]) -> Rendered:
    """The render of one answer set (each test runs for every set)."""
    return renders(request.param)


def _tracked(repo: Path) -> list[str]:
    return git(repo, "ls-files").splitlines()


def _yaml_docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def _strings(node: Any) -> Iterator[str]:
    """Every string key and value in a parsed YAML document (comments are not part of it)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _derived_files(repo: Path) -> dict[str, bytes]:
    """The answer-derived files of a repository (its plain environments/base and README excepted)."""
    files: dict[str, bytes] = {}
    for top in DERIVED:
        base = repo / top
        for path in [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(repo).as_posix()
            if rel.startswith(("environments/base/", "environments/README.md")):
                continue
            files[rel] = path.read_bytes()
    return files


def test_answers_are_recorded(rendered: Rendered) -> None:
    answers = load_answers(rendered.path)
    for key, value in rendered.answers.expected.items():
        assert answers.get(key) == value, f"{key}: recorded {answers.get(key)!r}, expected {value!r}"
    assert answers["_src_path"] == str(TEMPLATE_ROOT)
    assert answers.get("_commit"), "the template version (_commit) must be recorded for `copier update`"


def test_template_only_material_is_left_out(rendered: Rendered) -> None:
    tracked = _tracked(rendered.path)
    assert "copier.yml" not in tracked
    assert not [f for f in tracked if f.startswith(("tests/template/", ".ci/"))]
    assert not [f for f in tracked if f.endswith(".jinja")], "every .jinja file must be rendered"
    assert ".copier-answers.yml" in tracked


def test_only_selected_kinds_are_included(rendered: Rendered) -> None:
    selected = set(rendered.answers.expected["artifact_kinds"])
    tracked = _tracked(rendered.path)
    for kind in KINDS:
        test_module = re.compile(rf"^tests/(.+/)?test_{kind.name.replace('-', '_')}_[^/]*\.py$")
        for folder in (f"artifacts/{kind.folder}", f"platform/kinds/{kind.name}"):
            in_template = (TEMPLATE_ROOT / folder).is_dir()
            present = any(f.startswith(folder + "/") for f in tracked)
            assert present == (kind.name in selected and in_template), (
                f"{folder}: present={present}, kind selected={kind.name in selected}"
            )
        if kind.name not in selected:
            leftovers = [f for f in tracked if test_module.match(f)]
            assert not leftovers, f"tests of the unselected kind {kind.name} were copied: {leftovers}"


def test_environments_follow_answers(rendered: Rendered) -> None:
    envs = rendered.answers.expected["environments"]
    env_dirs = {p.name for p in (rendered.path / "environments").iterdir() if p.is_dir()}
    assert env_dirs == {*envs, "base", "bootstrap"}
    overlay_dirs = {p.name for p in (rendered.path / "platform" / "overlays").iterdir() if p.is_dir()}
    assert overlay_dirs == set(envs)
    assert (rendered.path / "genaiops.yaml").is_file()


def test_platform_overlays_carry_answers(rendered: Rendered) -> None:
    expected = rendered.answers.expected
    wanted_components = {f"../../kinds/{k}" for k in expected["artifact_kinds"]}
    for env in expected["environments"]:
        (kustomization,) = _yaml_docs(rendered.path / "platform" / "overlays" / env / "kustomization.yaml")
        assert kustomization["namespace"] == expected["namespace_pipelines"]
        assert set(kustomization.get("components", [])) == wanted_components
        images = {i["name"]: i for i in kustomization.get("images", [])}
        assert images["genaiops"].get("newName") == expected["pipeline_image"]
        assert str(images["genaiops"].get("newTag")) == expected["pipeline_image_tag"]


def test_argocd_bootstrap_carries_answers(rendered: Rendered) -> None:
    expected = rendered.answers.expected
    docs = [
        d
        for p in sorted((rendered.path / "environments" / "bootstrap").rglob("*.yaml"))
        for d in _yaml_docs(p)
        if isinstance(d, dict)
    ]
    apps = [d for d in docs if d.get("kind") == "Application"]
    projects = [d for d in docs if d.get("kind") == "AppProject"]
    assert apps and projects, "environments/bootstrap must hold Argo CD Applications and AppProjects"
    env_apps: dict[str, list[dict[str, Any]]] = {}
    for app in apps:
        assert app["metadata"].get("namespace") == expected["namespace_argocd"], app["metadata"]["name"]
        spec = app["spec"]
        sources = spec.get("sources") or [spec["source"]]
        for source in sources:
            assert source["repoURL"] == expected["repo_url"], app["metadata"]["name"]
            assert source.get("targetRevision") == expected["default_branch"], app["metadata"]["name"]
            match = re.fullmatch(r"(?:environments|platform/overlays)/([^/]+)/?", source.get("path", ""))
            if match and match.group(1) not in ("bootstrap", "base"):
                env_apps.setdefault(match.group(1), []).append(app)
    assert set(env_apps) == set(expected["environments"]), "one set of child Applications per environment"
    for env, env_app_list in env_apps.items():
        for app in env_app_list:
            automated = "automated" in (app["spec"].get("syncPolicy") or {})
            assert automated == (env not in expected["approval_environments"]), (
                f"{app['metadata']['name']}: automated sync must be off exactly for approval environments"
            )
    for project in projects:
        assert project["metadata"].get("namespace") == expected["namespace_argocd"]
        assert expected["repo_url"] in project["spec"].get("sourceRepos", []), project["metadata"]["name"]


def test_custom_render_has_no_default_names(renders: Callable[[str], Rendered]) -> None:
    rendered = renders("custom-names")
    defaults = [
        DEFAULT_ANSWERS[k]
        for k in ("project_name", "team_name", "pipeline_image", "namespace_pipelines", "namespace_argocd")
    ]
    defaults.append("git.example.com")
    leaks = []
    for rel, content in _derived_files(rendered.path).items():
        if not rel.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(content.decode("utf-8")):
            leaks += [
                f"{rel}: {s!r}"
                for s in _strings(doc)
                if any(d == s or (len(d) > 6 and d in s) for d in defaults)
            ]
    assert not leaks, "default names in a render with custom answers:\n" + "\n".join(leaks)


def test_default_render_is_the_template_root(renders: Callable[[str], Rendered]) -> None:
    rendered = renders("defaults")
    assert _derived_files(rendered.path) == _derived_files(TEMPLATE_ROOT), (
        "the root's genaiops.yaml / environments / platform/overlays differ from a default render: "
        "re-run `genaiops init --force` on the root and commit the result"
    )


def test_pre_commit_passes(rendered: Rendered) -> None:
    check(
        [".venv/bin/pre-commit", "run", "--all-files", "--show-diff-on-failure", "--color=never"],
        rendered.path,
        clean_env(rendered.path),
    )


def test_manifest_validation_passes(rendered: Rendered) -> None:
    check(["make", "validate"], rendered.path, clean_env(rendered.path))


def test_generated_test_suite_passes(rendered: Rendered) -> None:
    check(["make", "test"], rendered.path, clean_env(rendered.path))


def test_checks_leave_the_tree_clean(rendered: Rendered) -> None:
    status = git(rendered.path, "status", "--porcelain", "--untracked-files=all")
    assert status == "", (
        f"the generated repository's checks changed tracked files or left new ones:\n{status}"
    )
