"""What runs in the cluster, installed as a team would, and the state the scenarios share.

- The controllers (``controllers``): Argo Workflows, Argo Events and Argo CD from the pinned modules, and
  Argo CD bootstrapped from the e2e team's repository (``team``).
- The test services of ``tests/e2e/infra`` (git server, LLM reference server, the HTTP sink that plays
  the GitHub API and the team webhook).
- The platform overlay of the first environment, exactly as ``genaiops init`` wrote it, in a pipelines
  namespace that enforces Pod Security ``restricted`` (as the Argo CD Application creates it), with the
  Secrets a team creates by hand (docs/cluster.md) and the e2e settings: the git server as the repository,
  the pipeline image built here, the HTTP sink as GitHub API and team webhook, the artifact store and the
  webhook reachable from the host, and one JetStream server (one node).

Everything is recorded in ``<run dir>/e2e.json`` for the scenarios (``genaiops_e2e.state``).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import yaml

from genaiops.project import load_project
from genaiops.scaffold import load_settings
from genaiops_e2e import docker, gobuild, kube, team
from genaiops_e2e.cluster import Cluster
from genaiops_e2e.controllers import (
    ARGO_CD_NAMESPACE,
    ARGO_NAMESPACE,
    EVENTS_NAMESPACE,
    ROLLOUTS_NAMESPACE,
    argo_cd,
    argo_events,
    argo_rollouts,
    argo_workflows,
    install_dir,
)
from genaiops_e2e.proc import HarnessError, log, run
from genaiops_e2e.state import State

WEBHOOK_NODE_PORT = 30120
INFRA_NAMESPACE = "genaiops-e2e"
GIT_NODE_PORT = 30080
S3_NODE_PORT = 30070
SINK_NODE_PORT = 30121
SINK_URL_CLUSTER = f"http://http-sink.{INFRA_NAMESPACE}.svc.cluster.local:8090"
REPOSITORY = "ml-platform/genai-platform"
GIT_USER = "genaiops-bot"
GIT_READER = "genaiops-reader"
"""The git server's users: the bot may push (tests/e2e/infra/git-server/lighttpd.conf), the reader may
only fetch (the pipelines' checkout)."""


def infra(cluster: Cluster, repo: Path, images: dict[str, str], state: State) -> None:
    """The git server, the LLM reference server, the HTTP sink, Prometheus and the users' traffic
    (tests/e2e/infra), with the images built here.

    The reference server answers from the repository's recorded cassettes (what the examples' real model
    said), so a change that leaves the requests alone scores as its recording did; it still says it is a
    reference server, so every scorecard is marked synthetic.
    """
    workdir = install_dir("infra")
    responses = workdir / "responses"
    shutil.rmtree(responses, ignore_errors=True)
    responses.mkdir(parents=True)
    for cassette in sorted(repo.glob("artifacts/*/*/eval/cassettes/*.jsonl")):
        kind_folder, artifact = cassette.parts[-5], cassette.parts[-4]
        shutil.copyfile(cassette, responses / f"{kind_folder}-{artifact}-{cassette.name}")
    for script in ("http_sink.py", "traffic.py"):
        shutil.copyfile(Path(__file__).with_name(script), workdir / script)
    kube.write_kustomization(
        workdir,
        {
            "resources": [kube.relative(workdir, repo / "tests/e2e/infra")],
            "images": [
                _image("genaiops-e2e/git-server", images["git-server"]),
                _image("genaiops", images["pipeline"]),
                _image("prometheus", images["prometheus"]),
            ],
            "configMapGenerator": [
                {
                    "name": "llm-responses",
                    "namespace": INFRA_NAMESPACE,
                    "files": [f"responses/{f.name}" for f in sorted(responses.iterdir())],
                    "options": {"disableNameSuffixHash": True},
                },
                {
                    "name": "http-sink-script",
                    "namespace": INFRA_NAMESPACE,
                    "files": ["http_sink.py"],
                    "options": {"disableNameSuffixHash": True},
                },
                {
                    "name": "traffic-script",
                    "namespace": INFRA_NAMESPACE,
                    "files": ["traffic.py"],
                    "options": {"disableNameSuffixHash": True},
                },
            ],
            "patches": [_llm_models(repo), _traffic(repo)],
            "secretGenerator": [
                {
                    "name": "git-server-users",
                    "namespace": INFRA_NAMESPACE,
                    "literals": [
                        f"users={GIT_USER}:{state.git_token}\n{GIT_READER}:{state.git_read_token}\n"
                    ],
                    # hash-suffixed: new credentials roll the server's pod (a mounted Secret updates late)
                },
                {
                    "name": "http-sink-token",
                    "namespace": INFRA_NAMESPACE,
                    "literals": [f"token={state.github_token}"],
                },
            ],
        },
    )
    kube.apply(cluster, kube.build(repo, workdir), what="e2e infrastructure")


def _llm_models(repo: Path) -> dict[str, Any]:
    """The reference server lists the catalog's models in /v1/models, as the endpoint of environments
    that deploy them would (validate checks a model config's models against the endpoint's list)."""
    catalog = yaml.safe_load((repo / "artifacts" / "catalog" / "models.yaml").read_text()) or {}
    names = [m["name"] for m in catalog.get("models") or [] if m.get("type", "chat") == "chat"]
    return _more_args("llm", [v for name in names for v in ("--model", name)])


def _traffic(repo: Path) -> dict[str, Any]:
    """The users' requests (tests/e2e/infra/traffic.yaml): to the gateway of every environment Argo CD
    syncs automatically, the bodies of tests/e2e/infra/traffic-requests.jsonl in turn. They are what
    users of the served prompt ask, not its eval dataset: a free-tier customer is among them, whom
    neither the dataset nor the test cases cover (scenario 10's bad version fails only for them)."""
    settings = load_settings(repo, None)
    targets = [
        f"http://genai-gateway.{env.namespace}.svc.cluster.local:8080/v1/generate"
        for env in settings.environments
        if not env.approval
    ]
    requests = (repo / "tests" / "e2e" / "infra" / "traffic-requests.jsonl").read_text().splitlines()
    bodies = [json.dumps(json.loads(line)) for line in requests if line.strip()]
    args = [*(v for t in targets for v in ("--target", t)), *(v for body in bodies for v in ("--body", body))]
    return _more_args("traffic", args)


def _more_args(deployment: str, args: list[str]) -> dict[str, Any]:
    """A kustomize patch appending ``args`` to the first container of the infra Deployment ``deployment``."""
    ops = [{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": v} for v in args]
    return {"target": {"kind": "Deployment", "name": deployment}, "patch": json.dumps(ops)}


def _image(name: str, ref: str) -> dict[str, str]:
    base, _, tag = ref.rpartition(":")
    return {"name": name, "newName": base, "newTag": tag}


def _overlay(repo: Path, env: str) -> tuple[Path, str]:
    overlay = repo / "platform" / "overlays" / env
    data = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    namespace = data.get("namespace")
    if not namespace:
        raise HarnessError(f"{overlay}/kustomization.yaml names no namespace")
    return overlay, namespace


def platform(cluster: Cluster, repo: Path, pipeline_image: str, state: State, cosign_dir: Path) -> None:
    """The first environment's platform overlay with the e2e settings, its namespace and Secrets."""
    overlay, namespace = _overlay(repo, state.environment)
    image_name = load_project(repo).settings.get("image", {}).get("name", "genaiops")
    kube.apply(
        cluster,
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": namespace,
                    # what the Argo CD Application's managedNamespaceMetadata sets
                    "labels": {
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            }
        ),
        what="pipelines namespace",
    )
    workdir = install_dir("platform")
    workdir.mkdir(parents=True, exist_ok=True)
    cosign_files = [
        f"{name}={kube.relative(workdir, cosign_dir / name)}" for name in ("cosign.key", "cosign.pub")
    ]
    (workdir / "webhook-nodeport.yaml").write_text(yaml.safe_dump(_webhook_node_port()))
    kube.write_kustomization(
        workdir,
        {
            "namespace": namespace,
            # e2e only: the webhook reachable from the host
            "resources": [kube.relative(workdir, overlay), "webhook-nodeport.yaml"],
            "images": [_image(image_name, pipeline_image)],
            "configMapGenerator": [
                {
                    "name": "genaiops-settings",
                    "behavior": "merge",
                    "literals": [
                        f"repo-url={state.git_url_cluster}",
                        "require-approval=false",
                        # the HTTP sink plays GitHub's API and the team webhook (tests/e2e/infra)
                        f"github-api={state.sink_url_cluster}",
                        f"notification-webhook={state.sink_url_cluster}/webhook",
                    ],
                }
            ],
            # the Secrets a team creates with kubectl (docs/cluster.md)
            "secretGenerator": [
                _secret("genaiops-git-credentials", {"username": GIT_USER, "password": state.git_token}),
                _secret(
                    "genaiops-git-read-credentials",
                    {"username": GIT_READER, "password": state.git_read_token},
                ),
                _secret(
                    "genaiops-artifacts-s3",
                    {"accesskey": state.s3_access_key, "secretkey": state.s3_secret_key},
                ),
                _secret("genaiops-cosign", {"cosign.password": state.cosign_password}, files=cosign_files),
                _secret(
                    "genaiops-pipeline-env",
                    {"GENAIOPS_LLM_BASE_URL": state.llm_url, "E2E_PIPELINE_CANARY": state.pipeline_canary},
                ),
                _secret("genaiops-github-webhook", {"secret": state.webhook_secret}),
                _secret("genaiops-github-token", {"authorization": f"Bearer {state.github_token}"}),
            ],
            "patches": [
                # e2e only: the test reads the artifact store from the host
                {
                    "target": {"kind": "Service", "name": "genaiops-artifacts"},
                    "patch": yaml.safe_dump(
                        [
                            {"op": "replace", "path": "/spec/type", "value": "NodePort"},
                            {"op": "add", "path": "/spec/ports/0/nodePort", "value": S3_NODE_PORT},
                        ]
                    ),
                },
                # e2e only: one node, so one JetStream server (and streams with one replica)
                {"target": {"kind": "EventBus", "name": "default"}, "patch": _single_server_eventbus(repo)},
            ],
        },
    )
    kube.apply(cluster, kube.build(repo, workdir), what="platform overlay")


def _single_server_eventbus(repo: Path) -> str:
    """A JSON patch giving the platform's EventBus one server and its streams one replica."""
    shipped = yaml.safe_load((repo / "platform/events/eventbus.yaml").read_text())
    stream = re.sub(r"(?m)^replicas:\s*\d+\s*$", "replicas: 1", shipped["spec"]["jetstream"]["streamConfig"])
    return yaml.safe_dump(
        [
            {"op": "replace", "path": "/spec/jetstream/replicas", "value": 1},
            {"op": "replace", "path": "/spec/jetstream/streamConfig", "value": stream},
        ]
    )


def _webhook_node_port() -> dict[str, object]:
    """The GitHub EventSource's webhook reachable from the host (what an Ingress does for GitHub)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "github-eventsource-e2e"},
        "spec": {
            "type": "NodePort",
            "selector": {"eventsource-name": "github"},
            "ports": [{"name": "webhook", "port": 12000, "targetPort": 12000, "nodePort": WEBHOOK_NODE_PORT}],
        },
    }


def _secret(name: str, literals: dict[str, str], files: list[str] | None = None) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": name,
        "literals": [f"{key}={value}" for key, value in literals.items()],
        "options": {"disableNameSuffixHash": True},
    }
    if files:
        entry["files"] = files
    return entry


def cosign_keys(state: State) -> Path:
    """A fresh cosign key pair (what `cosign generate-key-pair` gives a team), in the run folder."""
    folder = docker.RUN_DIR / "cosign"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cosign = gobuild.binary(gobuild.COSIGN, "cosign")
    run(
        [cosign, "generate-key-pair"],
        cwd=folder,
        env={"COSIGN_PASSWORD": state.cosign_password},
        capture=True,
    )
    return folder


def new_state(cluster: Cluster, repo: Path, pipeline_image: str) -> State:
    """Credentials and addresses of this run."""
    project = load_project(repo)
    env = project.environments[0].name
    overlay, namespace = _overlay(repo, env)
    repository = _webhook_repository(repo, overlay)
    webhook_url = f"http://{cluster.node_ip}:{WEBHOOK_NODE_PORT}/github"
    if State.path().exists():  # the same cluster again: keep the credentials its Secrets already hold
        earlier = State.load()
        if earlier.kubeconfig == str(cluster.kubeconfig) and earlier.node_ip == cluster.node_ip:
            earlier.pipeline_image = pipeline_image
            earlier.webhook_secret = earlier.webhook_secret or secrets.token_hex(20)
            earlier.webhook_url_host = webhook_url
            earlier.github_token = earlier.github_token or secrets.token_hex(20)
            earlier.pipeline_canary = earlier.pipeline_canary or secrets.token_hex(20)
            earlier.git_read_token = earlier.git_read_token or secrets.token_hex(16)
            earlier.sink_url_cluster = SINK_URL_CLUSTER
            earlier.sink_url_host = f"http://{cluster.node_ip}:{SINK_NODE_PORT}"
            return earlier
    return State(
        kubeconfig=str(cluster.kubeconfig),
        node_ip=cluster.node_ip,
        repo=str(repo),
        environment=env,
        namespace=namespace,
        pipeline_image=pipeline_image,
        git_token=secrets.token_hex(16),
        git_read_token=secrets.token_hex(16),
        git_user=GIT_USER,
        git_url_cluster=f"http://git-server.{INFRA_NAMESPACE}.svc.cluster.local:8080/git/{repository}.git",
        git_url_host=f"http://{cluster.node_ip}:{GIT_NODE_PORT}/git/{repository}.git",
        s3_endpoint_host=f"{cluster.node_ip}:{S3_NODE_PORT}",
        s3_access_key="genaiops-" + secrets.token_hex(4),
        s3_secret_key=secrets.token_hex(20),
        cosign_password=secrets.token_hex(12),
        llm_url=f"http://llm.{INFRA_NAMESPACE}.svc.cluster.local:8089/v1",
        bucket="genai-pipelines",
        webhook_secret=secrets.token_hex(20),
        webhook_url_host=webhook_url,
        github_token=secrets.token_hex(20),
        pipeline_canary=secrets.token_hex(20),
        sink_url_cluster=SINK_URL_CLUSTER,
        sink_url_host=f"http://{cluster.node_ip}:{SINK_NODE_PORT}",
    )


def _webhook_repository(repo: Path, overlay: Path) -> str:
    """``owner/name`` the overlay's GitHub EventSource accepts events for (``genaiops init`` sets it from
    the repository URL); the git server serves the repository under the same path."""
    for doc in yaml.safe_load_all(kube.build(repo, overlay)):
        if doc and doc.get("kind") == "EventSource" and "github" in (doc.get("spec") or {}):
            for source in doc["spec"]["github"].values():
                for entry in source.get("repositories") or []:
                    if entry.get("owner") and entry.get("names"):
                        return f"{entry['owner']}/{entry['names'][0]}"
    return REPOSITORY


def install_all(cluster: Cluster, repo: Path, images: dict[str, str]) -> State:
    """Argo, test services and the platform; waits until each is ready; returns the run's state."""
    state = new_state(cluster, repo, images["pipeline"])
    argo_workflows(cluster, repo)
    argo_events(cluster, repo, images)
    argo_cd(cluster, repo)
    argo_rollouts(cluster, repo, images["argo-rollouts"])
    infra(cluster, repo, images, state)
    for crd in ("eventbus", "eventsources", "sensors"):  # the overlay's Events resources need them
        kube.wait_for(cluster, f"crd/{crd}.argoproj.io", "condition=Established")
    platform(cluster, repo, images["pipeline"], state, cosign_keys(state))
    kube.rollout(cluster, ARGO_NAMESPACE, "workflow-controller")
    kube.rollout(cluster, EVENTS_NAMESPACE, "controller-manager")
    kube.rollout(cluster, INFRA_NAMESPACE, "git-server")
    kube.rollout(cluster, INFRA_NAMESPACE, "llm")
    kube.rollout(cluster, INFRA_NAMESPACE, "http-sink")
    kube.rollout(cluster, INFRA_NAMESPACE, "traffic")
    kube.rollout(cluster, state.namespace, "genaiops-artifacts")
    events_ready(cluster, repo, state.namespace)
    state.seed_commit = team.seed_repository(repo, state)
    kube.rollout(cluster, ARGO_CD_NAMESPACE, "argocd-application-controller", kind="statefulset")
    for deployment in ("argocd-repo-server", "argocd-redis", "argocd-notifications-controller"):
        kube.rollout(cluster, ARGO_CD_NAMESPACE, deployment)
    kube.rollout(cluster, ROLLOUTS_NAMESPACE, "argo-rollouts")
    kube.rollout(cluster, INFRA_NAMESPACE, "prometheus")
    team.bootstrap_argo_cd(cluster, repo, state)
    # a fresh history: workflows and records of scenarios run against the previous one are void
    # (the scenarios', what their hand-offs started, and what Sensors started for test webhooks)
    for selector in ("genaiops.dev/e2e=true", "genaiops.dev/released-by", "events.argoproj.io/sensor"):
        kube.remove_workflows(cluster, state.namespace, selector=selector, force=True)
    shutil.rmtree(docker.RUN_DIR / "scenarios", ignore_errors=True)
    state.save()
    log(f"installed; state in {state.path()}")
    return state


def events_ready(cluster: Cluster, repo: Path, namespace: str) -> None:
    """The EventBus servers, the GitHub EventSource and every Sensor the overlay ships are running."""
    kube.wait_pods_ready(cluster, namespace, "eventbus-name=default", what="EventBus default", timeout_s=420)
    kube.wait_pods_ready(cluster, namespace, "eventsource-name=github", what="EventSource github")
    for sensor in [*(f"{kind}-ci" for kind in load_project(repo).kinds), "pull-request-ci"]:
        kube.wait_pods_ready(cluster, namespace, f"sensor-name={sensor}", what=f"Sensor {sensor}")


def describe(state: State) -> str:
    """A short, credential-free summary."""
    return json.dumps({k: v for k, v in state.public().items()}, indent=2)
