"""Render the template with three answer sets and run each generated repository's own checks inside it.

Answer sets: the defaults; a single environment with two artifact kinds; custom names everywhere. Each
set is one test: render with `copier copy --trust`, `git init` + commit like a team would, check what the
answers select and derive, `make setup`, then the generated repository's own `pre-commit run --all-files`,
`make validate` (kustomize + kubeconform) and `make pytest` (its pytest suites; the end-to-end suite on a
cluster, the rest of its `make test`, is not run for every answer set), and finally that those checks left
the tree clean. The checks run in order in one process, so they share the render (which also holds under
pytest-xdist); every check runs even after another failed, and the test reports all failures together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    run,
    tail,
)

pytestmark = pytest.mark.template

# Files and folders `genaiops init` derives from the answers (everything else is copied verbatim).
DERIVED = ("genaiops.yaml", "environments", "platform/overlays")

Check = Callable[[Path, dict[str, Any]], None]
"""A check of a rendered repository given every answer it was rendered with; fails by AssertionError."""


def _tracked(repo: Path) -> list[str]:
    return git(repo, "ls-files").splitlines()


def _yaml_docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def _strings(node: Any) -> Iterator[str]:
    """Every string value in a parsed YAML document (keys are schema, comments are not part of it)."""
    if isinstance(node, dict):
        for value in node.values():
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


# --- checks of what the answers select and derive --------------------------------------------------------


def answers_are_recorded(repo: Path, expected: dict[str, Any]) -> None:
    answers = load_answers(repo)
    wrong = {k: (answers.get(k), v) for k, v in expected.items() if answers.get(k) != v}
    assert not wrong, f"recorded vs expected answers differ: {wrong}"
    assert answers["_src_path"] == str(TEMPLATE_ROOT)
    assert answers.get("_commit"), "the template version (_commit) must be recorded for `copier update`"


def template_only_material_is_left_out(repo: Path, expected: dict[str, Any]) -> None:
    tracked = _tracked(repo)
    assert "copier.yml" not in tracked
    assert not [f for f in tracked if f.startswith(("tests/template/", ".ci/"))]
    assert not [f for f in tracked if f.endswith(".jinja")], "every .jinja file must be rendered"
    assert ".copier-answers.yml" in tracked


def readme_is_the_teams(repo: Path, expected: dict[str, Any]) -> None:
    """The rendered README describes the team's repository, not the template (the template's README is
    not copied): its project, team, chain of environments and kinds."""
    readme = (repo / "README.md").read_text(encoding="utf-8")
    template_readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme != template_readme and "copier template that bootstraps" not in readme
    assert readme.startswith(f"# {expected['project_name']}\n")
    assert f"team **{expected['team_name']}**" in readme
    chain = [line for line in readme.splitlines() if re.match(r"\d+\. \*\*", line)]
    assert [line.split("**")[1] for line in chain] == list(expected["environments"])
    for line, env in zip(chain, expected["environments"], strict=True):
        assert ("approval by name" in line) == (env in expected["approval_environments"]), line
    assert ", ".join(expected["artifact_kinds"]) in readme


def only_selected_kinds_are_included(repo: Path, expected: dict[str, Any]) -> None:
    selected = set(expected["artifact_kinds"])
    tracked = _tracked(repo)
    for kind in KINDS:
        test_module = re.compile(rf"^tests/(.+/)?test_{kind.name.replace('-', '_')}_[^/]*\.py$")
        kind_folders = (
            f"artifacts/{kind.folder}",
            f"platform/kinds/{kind.name}",
            f"platform/workflowtemplates/{kind.name}",
            f"platform/events/{kind.name}",
        )
        for folder in kind_folders:
            in_template = (TEMPLATE_ROOT / folder).is_dir()
            present = any(f.startswith(folder + "/") for f in tracked)
            assert present == (kind.name in selected and in_template), (
                f"{folder}: present={present}, kind selected={kind.name in selected}"
            )
        if kind.name not in selected:
            leftovers = [f for f in tracked if test_module.match(f)]
            assert not leftovers, f"tests of the unselected kind {kind.name} were copied: {leftovers}"


def environments_follow_answers(repo: Path, expected: dict[str, Any]) -> None:
    envs = expected["environments"]
    env_dirs = {p.name for p in (repo / "environments").iterdir() if p.is_dir()}
    assert env_dirs == {*envs, "base", "bootstrap"}
    overlay_dirs = {p.name for p in (repo / "platform" / "overlays").iterdir() if p.is_dir()}
    assert overlay_dirs == set(envs)
    assert (repo / "genaiops.yaml").is_file()


def platform_overlays_carry_answers(repo: Path, expected: dict[str, Any]) -> None:
    wanted_components = {f"../../kinds/{k}" for k in expected["artifact_kinds"]}
    envs = expected["environments"]
    for env in envs:
        (kustomization,) = _yaml_docs(repo / "platform" / "overlays" / env / "kustomization.yaml")
        # one platform instance per environment: environments sharing a cluster get `<pipelines>-<env>`
        namespace = expected["namespace_pipelines"] + ("" if len(envs) == 1 else f"-{env}")
        assert kustomization["namespace"] == namespace, env
        assert set(kustomization.get("components", [])) == wanted_components, env
        images = {i["name"]: i for i in kustomization.get("images", [])}
        assert images["genaiops"].get("newName") == expected["pipeline_image"], env
        assert str(images["genaiops"].get("newTag")) == expected["pipeline_image_tag"], env


def argocd_bootstrap_carries_answers(repo: Path, expected: dict[str, Any]) -> None:
    docs = [
        d
        for p in sorted((repo / "environments" / "bootstrap").rglob("*.yaml"))
        for d in _yaml_docs(p)
        if isinstance(d, dict)
    ]
    apps = [d for d in docs if d.get("kind") == "Application"]
    projects = [d for d in docs if d.get("kind") == "AppProject"]
    assert apps and projects, "environments/bootstrap must hold Argo CD Applications and AppProjects"
    env_apps: dict[str, list[dict[str, Any]]] = {}
    for app in apps:
        name = app["metadata"]["name"]
        assert app["metadata"].get("namespace") == expected["namespace_argocd"], name
        spec = app["spec"]
        for source in spec.get("sources") or [spec["source"]]:
            assert source["repoURL"] == expected["repo_url"], name
            assert source.get("targetRevision") == expected["default_branch"], name
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


def no_default_names_remain(repo: Path, expected: dict[str, Any]) -> None:
    """With every answer changed, no default value may survive in the answer-derived manifests.

    Only distinctive defaults are searched: `argo`, `argocd` and `argo-events` are also product names
    (e.g. the `app.kubernetes.io/part-of: argocd` label Argo CD needs on its ConfigMaps); their answers are
    checked positively where they are used (argocd_bootstrap_carries_answers, platform_overlays_...)."""
    defaults = [
        DEFAULT_ANSWERS[k] for k in ("project_name", "team_name", "pipeline_image", "namespace_pipelines")
    ]
    defaults.append("git.example.com")
    leaks = []
    for rel, content in _derived_files(repo).items():
        if rel.endswith((".yaml", ".yml")):
            for doc in yaml.safe_load_all(content.decode("utf-8")):
                leaks += [
                    f"{rel}: {s!r}"
                    for s in _strings(doc)
                    if any(d == s or (len(d) > 6 and d in s) for d in defaults)
                ]
    assert not leaks, "default names in a render with custom answers:\n" + "\n".join(leaks)


def default_render_is_the_template_root(repo: Path, expected: dict[str, Any]) -> None:
    """The template root is the instance for the default answers: its derived files equal a render's."""
    rendered, root = _derived_files(repo), _derived_files(TEMPLATE_ROOT)
    differing = sorted(k for k in rendered.keys() | root.keys() if rendered.get(k) != root.get(k))
    assert not differing, (
        f"the root's answer-derived files differ from a default render: {differing}; "
        "re-run `genaiops init --force` on the root and commit the result"
    )


# --- the generated repository's own checks ----------------------------------------------------------------


def pre_commit_passes(repo: Path, expected: dict[str, Any]) -> None:
    command = [".venv/bin/pre-commit", "run", "--all-files", "--show-diff-on-failure", "--color=never"]
    proc = run(command, repo, clean_env(repo))
    summary = [
        line for line in proc.stdout.splitlines() if re.search(r"\.{3}(Passed|Failed)$|^- hook id:", line)
    ]
    assert proc.returncode == 0, "pre-commit failed:\n" + "\n".join(summary) + "\n" + tail(proc.stdout, 60)


def manifest_validation_passes(repo: Path, expected: dict[str, Any]) -> None:
    check(["make", "validate"], repo, clean_env(repo))


def generated_test_suite_passes(repo: Path, expected: dict[str, Any]) -> None:
    check(["make", "pytest"], repo, clean_env(repo))


def checks_leave_the_tree_clean(repo: Path, expected: dict[str, Any]) -> None:
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert status == "", f"the checks changed tracked files or left untracked ones:\n{status}"


STRUCTURE: tuple[Check, ...] = (
    answers_are_recorded,
    template_only_material_is_left_out,
    readme_is_the_teams,
    only_selected_kinds_are_included,
    environments_follow_answers,
    platform_overlays_carry_answers,
    argocd_bootstrap_carries_answers,
)
OWN_CHECKS: tuple[Check, ...] = (
    pre_commit_passes,
    manifest_validation_passes,
    generated_test_suite_passes,
    checks_leave_the_tree_clean,
)


@dataclass(frozen=True)
class AnswerSet:
    """Answers passed with `-d`, plus checks that only make sense for this set."""

    name: str
    data: dict[str, Any]
    extra: tuple[Check, ...] = field(default=())

    @property
    def expected(self) -> dict[str, Any]:
        """Every answer copier must record: the given ones, the rest from the defaults."""
        answers = {**DEFAULT_ANSWERS, **self.data}
        if "approval_environments" not in self.data:
            answers["approval_environments"] = ["prod"] if "prod" in answers["environments"] else []
        return answers


ANSWER_SETS = (
    AnswerSet("defaults", {}, extra=(default_render_is_the_template_root,)),
    # one environment that needs approval (approval defaults to prod): the chain's first environment
    # is gated, so nothing is synced without a human, and the repository's own suite must still pass
    AnswerSet(
        "single-approval-env-two-kinds",
        {"environments": ["prod"], "artifact_kinds": ["prompt", "model-config"]},
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
        extra=(no_default_names_remain,),
    ),
)


def test_answer_sets_cover_every_question() -> None:
    custom = next(s for s in ANSWER_SETS if s.name == "custom-names")
    assert set(custom.data) == set(DEFAULT_ANSWERS), "the custom set must change every answer"
    assert all(custom.data[k] != v for k, v in DEFAULT_ANSWERS.items())


@pytest.mark.parametrize("answer_set", ANSWER_SETS, ids=[s.name for s in ANSWER_SETS])
def test_rendered_repository_passes_its_own_checks(answer_set: AnswerSet, tmp_path: Path) -> None:
    expected = answer_set.expected
    repo = tmp_path / expected["project_name"]
    render(repo, answer_set.data)
    commit_all(repo, f"Render {answer_set.name} from the template")

    failures: list[str] = []

    def run_check(check_fn: Check) -> None:
        try:
            check_fn(repo, expected)
        except AssertionError as exc:
            failures.append(f"--- {check_fn.__name__}:\n{exc}")

    for check_fn in (*STRUCTURE, *answer_set.extra):
        run_check(check_fn)
    check(["make", "setup"], repo, clean_env(repo))  # nothing below can run without it
    for check_fn in OWN_CHECKS:
        run_check(check_fn)
    if failures:
        pytest.fail(
            f"{len(failures)} check(s) failed in the {answer_set.name} render:\n" + "\n".join(failures),
            pytrace=False,
        )
