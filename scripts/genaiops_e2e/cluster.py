"""The kind cluster: created from the local node image, its kubeconfig, image loading and deletion.

One control-plane node (kind's load balancer image would be needed for more), kind's default CNI
replaced by the node image's own ptp network, and the kubelet told that this host's cgroup v1 is fine
(Kubernetes 1.35 refuses cgroup v1 unless ``failCgroupV1: false``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from genaiops_e2e import docker, gobuild, nodeimage
from genaiops_e2e.proc import HarnessError, log, output, run

CLUSTER_NAME = "genaiops-e2e"


@dataclass(frozen=True)
class Cluster:
    """A running cluster: how to reach it from the host."""

    name: str
    kubeconfig: Path
    node: str
    """The node container's name (also its hostname)."""
    node_ip: str
    """The node's address on the kind network: NodePort Services are reachable there from the host."""
    env: dict[str, str]
    """Environment for commands that talk to the cluster (KUBECONFIG, DOCKER_HOST, PATH with kubectl)."""


def kind_config(node_image: str) -> dict[str, object]:
    """The kind Cluster configuration (kind's own CNI with its published node image; the node image built
    here brings a static single-node network instead, kindnet's image being unavailable)."""
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "networking": {
            "ipFamily": "ipv4",
            "disableDefaultCNI": node_image != nodeimage.upstream_node_image(),
            "podSubnet": nodeimage.POD_SUBNET,
        },
        "nodes": [{"role": "control-plane", "image": node_image}],
        "kubeadmConfigPatches": [yaml.safe_dump({"kind": "KubeletConfiguration", "failCgroupV1": False})],
    }


def _kind() -> str:
    return str(gobuild.binary(gobuild.KIND, "kind"))


def tool_path(env: dict[str, str]) -> str:
    """PATH with the pinned kubectl (built with Kubernetes) first: the machine's kubectl is never used."""
    bins = gobuild.build_binaries(gobuild.KUBERNETES)
    return f"{bins}:{os.environ.get('PATH', '')}"


def exists(engine_env: dict[str, str], name: str = CLUSTER_NAME) -> bool:
    """Whether kind knows a cluster of that name."""
    return name in output([_kind(), "get", "clusters"], env=engine_env, quiet=True).split()


def create(engine_env: dict[str, str], node_image: str, name: str = CLUSTER_NAME) -> Cluster:
    """Create the cluster (or reuse one of the same name left by an earlier ``up``)."""
    kubeconfig = docker.RUN_DIR / f"{name}.kubeconfig"
    env = {**engine_env, "KUBECONFIG": str(kubeconfig)}
    node = f"{name}-control-plane"
    if exists(engine_env, name):
        running = output(
            ["docker", "inspect", "--format", "{{.Config.Image}}", node], env=engine_env, quiet=True
        )
        if running.strip() != node_image:
            log(f"the running cluster {name} uses another node image: recreating it")
            delete(engine_env, name)
    if not exists(engine_env, name):
        config = docker.RUN_DIR / f"{name}.kind.yaml"
        config.write_text(yaml.safe_dump(kind_config(node_image), sort_keys=False))
        run([_kind(), "create", "cluster", "--name", name, "--config", config], env=env, timeout=900)
    else:
        log(f"reusing the running kind cluster {name}")
        kubeconfig.write_text(output([_kind(), "get", "kubeconfig", "--name", name], env=env, quiet=True))
    inspect = json.loads(output(["docker", "inspect", node], env=engine_env, quiet=True))
    networks = inspect[0]["NetworkSettings"]["Networks"]
    node_ip = next((net["IPAddress"] for net in networks.values() if net.get("IPAddress")), "")
    if not node_ip:
        raise HarnessError(f"could not find the address of node container {node}")
    return Cluster(name, kubeconfig, node, node_ip, {**env, "PATH": tool_path(env)})


def load_images(cluster: Cluster, refs: list[str]) -> None:
    """Make locally built images available to the node's containerd (``kind load docker-image``)."""
    run([_kind(), "load", "docker-image", "--name", cluster.name, *refs], env=cluster.env, timeout=1800)


def delete(engine_env: dict[str, str], name: str = CLUSTER_NAME) -> None:
    """Delete the cluster and its node container (and the run's state, whose credentials die with it)."""
    if exists(engine_env, name):
        run([_kind(), "delete", "cluster", "--name", name], env=engine_env, timeout=300)
    (docker.RUN_DIR / "e2e.json").unlink(missing_ok=True)
