"""Lint of model-config artifacts: schema and value ranges, catalog models, published limits.

Checks (rule ids in docs/rules.md):
- ``model-config/schema``: model-config.yaml matches schemas/model-config.schema.json (types and
  ranges: temperature 0.0-2.0, top_p in (0, 1], penalties -2.0-2.0, timeout <= 600 s, ...);
- ``model-config/unknown-model`` / ``model-config/unknown-fallback``: the model and the fallback are
  in the catalog;
- ``model-config/not-chat-model``: both are chat models (not embedding models);
- ``model-config/provider-mismatch``: ``provider`` is the catalog's provider of ``model_name``;
- ``model-config/max-tokens-limit``: max_tokens is within the published output limit of the model
  and of the fallback (the same request goes to both);
- ``model-config/deprecated-model`` (warning): the catalog marks a model deprecated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genaiops import rules, schemacheck
from genaiops.catalog import Catalog, ModelEntry, load_catalog

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument
    from genaiops.stages.runner import StageContext

SCHEMA = rules.rule(
    "model-config/schema",
    "lint",
    "model-config.yaml breaks its schema: a missing key, a wrong type or a value out of range "
    "(temperature 0.0-2.0, top_p in (0, 1], penalties -2.0-2.0, timeout at most 600 s).",
    "See docs/artifacts/model-configs.md for every key and its range.",
)
UNKNOWN_MODEL = rules.rule(
    "model-config/unknown-model",
    "lint",
    "model_name is not in the model catalog.",
    "Use a model listed in artifacts/catalog/models.yaml, or add it there first.",
)
UNKNOWN_FALLBACK = rules.rule(
    "model-config/unknown-fallback",
    "lint",
    "fallback_model is not in the model catalog.",
    "Use a model listed in artifacts/catalog/models.yaml, or add it there first.",
)
NOT_CHAT = rules.rule(
    "model-config/not-chat-model",
    "lint",
    "model_name or fallback_model names an embedding model; a model config serves chat models.",
)
PROVIDER_MISMATCH = rules.rule(
    "model-config/provider-mismatch",
    "lint",
    "provider differs from the catalog's provider of model_name.",
    "Set provider to the one the catalog lists for the model.",
)
MAX_TOKENS = rules.rule(
    "model-config/max-tokens-limit",
    "lint",
    "max_tokens exceeds the published output limit of the model or of its fallback.",
    "Lower max_tokens to the smaller max_output_tokens of the two models in the catalog.",
)
DEPRECATED = rules.rule(
    "model-config/deprecated-model",
    "lint",
    "The model or the fallback is marked deprecated in the catalog (a warning).",
    "Move to a supported model before it is removed from the catalog.",
)


def _model(
    doc: YamlDocument, catalog: Catalog, key: str, unknown_rule: str, result: ArtifactResult
) -> ModelEntry | None:
    name = doc.data.get(key)
    if not isinstance(name, str):
        return None  # the schema finding already says so
    entry = catalog.get(name)

    def line() -> int | None:  # composed only for a finding
        return doc.line_of([key])

    if entry is None:
        known = ", ".join(catalog.names(type="chat"))
        result.add(
            unknown_rule,
            f"{key} {name!r} is not in the model catalog (chat models: {known})",
            file=doc.file,
            line=line(),
        )
        return None
    if entry.type != "chat":
        result.add(
            NOT_CHAT, f"{key} {name!r} is an {entry.type} model, not a chat model", file=doc.file, line=line()
        )
        return None
    if entry.deprecated:
        result.add(
            DEPRECATED,
            f"{key} {name!r} is deprecated in the model catalog",
            severity="warning",
            file=doc.file,
            line=line(),
        )
    return entry


def _check_max_tokens(
    doc: YamlDocument, models: list[tuple[str, ModelEntry]], result: ArtifactResult
) -> None:
    max_tokens: Any = doc.data.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        return
    for key, entry in models:
        limit = entry.max_output_tokens or entry.context_window
        if max_tokens > limit:
            result.add(
                MAX_TOKENS,
                f"max_tokens {max_tokens} exceeds the published output limit of "
                f"{key} {entry.name!r} ({limit} tokens)",
                file=doc.file,
                line=doc.line_of(["max_tokens"]),
            )


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Lint one model-config artifact."""
    doc = ctx.manifest(artifact)
    schemacheck.check_document(doc, artifact.kind.schema, result, SCHEMA)
    catalog = load_catalog(artifact.repo)
    primary = _model(doc, catalog, "model_name", UNKNOWN_MODEL, result)
    fallback = _model(doc, catalog, "fallback_model", UNKNOWN_FALLBACK, result)
    provider = doc.data.get("provider")
    if primary is not None and isinstance(provider, str) and provider != primary.provider:
        result.add(
            PROVIDER_MISMATCH,
            f"provider {provider!r} does not serve {primary.name!r} (the catalog says {primary.provider!r})",
            file=doc.file,
            line=doc.line_of(["provider"]),
        )
    models = [(k, m) for k, m in (("model_name", primary), ("fallback_model", fallback)) if m is not None]
    _check_max_tokens(doc, models, result)
    if primary is not None:
        result.metrics["contextWindow"] = primary.context_window
        result.metrics["maxOutputTokens"] = primary.max_output_tokens
