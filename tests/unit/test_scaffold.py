"""`genaiops init` (genaiops.scaffold): answers -> settings -> files, drift, never clobbering."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops import scaffold
from tests.conftest import REPO_ROOT


def _run(
    root: Path, *, answers: Path | None = None, check: bool = False, force: bool = False
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = scaffold.run(root, answers, check=check, force=force, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _answers(tmp_path: Path, **values: Any) -> Path:
    path = tmp_path / ".copier-answers.yml"
    path.write_text(yaml.safe_dump({"_commit": "v0.1.0", "_src_path": "gh:x/y", **values}), encoding="utf-8")
    return path


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def test_template_root_is_in_sync_with_the_scaffold() -> None:
    code, out, err = _run(REPO_ROOT, check=True)
    assert code == 0, err
    assert "0 drifted" in out


def test_defaults_render_the_documented_layout(tmp_path: Path) -> None:
    code, out, _ = _run(tmp_path)
    assert code == 0
    for env in ("dev", "staging", "prod"):
        for name in ("kustomization.yaml", "settings.yaml", "README.md"):
            assert (tmp_path / "environments" / env / name).is_file()
        assert (tmp_path / "platform/overlays" / env / "kustomization.yaml").is_file()
        assert (tmp_path / "environments/bootstrap/apps" / f"{env}.yaml").is_file()
    settings = _load(tmp_path / "genaiops.yaml")
    assert [(e["name"], e["approval"]) for e in settings["environments"]] == [
        ("dev", False),
        ("staging", False),
        ("prod", True),
    ]
    assert settings["kinds"] == ["prompt", "model-config", "rag", "guardrail"]
    assert (tmp_path / "environments/bootstrap/argocd-config.yaml").is_file()
    assert "22 written" in out
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")  # the team's, not the template's
    assert readme.startswith("# genai-platform\n") and "team **ml-platform**" in readme


def test_catalog_availability_follows_the_environment_names(tmp_path: Path) -> None:
    answers = _answers(tmp_path, environments=["qa", "preprod", "live"], approval_environments=["live"])
    code, _, err = _run(tmp_path, answers=answers)
    assert code == 0, err
    models = {
        m["name"]: m["environments"] for m in _load(tmp_path / "artifacts/catalog/models.yaml")["models"]
    }
    assert models["gpt-4o"] == ["qa", "preprod", "live"]  # generally available: everywhere
    assert models["gpt-4.1"] == ["qa", "preprod"]  # rolling out: every environment but the last
    assert models["gpt-3.5-turbo"] == ["qa"]  # deprecated: only the first


def test_answers_drive_every_generated_file(tmp_path: Path) -> None:
    answers = _answers(
        tmp_path,
        project_name="search-team",
        repo_url="git@git.example.org:ai/search.git",
        default_branch="trunk",
        environments=["qa", "live"],
        approval_environments=["live"],
        artifact_kinds=["rag", "prompt"],
        namespace_argocd="gitops",
        namespace_pipelines="search-pipes",
        pipeline_image="registry.local/ai/genaiops",
        pipeline_image_tag="2.0.1",
        llm_endpoint="https://llm.example.org/v1",
    )
    code, _, err = _run(tmp_path, answers=answers)
    assert code == 0, err
    overlay = _load(tmp_path / "platform/overlays/qa/kustomization.yaml")
    assert overlay["resources"] == ["../../base"]
    assert overlay["components"] == ["../../kinds/prompt", "../../kinds/rag"]  # canonical kind order
    assert overlay["namespace"] == "search-pipes-qa"  # environments sharing a cluster get their own
    assert overlay["images"] == [
        {"name": "genaiops", "newName": "registry.local/ai/genaiops", "newTag": "2.0.1"}
    ]
    assert not (tmp_path / "environments/dev").exists()

    qa = {
        (d["kind"], d["metadata"]["name"]): d for d in _docs(tmp_path / "environments/bootstrap/apps/qa.yaml")
    }
    live = {
        (d["kind"], d["metadata"]["name"]): d
        for d in _docs(tmp_path / "environments/bootstrap/apps/live.yaml")
    }
    project = qa[("AppProject", "search-team-qa")]
    assert project["metadata"]["namespace"] == "gitops"
    assert project["spec"]["sourceRepos"] == ["git@git.example.org:ai/search.git"]
    assert {d["namespace"] for d in project["spec"]["destinations"]} == {"search-team-qa", "search-pipes-qa"}
    artifacts_qa = qa[("Application", "search-team-artifacts-qa")]
    assert artifacts_qa["spec"]["source"]["targetRevision"] == "trunk"
    assert artifacts_qa["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    artifacts_live = live[("Application", "search-team-artifacts-live")]
    assert "automated" not in artifacts_live["spec"]["syncPolicy"]  # approval => manual sync
    assert artifacts_live["spec"]["syncPolicy"]["retry"]["backoff"]["factor"] == 2
    # one platform instance per environment, each in its own namespace and with its own settings
    platform_qa = qa[("Application", "search-team-platform-qa")]
    assert platform_qa["spec"]["destination"]["namespace"] == "search-pipes-qa"
    platform_live = live[("Application", "search-team-platform-live")]
    assert platform_live["spec"]["destination"]["namespace"] == "search-pipes-live"
    assert "automated" not in platform_live["spec"]["syncPolicy"]
    live_overlay = _load(tmp_path / "platform/overlays/live/kustomization.yaml")
    literals = live_overlay["configMapGenerator"][0]["literals"]
    assert "environment=live" in literals and "require-approval=true" in literals
    assert "release-on-push=false" in literals  # live is not the first of the chain: CD brings versions
    qa_overlay = _load(tmp_path / "platform/overlays/qa/kustomization.yaml")
    assert "release-on-push=true" in qa_overlay["configMapGenerator"][0]["literals"]  # a push releases here
    settings_live = _load(tmp_path / "environments/live/settings.yaml")
    assert settings_live["approval"] is True
    assert settings_live["llm"]["endpoint"] == "https://llm.example.org/v1"
    assert settings_live["vectorStore"]["url"] == "embedded"


def test_single_environment_uses_the_pipelines_namespace_as_is(tmp_path: Path) -> None:
    answers = _answers(tmp_path, environments=["dev"])  # approval default [prod] narrows to []
    assert _run(tmp_path, answers=answers)[0] == 0
    assert _load(tmp_path / "platform/overlays/dev/kustomization.yaml")["namespace"] == "genai-pipelines"


def test_sync_waves_and_standard_labels(tmp_path: Path) -> None:
    _run(tmp_path)
    docs = _docs(tmp_path / "environments/bootstrap/apps/dev.yaml")
    waves = {
        d["metadata"]["name"]: d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] for d in docs
    }
    assert waves == {
        "genai-platform-dev": "-2",
        "genai-platform-platform-dev": "-1",
        "genai-platform-artifacts-dev": "0",
    }
    for doc in [*docs, *_docs(tmp_path / "environments/bootstrap/root.yaml")]:
        labels = doc["metadata"]["labels"]
        for key in ("name", "instance", "component", "part-of", "managed-by"):
            assert labels[f"app.kubernetes.io/{key}"], (doc["metadata"]["name"], key)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/prompt-lib.git", ("acme", "prompt-lib")),
        ("https://github.com/acme/prompt-lib", ("acme", "prompt-lib")),
        ("https://ghe.corp.example:8443/ml/genai.platform.git/", ("ml", "genai.platform")),
        ("git@github.com:acme/prompt-lib.git", ("acme", "prompt-lib")),
        ("ssh://git@github.com:22/acme/prompt-lib.git", ("acme", "prompt-lib")),
        ("https://gitlab.example.com/group/subgroup/repo.git", None),  # not owner/name
        ("file:///srv/git/repo.git", None),
        ("https://github.com/acme", None),
    ],
)
def test_github_repository_is_parsed_from_github_style_urls(
    url: str, expected: tuple[str, str] | None
) -> None:
    assert scaffold.github_repository(url) == expected


def _eventsource_patch(overlay: dict[str, Any]) -> dict[str, Any]:
    patch = next(p for p in overlay["patches"] if p["target"].get("kind") == "EventSource")
    assert patch["target"] == {"kind": "EventSource", "name": "github"}
    return {op["path"]: op["value"] for op in yaml.safe_load(patch["patch"])}


def test_overlays_patch_the_github_eventsource_repository_and_url(tmp_path: Path) -> None:
    answers = _answers(tmp_path, repo_url="git@github.com:acme/prompt-lib.git", environments=["dev", "prod"])
    assert _run(tmp_path, answers=answers)[0] == 0
    settings = _load(tmp_path / "genaiops.yaml")
    settings["environments"][1]["events_url"] = "https://events.acme.example/prod"
    (tmp_path / "genaiops.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    code, _, err = _run(tmp_path, force=True)
    assert code == 0, err
    for env, url in (("dev", scaffold.EVENTS_URL_PLACEHOLDER), ("prod", "https://events.acme.example/prod")):
        ops = _eventsource_patch(_load(tmp_path / f"platform/overlays/{env}/kustomization.yaml"))
        assert ops == {
            "/spec/github/genaiops/repositories": [{"owner": "acme", "names": ["prompt-lib"]}],
            "/spec/github/genaiops/webhook/url": url,
        }
    assert _run(tmp_path, check=True)[0] == 0


def test_non_github_repository_keeps_the_placeholder_and_says_so(tmp_path: Path) -> None:
    answers = _answers(tmp_path, repo_url="https://gitlab.example.com/group/sub/repo.git")
    assert _run(tmp_path, answers=answers)[0] == 0
    path = tmp_path / "platform/overlays/dev/kustomization.yaml"
    ops = _eventsource_patch(_load(path))
    owner, name = scaffold.REPOSITORY_PLACEHOLDER
    assert ops["/spec/github/genaiops/repositories"] == [{"owner": owner, "names": [name]}]
    assert "repository.url is not a host/<owner>/<name> URL" in path.read_text(encoding="utf-8")


def test_second_run_writes_nothing(tmp_path: Path) -> None:
    _run(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, out, _ = _run(tmp_path)
    assert code == 0
    assert "0 written" in out
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def test_seeded_files_keep_team_and_promotion_edits(tmp_path: Path) -> None:
    _run(tmp_path)
    kustomization = tmp_path / "environments/dev/kustomization.yaml"
    edited = kustomization.read_text(encoding="utf-8") + "  - name: prompt-greeting-0a1b2c\n"
    kustomization.write_text(edited, encoding="utf-8")
    assert _run(tmp_path, force=True)[0] == 0
    assert kustomization.read_text(encoding="utf-8") == edited
    assert _run(tmp_path, check=True)[0] == 0


def test_generated_file_edits_are_drift_and_force_rewrites_them(tmp_path: Path) -> None:
    _run(tmp_path)
    overlay = tmp_path / "platform/overlays/staging/kustomization.yaml"
    original = overlay.read_text(encoding="utf-8")
    overlay.write_text(original.replace('newTag: "0.1.0"', 'newTag: "9.9.9"'), encoding="utf-8")
    code, _, err = _run(tmp_path)
    assert code == 0 and "kept: platform/overlays/staging/kustomization.yaml" in err
    assert "9.9.9" in overlay.read_text(encoding="utf-8")
    code, _, err = _run(tmp_path, check=True)
    assert code == 1 and "platform/overlays/staging/kustomization.yaml: differs" in err
    assert _run(tmp_path, force=True)[0] == 0
    assert overlay.read_text(encoding="utf-8") == original


def test_adding_and_removing_an_environment(tmp_path: Path) -> None:
    _run(tmp_path)
    settings_file = tmp_path / "genaiops.yaml"
    text = settings_file.read_text(encoding="utf-8")
    qa = "  - name: qa\n    approval: false\n  - name: prod\n"
    settings_file.write_text(text.replace("  - name: prod\n", qa), encoding="utf-8")
    code, _, err = _run(tmp_path, check=True)
    assert code == 1 and "environments/qa/kustomization.yaml: missing" in err
    code, out, _ = _run(tmp_path, force=True)
    assert code == 0 and "wrote environments/bootstrap/apps/qa.yaml" in out
    apps = _load(tmp_path / "environments/bootstrap/apps/kustomization.yaml")
    assert apps["resources"] == ["dev.yaml", "staging.yaml", "qa.yaml", "prod.yaml"]
    assert _run(tmp_path, check=True)[0] == 0
    settings_file.write_text(text.replace("  - name: staging\n    approval: false\n", ""), encoding="utf-8")
    _run(tmp_path, force=True)
    code, _, err = _run(tmp_path, check=True)
    assert code == 1
    assert "environments/bootstrap/apps/staging.yaml: left over" in err
    assert "platform/overlays/staging/kustomization.yaml: left over" in err


def test_settings_approval_must_agree_with_genaiops_yaml(tmp_path: Path) -> None:
    _run(tmp_path)
    path = tmp_path / "environments/prod/settings.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("approval: true", "approval: false"), encoding="utf-8"
    )
    code, _, err = _run(tmp_path, check=True)
    assert code == 1 and "environments/prod/settings.yaml: approval must be true" in err


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"project_name": "Bad_Name"}, "project: 'Bad_Name' is not a DNS-1123 label"),
        (
            {"approval_environments": ["prod", "qa"]},
            "approval_environments: 'qa' is not one of the environments",
        ),
        ({"artifact_kinds": ["prompt", "images"]}, "kinds: unknown 'images'"),
        ({"environments": ["dev", "dev"]}, "environments: dev listed more than once"),
        ({"environments": ["dev", "base"]}, "environments[1].name: 'base' is reserved"),
        ({"environments": ["rejected"]}, "environments[0].name: 'rejected' is reserved"),
        ({"repo_url": "not a url"}, "repository.url: 'not a url'"),
        ({"llm_endpoint": "ftp://x"}, "endpoints.llm: 'ftp://x' is not an http(s) URL"),
        ({"namespace_pipelines": "x" * 64}, "namespaces.pipelines"),
    ],
)
def test_invalid_answers_exit_2_with_a_clear_message(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    code, out, err = _run(tmp_path, answers=_answers(tmp_path, **values))
    assert code == 2
    assert message in err
    assert not (tmp_path / "genaiops.yaml").exists() and out == ""


def test_events_url_must_be_an_http_url(tmp_path: Path) -> None:
    (tmp_path / "genaiops.yaml").write_text(
        "environments:\n  - name: dev\n    events_url: events.example.com\n", encoding="utf-8"
    )
    code, _, err = _run(tmp_path)
    assert code == 2
    assert "environments[0].events_url: 'events.example.com' is not an http(s) URL" in err


def test_broken_genaiops_yaml_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "genaiops.yaml").write_text("environments: [\n", encoding="utf-8")
    code, _, err = _run(tmp_path)
    assert code == 2 and "genaiops.yaml is not valid YAML" in err


def test_copier_task_invocation_uses_only_stdlib_yaml_and_jinja(tmp_path: Path) -> None:
    """Copier runs `PYTHONPATH=scripts <its python> -m genaiops.scaffold --answers ...`."""
    _answers(tmp_path, environments=["dev"], approval_environments=[], artifact_kinds=["guardrail"])
    probe = (
        "import sys, runpy; sys.argv=['genaiops.scaffold','--answers','.copier-answers.yml'];"
        "code=0\ntry:\n runpy.run_module('genaiops.scaffold', run_name='__main__')\n"
        "except SystemExit as e:\n code=e.code\n"
        "third=sorted({n.split('.')[0] for n, m in list(sys.modules.items())"
        " if 'site-packages' in (getattr(m, '__file__', None) or '')}"
        " - {'yaml','_yaml','jinja2','markupsafe'})\n"
        "print('THIRD', third); sys.exit(code)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "scripts")}
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "THIRD []" in proc.stdout
    overlay = _load(tmp_path / "platform/overlays/dev/kustomization.yaml")
    assert overlay["components"] == ["../../kinds/guardrail"]


def test_genaiops_init_is_a_cli_subcommand(tmp_path: Path) -> None:
    from genaiops.cli import main

    assert main(["init", "--repo", str(tmp_path)]) == 0
    assert main(["init", "--repo", str(tmp_path), "--check"]) == 0
    (tmp_path / "environments/bootstrap/root.yaml").write_text("# edited\n", encoding="utf-8")
    assert main(["init", "--repo", str(tmp_path), "--check"]) == 1
