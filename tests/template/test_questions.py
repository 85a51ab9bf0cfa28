"""copier.yml on its own: answer validation messages, computed defaults, and which files a render keeps.

These run copier in-process against a scratch template holding the real copier.yml and answers file plus
empty marker files, with tasks skipped, so they are fast; test_render.py renders the real template.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from copier import run_copy

from genaiops.kinds import KINDS
from tests.template.conftest import DEFAULT_ANSWERS, TEMPLATE_ROOT, load_answers

pytestmark = pytest.mark.template

MARKERS = [
    "README.md",
    "docs/template.md",
    "genaiops.yaml",
    "copier.yml",
    ".ci/run",
    "tests/template/test_render.py",
    "tests/unit/test_cli_contract.py",
    "tests/platform/test_policies.py",
    "environments/README.md",
    "environments/base/kustomization.yaml",
    "environments/dev/kustomization.yaml",
    "environments/prod/settings.yaml",
    "environments/bootstrap/root-app.yaml",
    "environments/notes.txt",
    "platform/base/kustomization.yaml",
    "platform/overlays/dev/kustomization.yaml",
    *(f"artifacts/{k.folder}/example/{k.manifest}" for k in KINDS),
    *(f"platform/kinds/{k.name}/kustomization.yaml" for k in KINDS),
    *(f"platform/workflowtemplates/{k.name}/kustomization.yaml" for k in KINDS),
    *(f"platform/events/{k.name}/kustomization.yaml" for k in KINDS),
    "platform/events/ci-sensor/sensor.yaml",
    "platform/events/pull-request-sensor.yaml",
    "platform/workflowtemplates/base.yaml",
    "platform/events/eventbus.yaml",
    *(f"tests/unit/test_{k.name.replace('-', '_')}_lint.py" for k in KINDS),
    *(f"tests/test_{k.name.replace('-', '_')}_eval.py" for k in KINDS),
    "artifacts/catalog/models.yaml",
    # fixture repositories inside tests/ keep their own instance files
    "tests/fixtures/lint/base/genaiops.yaml",
    "tests/fixtures/lint/base/environments/dev/settings.yaml",
    "tests/fixtures/lint/base/platform/overlays/dev/kustomization.yaml",
    "tests/fixtures/lint/base/artifacts/prompts/p/prompt.yaml",
    "tests/fixtures/demo/build/report.json",
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch template: the real copier.yml and answers file, plus one empty file per marker path."""
    root = tmp_path_factory.mktemp("template")
    for name in ("copier.yml", ".copier-answers.yml.jinja"):
        shutil.copy2(TEMPLATE_ROOT / name, root / name)
    for rel in MARKERS:
        if rel != "copier.yml":
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text("marker\n", encoding="utf-8")
    return root


def copy(template: Path, dest: Path, **data: Any) -> set[str]:
    """Render without tasks; return the files created."""
    run_copy(str(template), dest, data=data, defaults=True, skip_tasks=True, quiet=True, unsafe=True)
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}


def test_defaults_are_the_documented_ones(template: Path, tmp_path: Path) -> None:
    copy(template, tmp_path / "out")
    answers = load_answers(tmp_path / "out")
    assert {k: answers[k] for k in DEFAULT_ANSWERS} == DEFAULT_ANSWERS


def test_render_keeps_the_working_repo_and_drops_instance_and_template_files(
    template: Path, tmp_path: Path
) -> None:
    files = copy(template, tmp_path / "out")
    dropped = {
        "copier.yml",
        ".ci/run",
        "tests/template/test_render.py",
        "genaiops.yaml",
        "environments/dev/kustomization.yaml",
        "environments/prod/settings.yaml",
        "environments/bootstrap/root-app.yaml",
        "environments/notes.txt",
        "platform/overlays/dev/kustomization.yaml",
        "artifacts/catalog/models.yaml",  # seeded by genaiops init in the team's environment names
        "README.md",  # the template's; genaiops init writes the team's
    }
    assert files == (set(MARKERS) - dropped) | {".copier-answers.yml"}


@pytest.mark.parametrize(
    "kinds",
    [["prompt", "model-config"], ["rag"], ["guardrail", "rag"], ["model-config"]],
    ids=lambda kinds: "+".join(kinds),
)
def test_unselected_kinds_are_left_out(template: Path, tmp_path: Path, kinds: list[str]) -> None:
    files = copy(template, tmp_path / "out", artifact_kinds=kinds)
    for kind in KINDS:
        module = kind.name.replace("-", "_")
        kind_files = {
            f"artifacts/{kind.folder}/example/{kind.manifest}",
            f"platform/kinds/{kind.name}/kustomization.yaml",
            f"platform/workflowtemplates/{kind.name}/kustomization.yaml",
            f"platform/events/{kind.name}/kustomization.yaml",
            f"tests/unit/test_{module}_lint.py",
            f"tests/test_{module}_eval.py",
        }
        if kind.name in kinds:
            assert kind_files <= files, f"{kind.name} selected but files are missing"
        else:
            assert not kind_files & files, f"{kind.name} not selected but copied: {kind_files & files}"
    # shared material stays whatever the selection
    assert "artifacts/catalog/models.yaml" not in files  # genaiops init writes it, whatever the selection
    assert {
        "tests/unit/test_cli_contract.py",
        "platform/base/kustomization.yaml",
        "platform/workflowtemplates/base.yaml",
        "platform/events/eventbus.yaml",
        "platform/events/ci-sensor/sensor.yaml",
        "platform/events/pull-request-sensor.yaml",
    } <= files


@pytest.mark.parametrize(
    ("environments", "approvals"),
    [
        (["dev"], []),
        (["dev", "prod"], ["prod"]),
        (["qa", "live"], []),
        (["dev", "staging", "prod"], ["prod"]),
    ],
)
def test_approval_default_follows_the_environments(
    template: Path, tmp_path: Path, environments: list[str], approvals: list[str]
) -> None:
    copy(template, tmp_path / "out", environments=environments)
    answers = load_answers(tmp_path / "out")
    assert answers["environments"] == environments
    assert answers["approval_environments"] == approvals


VALID = [
    {"repo_url": "git@github.com:acme/genai.git"},
    {"repo_url": "ssh://git@git.acme.test:2222/search/genai.git"},
    {"repo_url": "file:///srv/git/genai.git"},
    {"repo_url": "http://gitea.gitea.svc:3000/ml/genai.git"},
    {"default_branch": "release/2026.11"},
    {"pipeline_image": "localhost:5000/team/genaiops"},
    {"pipeline_image": "genaiops"},
    {"pipeline_image_tag": "sha-0123abc"},
    {"llm_endpoint": "http://vllm.llm.svc.cluster.local:8000/v1"},
    {"embedding_endpoint": "https://embeddings.acme.test/v1"},
    {"notification_webhook": "https://hooks.slack.com/services/T000/B000/XXXX"},
    {"environments": ["dev", "prod"], "approval_environments": ["dev", "prod"]},
    {"project_name": "a" * 30, "team_name": "t" * 63, "environments": ["e" * 20]},
    {"environments": ["dev"], "namespace_pipelines": "p" * 63},
    {"environments": ["dev", "e" * 20], "namespace_pipelines": "p" * 42},
]


@pytest.mark.parametrize("data", VALID, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items())[:60])
def test_valid_answers_are_accepted_and_recorded(
    template: Path, tmp_path: Path, data: dict[str, Any]
) -> None:
    copy(template, tmp_path / "out", **data)
    answers = load_answers(tmp_path / "out")
    assert {k: answers[k] for k in data} == data


INVALID = [
    ({"project_name": "Genai_Platform"}, "project_name 'Genai_Platform' is not a DNS-1123 label"),
    ({"project_name": "-genai"}, "is not a DNS-1123 label"),
    ({"project_name": "a" * 31}, "at most 30 are allowed"),
    ({"team_name": "ML Platform"}, "team_name 'ML Platform' is not a DNS-1123 label"),
    ({"repo_url": "not a url"}, "repo_url 'not a url' is not a Git URL"),
    ({"repo_url": "ftp://git.acme.test/genai.git"}, "is not a Git URL"),
    ({"default_branch": "feature..x"}, "is not a valid git branch name"),
    ({"default_branch": "-main"}, "is not a valid git branch name"),
    ({"pipeline_image": "ghcr.io/acme/genaiops:1.0"}, "without a tag or digest"),
    ({"pipeline_image": "ghcr.io/Acme/genaiops"}, "is not an image name"),
    ({"pipeline_image_tag": ".hidden"}, "is not an image tag"),
    ({"environments": "dev"}, "environments must be a YAML list"),
    ({"environments": []}, "environments must name at least one environment"),
    ({"environments": ["dev", "Prod"]}, "environment 'Prod' is not a DNS-1123 label"),
    ({"environments": ["dev", "e" * 21]}, "is not a DNS-1123 label of at most 20 characters"),
    ({"environments": ["dev", "dev"]}, "environments must be unique"),
    ({"environments": ["dev", "base"]}, "environment 'base' is reserved"),
    ({"environments": ["bootstrap"]}, "environment 'bootstrap' is reserved"),
    (
        {"environments": ["dev", "rejected"]},
        "environment 'rejected' is reserved: environments/rejected/ holds the rejected versions",
    ),
    ({"environments": ["dev"], "approval_environments": ["prod"]}, "'prod' is not in ['dev']"),
    ({"namespace_workflows": "Argo"}, "namespace_workflows 'Argo' is not a valid namespace"),
    ({"namespace_events": "argo.events"}, "namespace_events 'argo.events' is not a valid namespace"),
    ({"namespace_argocd": "a" * 64}, "is not a valid namespace"),
    ({"namespace_pipelines": "genai_pipelines"}, "is not a valid namespace"),
    ({"namespace_pipelines": "p" * 56}, "use at most 55 characters here"),
    ({"artifact_kinds": []}, "artifact_kinds must include at least one kind"),
    ({"artifact_kinds": ["prompt", "rag"]}, "includes prompt but not model-config"),
    ({"artifact_kinds": ["prompts"]}, "'prompts' is not in"),
    ({"llm_endpoint": "llm.acme.test/v1"}, "llm_endpoint 'llm.acme.test/v1' is not an http(s) URL"),
    ({"embedding_endpoint": "grpc://embed:50051"}, "is not an http(s) URL"),
    (
        {"notification_webhook": "hooks.acme.test"},
        "notification_webhook 'hooks.acme.test' is not an http(s) URL",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    INVALID,
    ids=lambda v: ",".join(f"{k}={v[k]}"[:40] for k in v) if isinstance(v, dict) else "",
)
def test_invalid_answers_are_refused_with_a_clear_message(
    template: Path, tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    dest = tmp_path / "out"
    with pytest.raises(ValueError) as excinfo:
        copy(template, dest, **data)
    assert message in str(excinfo.value)
    assert not dest.exists() or not any(dest.iterdir()), "nothing may be rendered from refused answers"
