"""The registry of artifact kinds: where each kind lives and which pipeline it runs.

Adding a kind is a data change here plus its checks in the stage tables
(genaiops.stages.registry); discovery, routing and reports need nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from genaiops.errors import UsageError

ARTIFACTS_DIR = "artifacts"
ARTIFACT_ID_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
"""Artifact ids are DNS-1123 labels: they name ConfigMaps, workflow parameters and folders."""


@dataclass(frozen=True)
class Kind:
    """One artifact kind."""

    name: str
    """The kind's name in reports, routes and workflow parameters (e.g. ``prompt``)."""
    folder: str
    """Its folder under ``artifacts/`` (e.g. ``prompts``)."""
    manifest: str
    """The file that makes a folder an artifact of this kind (holds ``id`` and ``version``)."""
    pipeline: str
    """The CI WorkflowTemplate that runs for it."""
    description: str
    schema: str
    """The JSON Schema its manifest must match (``genaiops/schemas/<schema>.schema.json``)."""
    references: tuple[tuple[str, str], ...] = ()
    """(manifest key, kind) pairs: the key names an artifact of that kind that serving needs next to
    this one, so an environment must deploy it first (genaiops.promote.order)."""


KINDS: tuple[Kind, ...] = (
    Kind(
        "prompt",
        "prompts",
        "prompt.yaml",
        "prompt-ci",
        "Jinja2 prompt template with metadata, unit test cases and an eval dataset",
        schema="prompt",
        references=(("model_config", "model-config"),),
    ),
    Kind(
        "model-config",
        "model-configs",
        "model-config.yaml",
        "model-config-ci",
        "Model serving parameters (MLflow PromptModelConfig keys) with a fallback model",
        schema="model-config",
    ),
    Kind(
        "rag",
        "rag",
        "rag.yaml",
        "rag-ci",
        "Retrieval configuration: embedding model, chunking, vector store, retrieval eval set",
        schema="rag",
    ),
    Kind(
        "guardrail",
        "guardrails",
        "policy.yaml",
        "guardrail-ci",
        "Guardrail policy: CEL rules over registered guardrail functions, with a test suite",
        schema="guardrail-policy",
    ),
)

BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
BY_FOLDER: dict[str, Kind] = {k.folder: k for k in KINDS}


def kind_named(name: str) -> Kind:
    """Return the kind called ``name`` or raise KeyError listing the known kinds."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown artifact kind {name!r}; known kinds: {', '.join(BY_NAME)}") from None


def parse_artifact_ref(
    ref: str, example: str = "genaiops rollback --env dev prompt/support-answer"
) -> tuple[str, str]:
    """``KIND/ID`` -> (kind, id), with a clear usage error naming the known kinds and ``example``."""
    kind, sep, artifact_id = ref.partition("/")
    if not sep or kind not in BY_NAME or not ARTIFACT_ID_PATTERN.match(artifact_id):
        raise UsageError(
            f"{ref!r} is not KIND/ID (kinds: {', '.join(BY_NAME)}; ids are DNS-1123 labels)",
            hint=f"For example: {example}",
        )
    return kind, artifact_id
