"""The pinned upstream versions whose schemas the harness validates against.

Every schema comes from a Go module served by the Go module proxy (``go mod download``), so the
harness works offline once the module cache is warm and never depends on a GitHub download.
Bump a version here; the cache folder name changes with it, so stale schemas are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceFormat = Literal["swagger", "crds", "jsonschema"]


@dataclass(frozen=True)
class SchemaPin:
    """One upstream project: where its schemas are inside its Go module and in which format."""

    name: str
    """Short name, also the cache folder prefix (``<name>-<version>``)."""
    module: str
    version: str
    source: SourceFormat
    """``swagger``: Kubernetes OpenAPI v2; ``crds``: CustomResourceDefinition YAML files;
    ``jsonschema``: one JSON Schema file with ``definitions`` carrying group/version/kind."""
    paths: tuple[str, ...]
    """Files or folders (relative to the module root) holding the schemas."""

    @property
    def key(self) -> str:
        """The cache folder name for this pin."""
        return f"{self.name}-{self.version}"

    @property
    def spec(self) -> str:
        """``module@version`` as ``go mod download`` takes it."""
        return f"{self.module}@{self.version}"


KUBERNETES = SchemaPin(
    "kubernetes", "k8s.io/kubernetes", "v1.35.4", "swagger", ("api/openapi-spec/swagger.json",)
)
ARGO_WORKFLOWS = SchemaPin(
    "argo-workflows",
    "github.com/argoproj/argo-workflows/v3",
    "v3.6.18",
    "crds",
    ("manifests/base/crds/full",),
)
"""The ``full`` CRDs: the ``minimal`` ones preserve unknown fields and validate nothing."""
ARGO_EVENTS = SchemaPin(
    "argo-events", "github.com/argoproj/argo-events", "v1.9.11", "jsonschema", ("api/jsonschema/schema.json",)
)
"""Argo Events CRDs carry no schema; its published JSON Schema does."""
ARGO_CD = SchemaPin("argo-cd", "github.com/argoproj/argo-cd/v3", "v3.5.1", "crds", ("manifests/crds",))
ARGO_ROLLOUTS = SchemaPin(
    "argo-rollouts", "github.com/argoproj/argo-rollouts", "v1.9.1", "crds", ("manifests/crds",)
)

PINS: tuple[SchemaPin, ...] = (KUBERNETES, ARGO_WORKFLOWS, ARGO_EVENTS, ARGO_CD, ARGO_ROLLOUTS)
"""Searched in this order; Kubernetes first supplies ObjectMeta to the CRD schemas."""
