"""Every pinned upstream version, in one place: schemas, command-line tools and cluster components.

The manifest harness validates against the schemas of exactly the versions the end-to-end cluster
runs, and ``scripts/install-tools.sh`` installs the tools named here (``python -m genaiops.pins
tools`` prints them). Everything comes from the Go module proxy (``go mod download``), so nothing
depends on a GitHub download or a container registry. Bump a version here; cache folders are named
after versions, so stale schemas, binaries and images are never reused.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

SourceFormat = Literal["swagger", "crds", "jsonschema"]


@dataclass(frozen=True)
class ModulePin:
    """One Go module at one version."""

    name: str
    """Short name, also the cache folder prefix (``<name>-<version>``)."""
    module: str
    version: str

    @property
    def key(self) -> str:
        """The cache folder name for this pin."""
        return f"{self.name}-{self.version}"

    @property
    def spec(self) -> str:
        """``module@version`` as ``go mod download`` takes it."""
        return f"{self.module}@{self.version}"


@dataclass(frozen=True)
class SchemaPin(ModulePin):
    """An upstream project whose schemas the manifest harness reads from its Go module."""

    source: SourceFormat = "crds"
    """``swagger``: Kubernetes OpenAPI v2; ``crds``: CustomResourceDefinition YAML files;
    ``jsonschema``: one JSON Schema file with ``definitions`` carrying group/version/kind."""
    paths: tuple[str, ...] = ()
    """Files or folders (relative to the module root) holding the schemas."""


@dataclass(frozen=True)
class ToolPin(ModulePin):
    """A command installed with ``go install`` (or from a pin folder) into ``.tools/bin``."""

    package: str = ""
    """The main package to install (defaults to the module root)."""
    pin_dir: str = ""
    """A folder with a go.mod/go.sum that pins the tool where ``go install pkg@version`` is refused."""

    @property
    def install_spec(self) -> str:
        return f"{self.package or self.module}@{self.version}"


KUBERNETES = SchemaPin(
    "kubernetes", "k8s.io/kubernetes", "v1.35.4", source="swagger", paths=("api/openapi-spec/swagger.json",)
)
ARGO_WORKFLOWS = SchemaPin(
    "argo-workflows",
    "github.com/argoproj/argo-workflows/v3",
    "v3.6.18",
    source="crds",
    paths=("manifests/base/crds/full",),
)
"""The ``full`` CRDs: the ``minimal`` ones preserve unknown fields and validate nothing."""
ARGO_EVENTS = SchemaPin(
    "argo-events",
    "github.com/argoproj/argo-events",
    "v1.9.11",
    source="jsonschema",
    paths=("api/jsonschema/schema.json",),
)
"""Argo Events CRDs carry no schema; its published JSON Schema does."""
ARGO_CD = SchemaPin("argo-cd", "github.com/argoproj/argo-cd/v3", "v3.2.11", paths=("manifests/crds",))
ARGO_ROLLOUTS = SchemaPin(
    "argo-rollouts", "github.com/argoproj/argo-rollouts", "v1.9.1", paths=("manifests/crds",)
)

PINS: tuple[SchemaPin, ...] = (KUBERNETES, ARGO_WORKFLOWS, ARGO_EVENTS, ARGO_CD, ARGO_ROLLOUTS)
"""Schema sources, searched in this order; Kubernetes first supplies ObjectMeta to the CRD schemas."""

# Command-line tools of `make setup` (scripts/install-tools.sh).
KUSTOMIZE = ToolPin("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1")
KUBECONFORM = ToolPin(
    "kubeconform",
    "github.com/yannh/kubeconform",
    "v0.7.0",
    package="github.com/yannh/kubeconform/cmd/kubeconform",
)
ARGO_CLI = ToolPin(
    "argo",
    ARGO_WORKFLOWS.module,
    ARGO_WORKFLOWS.version,
    package=f"{ARGO_WORKFLOWS.module}/cmd/argo",
    pin_dir="scripts/tools/argo",
)
TOOLS: tuple[ToolPin, ...] = (KUSTOMIZE, KUBECONFORM, ARGO_CLI)

# The end-to-end cluster (scripts/genaiops_e2e): built from these modules where no registry is reachable.
KIND = ModulePin("kind", "sigs.k8s.io/kind", "v0.32.0")
CHAINSAW = ModulePin("chainsaw", "github.com/kyverno/chainsaw", "v0.2.15")
ETCD = ModulePin("etcd", "go.etcd.io/etcd/server/v3", "v3.6.6")
"""The etcd kubeadm v1.35 defaults to (its image tag is ``3.6.6-0``)."""
COREDNS = ModulePin("coredns", "github.com/coredns/coredns", "v1.13.1")
"""The CoreDNS kubeadm v1.35 deploys."""
PAUSE_VERSION = "3.10.1"
"""The pod sandbox image kubeadm v1.35 and kind's containerd config name; built from Kubernetes'
``build/pause/linux/pause.c``."""
LOCAL_PATH_PROVISIONER = ModulePin(
    "local-path-provisioner", "github.com/rancher/local-path-provisioner", "v0.0.33"
)
"""The kind node's default StorageClass (kind's own choice), so PersistentVolumeClaims work as on any kind."""
VERSITYGW = ModulePin("versitygw", "github.com/versity/versitygw", "v1.8.0")
"""The S3-compatible artifact store (Apache-2.0; MinIO's server is AGPL)."""
COSIGN = ModulePin("cosign", "github.com/sigstore/cosign/v2", "v2.4.1")
"""Signs and verifies scorecards in the sign WorkflowTemplate (image ghcr.io/sigstore/cosign/cosign)."""
NATS_SERVER = ModulePin("nats-server", "github.com/nats-io/nats-server/v2", "v2.10.29")
"""The JetStream server of the platform's EventBus (``platform/events/eventbus.yaml`` names the same
version; Argo Events v1.9.11 lists it as its newest JetStream)."""
PROMETHEUS = ModulePin("prometheus", "github.com/prometheus/prometheus", "v0.316.0")
"""Prometheus 3.16.0, which scrapes the serving pods so the Rollouts AnalysisTemplates query real series.
Its Go module numbers release 3.X.Y as v0.3XX.Y (``gobuild.prometheus_release``)."""
UV_VERSION = "0.13.8"
"""uv in the pipeline image's build stage (the Makefile installs the same version)."""
DEBIAN_SUITE = "bookworm"
"""Debian release of locally made base images (kind node, Python base, git server)."""


def tool_lines() -> list[str]:
    """``name|install-spec|pin-dir`` per tool, as scripts/install-tools.sh reads them."""
    return [f"{t.name}|{t.install_spec}|{t.pin_dir}" for t in TOOLS]


if __name__ == "__main__":  # python -m genaiops.pins tools
    if sys.argv[1:] != ["tools"]:
        sys.exit("usage: python -m genaiops.pins tools")
    print("\n".join(tool_lines()))
