"""The cluster-wide controllers, installed from the pinned modules' own ``manifests/`` as a team would.

- Argo Workflows v3.6: CRDs, the workflow controller and its RBAC, with the platform's controller settings
  (``platform/cluster/argo-workflows``).
- Argo Events: the cluster install; its controller runs the EventBus (JetStream), the GitHub EventSource
  and the kinds' Sensors that the platform overlay ships.
- Argo CD v3: the parts of its core install that sync and report (application controller, repo-server,
  redis, notifications controller), bootstrapped later from the team's ``environments/bootstrap``.
- Argo Rollouts: the controller of the environments' serving workloads (canary, blue-green, analysis).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from genaiops import pins
from genaiops_e2e import docker, gobuild, kube
from genaiops_e2e.cluster import Cluster
from genaiops_e2e.proc import HarnessError

ARGO_NAMESPACE = "argo"
EVENTS_NAMESPACE = "argo-events"
ARGO_CD_NAMESPACE = "argocd"
ROLLOUTS_NAMESPACE = "argo-rollouts"
ARGO_CD_PARTS = (
    "crds",
    "cluster-rbac/application-controller",
    "base/config",
    "base/application-controller",
    "base/repo-server",
    "base/redis",
    "base/notification",
)
"""What of Argo CD's ``manifests/`` the cluster runs: ``core-install`` without the ApplicationSet controller,
plus the notifications controller (the on-deployed notification). Not the API server, its UI or Dex:
the scenarios read Applications from the Kubernetes API, as ``argocd --core`` does."""
ARGO_CD_TEST_SETTINGS = {
    # a test cluster polls the git server every 15 s; a team's Argo CD gets a push webhook instead
    "timeout.reconciliation": "15s",
    "timeout.reconciliation.jitter": "0s",
}


def install_dir(name: str) -> Path:
    """A generated kustomization's folder in the run folder (never in the repository)."""
    return docker.RUN_DIR / "install" / name


def _module_install(name: str, pin: pins.ModulePin, namespace: str) -> tuple[Path, Path]:
    """The install folder of a controller (with its ``namespace.yaml``) and its pinned module's
    ``manifests/``."""
    workdir = install_dir(name)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "namespace.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    )
    return workdir, gobuild.module_dir(pin.spec, workdir) / "manifests"


def argo_workflows(cluster: Cluster, repo: Path) -> None:
    """The Workflow CRDs, the workflow controller and its RBAC, plus the platform/cluster settings."""
    workdir, manifests = _module_install("argo-workflows", pins.ARGO_WORKFLOWS, ARGO_NAMESPACE)
    controller_env = [
        # a test cluster: requeue quickly (the default 10s makes every step wait), one replica, no election
        {"name": "DEFAULT_REQUEUE_TIME", "value": "2s"},
        {"name": "LEADER_ELECTION_DISABLE", "value": "true"},
    ]
    kube.write_kustomization(
        workdir,
        {
            "namespace": ARGO_NAMESPACE,
            "resources": [
                "namespace.yaml",
                kube.relative(workdir, manifests / "base" / "crds" / "minimal"),
                kube.relative(workdir, manifests / "base" / "workflow-controller"),
                kube.relative(workdir, manifests / "cluster-install" / "workflow-controller-rbac"),
            ],
            "images": [
                {"name": "quay.io/argoproj/workflow-controller", "newTag": pins.ARGO_WORKFLOWS.version},
            ],
            "patches": [
                {
                    "path": kube.relative(
                        workdir, repo / "platform/cluster/argo-workflows/workflow-controller-configmap.yaml"
                    )
                },
                {
                    "target": {"kind": "Deployment", "name": "workflow-controller"},
                    "patch": yaml.safe_dump(
                        [
                            {
                                "op": "add",
                                "path": "/spec/template/spec/containers/0/env",
                                "value": controller_env,
                            }
                        ]
                    ),
                },
            ],
        },
    )
    kube.apply(cluster, kube.build(repo, workdir), what="Argo Workflows")


def argo_events(cluster: Cluster, repo: Path, images: dict[str, str]) -> None:
    """The Argo Events controller (CRDs, RBAC, controller) from the pinned module's cluster install.

    Its EventSource and Sensor pods use the controller's own image, pulled only if absent. Where the
    EventBus's side containers had to be stood in for (``catalog.nats_standins``), the controller's
    JetStream version list names the stand-ins for the pinned version.
    """
    workdir, manifests = _module_install("argo-events", pins.ARGO_EVENTS, EVENTS_NAMESPACE)
    patches: list[dict[str, object]] = [
        {
            "target": {"kind": "Deployment", "name": "controller-manager"},
            "patch": yaml.safe_dump(
                [
                    {
                        "op": "replace",
                        "path": "/spec/template/spec/containers/0/imagePullPolicy",
                        "value": "IfNotPresent",
                    },
                    {
                        "op": "add",
                        "path": "/spec/template/spec/containers/0/env/-",
                        "value": {"name": "IMAGE_PULL_POLICY", "value": "IfNotPresent"},
                    },
                ]
            ),
        }
    ]
    if "nats-reloader" in images:
        patches.append({"path": "controller-config.yaml"})
        (workdir / "controller-config.yaml").write_text(
            yaml.safe_dump(_events_controller_config(manifests, images))
        )
    kube.write_kustomization(
        workdir,
        {
            "resources": ["namespace.yaml", kube.relative(workdir, manifests / "cluster-install")],
            "patches": patches,
        },
    )
    kube.apply(cluster, kube.build(repo, workdir), what="Argo Events")


def _events_controller_config(manifests: Path, images: dict[str, str]) -> dict[str, object]:
    """The controller config with the stand-in side containers for the pinned JetStream version."""
    source = yaml.safe_load(
        (manifests / "base" / "controller-manager" / "controller-config.yaml").read_text()
    )
    config = yaml.safe_load(source["data"]["controller-config.yaml"])
    version = pins.NATS_SERVER.version.lstrip("v")
    matched = 0
    for entry in config["eventBus"]["jetstream"]["versions"]:
        if entry["version"] == version:
            entry["configReloaderImage"] = images["nats-reloader"]
            entry["metricsExporterImage"] = images["nats-metrics"]
            matched += 1
    if not matched:
        raise HarnessError(f"Argo Events {pins.ARGO_EVENTS.version} lists no JetStream {version}")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argo-events-controller-config", "namespace": EVENTS_NAMESPACE},
        "data": {"controller-config.yaml": yaml.safe_dump(config, sort_keys=False)},
    }


def argo_cd(cluster: Cluster, repo: Path) -> None:
    """Argo CD's syncing parts (``ARGO_CD_PARTS``) from the pinned module, images pulled only if absent."""
    workdir, manifests = _module_install("argo-cd", pins.ARGO_CD, ARGO_CD_NAMESPACE)
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm"},
        "data": ARGO_CD_TEST_SETTINGS,
    }
    (workdir / "argocd-cm.yaml").write_text(yaml.safe_dump(settings))
    kube.write_kustomization(
        workdir,
        {
            "namespace": ARGO_CD_NAMESPACE,
            "resources": [
                "namespace.yaml",
                *(kube.relative(workdir, manifests / part) for part in ARGO_CD_PARTS),
            ],
            "images": [{"name": "quay.io/argoproj/argocd", "newTag": pins.ARGO_CD.version}],
            "patches": [{"path": "argocd-cm.yaml"}],
        },
    )
    kube.apply(cluster, if_not_present(kube.build(repo, workdir)), what="Argo CD")


def argo_rollouts(cluster: Cluster, repo: Path, image: str) -> None:
    """The Argo Rollouts controller (CRDs, cluster RBAC, controller) from the pinned module's cluster
    install, running the pinned release (its manifests name ``:latest``)."""
    workdir = install_dir("argo-rollouts")
    workdir.mkdir(parents=True, exist_ok=True)
    manifests = gobuild.module_dir(pins.ARGO_ROLLOUTS.spec, workdir) / "manifests"
    (workdir / "namespace.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ROLLOUTS_NAMESPACE}})
    )
    name, _, tag = image.rpartition(":")
    kube.write_kustomization(
        workdir,
        {
            "namespace": ROLLOUTS_NAMESPACE,
            "resources": ["namespace.yaml", kube.relative(workdir, manifests / "cluster-install")],
            "images": [{"name": "quay.io/argoproj/argo-rollouts", "newName": name, "newTag": tag}],
        },
    )
    kube.apply(cluster, if_not_present(kube.build(repo, workdir)), what="Argo Rollouts")


def if_not_present(manifests: str) -> str:
    """Every container (and init container) pulls its image only if the node lacks it: upstream's
    ``Always`` would ask a registry for images that were loaded into the node."""
    docs = [d for d in yaml.safe_load_all(manifests) if d]
    for doc in docs:
        spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
            container["imagePullPolicy"] = "IfNotPresent"
    return yaml.safe_dump_all(docs, sort_keys=False)
