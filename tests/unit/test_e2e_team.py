"""The e2e team's repository (scripts/genaiops_e2e/team.py): genaiops.yaml edited as a team would, then
`genaiops init --force`, gives an Argo CD bootstrap that reads the git server and deploys only the
environments (the harness installs the one pipelines instance)."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from genaiops_e2e import kube, team
from genaiops_e2e.proc import HarnessError
from genaiops_e2e.state import State

ROOT = Path(__file__).resolve().parents[2]
GIT_URL = "http://git-server.genaiops-e2e.svc.cluster.local:8080/git/ml-platform/genai-platform.git"
SINK = "http://http-sink.genaiops-e2e.svc.cluster.local:8090"


def _state() -> State:
    return State(
        kubeconfig="k",
        node_ip="172.18.0.2",
        repo=str(ROOT),
        environment="dev",
        namespace="genai-pipelines-dev",
        pipeline_image="ghcr.io/example/genaiops:e2e",
        git_token="t" * 32,
        git_user="genaiops-bot",
        git_url_cluster=GIT_URL,
        git_url_host="http://172.18.0.2:30080/git/ml-platform/genai-platform.git",
        s3_endpoint_host="172.18.0.2:30070",
        s3_access_key="a",
        s3_secret_key="s" * 40,
        cosign_password="c" * 24,
        llm_url="http://llm/v1",
        bucket="genai-pipelines",
        sink_url_cluster=SINK,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("team") / "repo"
    team._copy_files(ROOT, folder)
    team._settings(folder, _state())
    team._init(ROOT, folder)
    return folder


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_the_bootstrap_reads_the_git_server(tree: Path) -> None:
    sources = [
        d["spec"]["source"]["repoURL"]
        for f in (tree / "environments/bootstrap").rglob("*.yaml")
        for d in _docs(f)
        if d.get("kind") == "Application"
    ]
    assert sources and set(sources) == {GIT_URL}


def test_argo_cd_deploys_the_environments_only(tree: Path) -> None:
    apps = [
        d
        for f in (tree / "environments/bootstrap/apps").glob("*.yaml")
        for d in _docs(f)
        if d.get("kind") == "Application"
    ]
    environments = yaml.safe_load((ROOT / "genaiops.yaml").read_text())["environments"]
    components = sorted(a["metadata"]["labels"]["app.kubernetes.io/component"] for a in apps)
    assert components == ["artifacts"] * len(environments)


def test_notifications_go_to_the_sink(tree: Path) -> None:
    [notifications] = [
        d
        for d in _docs(tree / "environments/bootstrap/argocd-config.yaml")
        if d["metadata"]["name"] == "argocd-notifications-cm"
    ]
    assert f"url: {SINK}/webhook" in notifications["data"]["service.webhook.genaiops"]
    settings = yaml.safe_load((tree / "genaiops.yaml").read_text())
    assert settings["image"] == {"name": "ghcr.io/example/genaiops", "tag": "e2e"}


def test_a_settings_file_of_another_layout_is_refused(tmp_path: Path) -> None:
    (tmp_path / "genaiops.yaml").write_text("project: x\n")
    with pytest.raises(HarnessError, match="not the settings layout"):
        team._settings(tmp_path, _state())


def test_the_auto_synced_environments_serve_from_the_cluster(tree: Path) -> None:
    """Step 3 of the seeding: the endpoint, the image and the e2e serving sizes, only where Argo CD syncs
    without an approval; the analyses' queries and limits stay the base's."""
    environments = yaml.safe_load((tree / "genaiops.yaml").read_text())["environments"]
    before = {
        e["name"]: (tree / "environments" / e["name"] / "settings.yaml").read_text() for e in environments
    }
    team._serve_from_cluster(tree, _state())
    auto = [e["name"] for e in itertools.takewhile(lambda e: not e.get("approval"), environments)]
    assert auto == team._auto_synced(tree)  # the chain up to the first approval
    for env, text in before.items():  # an environment Argo CD syncs only by hand keeps its settings
        if env not in auto:
            assert (tree / "environments" / env / "settings.yaml").read_text() == text, env
    base = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all(kube.build(ROOT, ROOT / "environments/base"))
    }
    for env in auto:
        settings = yaml.safe_load((tree / "environments" / env / "settings.yaml").read_text())
        assert settings["llm"]["endpoint"] == "http://llm/v1"
        built = {
            d["metadata"]["name"]: d
            for d in yaml.safe_load_all(kube.build(ROOT, tree / "environments" / env))
        }
        gateway, model = built["genai-gateway"]["spec"], built["genai-model"]["spec"]
        assert gateway["replicas"] == 2 and model["replicas"] == 1
        for spec in (gateway, model):
            assert spec["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "10m"
        assert gateway["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/genaiops:e2e"
        assert gateway["strategy"]["canary"]["steps"] == [{"setWeight": 50}, {"pause": {"duration": "60s"}}]
        for args in (
            gateway["strategy"]["canary"]["analysis"]["args"],
            model["strategy"]["blueGreen"]["postPromotionAnalysis"]["args"],
        ):
            assert {
                "name": "prometheus-address",
                "value": "http://prometheus.genaiops-e2e.svc.cluster.local:9090",
            } in args
        for name in ("genai-canary-error-rate", "genai-error-rate"):
            for metric, original in zip(
                built[name]["spec"]["metrics"], base[name]["spec"]["metrics"], strict=True
            ):
                assert metric["interval"] == "20s"
                unchanged = (
                    "successCondition",
                    "failureCondition",
                    "inconclusiveLimit",
                    "failureLimit",
                    "provider",
                )
                assert {k: metric[k] for k in unchanged} == {k: original[k] for k in unchanged}
    for env in {e["name"] for e in environments} - set(auto):
        kustomization = yaml.safe_load((tree / "environments" / env / "kustomization.yaml").read_text())
        assert "components" not in kustomization


@dataclass
class _LocalRemote(State):
    """The run's state with a local bare repository as the git server seen from the host."""

    remote: str = ""

    @property
    def git_url_host_auth(self) -> str:
        return self.remote


def _local(remote: Path) -> State:
    return _LocalRemote(**vars(_state()), remote=str(remote))


def _bare(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    return remote


def _subjects(remote: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(remote), "log", "--format=%s", "main"], capture_output=True, text=True
    )
    return out.stdout.splitlines()[::-1]


def _served(root: Path) -> list[str]:
    """The served artifacts this repository has (a render may lack a kind)."""
    return [path for path in team.SERVED if (root / path).is_dir()]


def _ref(path: str) -> str:
    """``kind/id`` of a served artifact folder (``artifacts/prompts/x`` -> ``prompt/x``)."""
    folder = Path(path)
    return f"{folder.parent.name.removesuffix('s')}/{folder.name}"


def test_the_seed_promotes_the_served_artifacts_then_points_at_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history a team would have: the root commit, the served artifacts promoted by the real stages
    down the chain into every environment, then the one commit that points the auto-synced environments
    at the cluster."""
    monkeypatch.setattr(team.docker, "RUN_DIR", tmp_path / "run")
    remote = _bare(tmp_path)
    head = team.seed_repository(ROOT, _local(remote))
    subjects = _subjects(remote)
    every = [env for env, _ in team._chain(team.tree_dir())]
    served = _served(ROOT)
    promoted = [s for s in subjects if s.startswith("promote ")]
    assert subjects[0] == "e2e: the repository under test"
    # the commit that points the auto-synced environments at the cluster (none when all need approval)
    assert subjects[-1].startswith("e2e: environments serve") == bool(team._auto_synced(team.tree_dir()))
    assert sorted(promoted) == sorted(
        f"promote {_ref(path)} {version} in {env}"
        for path in served
        for env in every
        for version in [s.split()[2] for s in promoted if s.split()[1] == _ref(path)][:1]
    )
    assert len(promoted) == len(served) * len(every)
    for env in every:
        built = kube.build(ROOT, team.tree_dir() / "environments" / env)
        for path in served:
            assert f"genaiops-{_ref(path).replace('/', '-')}-" in built
    rev = subprocess.run(["git", "-C", str(remote), "rev-parse", "main"], capture_output=True, text=True)
    assert head == rev.stdout.strip()


def test_a_repository_without_a_served_kind_promotes_what_it_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository rendered without one of the served kinds: the seed promotes the others only."""
    monkeypatch.setattr(team.docker, "RUN_DIR", tmp_path / "run")
    copy = tmp_path / "repo"
    team._copy_files(ROOT, copy)
    served = _served(copy)
    removed = served[:1]
    for path in removed:
        shutil.rmtree(copy / path)
    team._settings(copy, _state())
    team._init(ROOT, copy)
    remote = _bare(tmp_path)
    git = ["git", "-C", str(copy), "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "-A"],
        ["commit", "--quiet", "-m", "root"],
    ):
        subprocess.run([*git, *args], check=True)
    subprocess.run([*git, "push", "--quiet", str(remote), "main"], check=True)
    team._promote_served(ROOT, copy, _local(remote))
    promoted = [s for s in _subjects(remote) if s.startswith("promote ")]
    assert not [s for s in promoted for path in removed if f" {_ref(path)} " in s]
    assert len(promoted) == (len(served) - len(removed)) * len(team._chain(copy))  # every environment
    gated = [env for env, approval in team._chain(copy) if approval]
    approved = subprocess.run(
        ["git", "-C", str(remote), "log", "--format=%B", "main"], capture_output=True, text=True, check=True
    ).stdout
    assert approved.count("Genaiops-Approver: e2e-seed") == (len(served) - len(removed)) * len(gated)
