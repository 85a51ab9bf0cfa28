"""The e2e team's repository (scripts/genaiops_e2e/team.py): genaiops.yaml edited as a team would, then
`genaiops init --force`, gives an Argo CD bootstrap that reads the git server and deploys only the
environments (the harness installs the one pipelines instance)."""

from __future__ import annotations

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
    team._serve_from_cluster(tree, _state())
    environments = yaml.safe_load((tree / "genaiops.yaml").read_text())["environments"]
    auto = [e["name"] for e in environments if not e.get("approval")]
    assert auto == team._auto_synced(tree) and auto
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
