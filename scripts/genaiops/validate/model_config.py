"""Validate of model-config artifacts: the models exist where the config will run, and it is sound.

Checks (rule ids in docs/rules.md, details in docs/validate.md):
- ``model-config/model-unavailable`` / ``model-config/fallback-unavailable``: the catalog lists the
  model (the fallback) as available in the target environment;
- ``model-config/model-not-served`` / ``model-config/fallback-not-served``: when the environment
  has an LLM endpoint, its ``/models`` list includes them (an unhealthy endpoint is exit 3);
- ``model-config/fallback-same-as-primary``: the fallback is a different model;
- ``model-config/stop-truncates``: no stop sequence occurs inside a valid response fixture
  (generation would stop there and cut the response); ``model-config/no-fixtures`` (warning) when
  stop sequences are set but there is nothing to check them against;
- an unreachable or slow endpoint raises InfraError (exit 3, retried) - unless the config already
  fails another check, then it is ``model-config/endpoint-unchecked`` (warning) and the run exits 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from genaiops import rules
from genaiops.catalog import load_catalog
from genaiops.errors import InfraError
from genaiops.validate.environment import resolve_target, served_models

if TYPE_CHECKING:
    from genaiops.discovery import Artifact
    from genaiops.report import ArtifactResult
    from genaiops.safeio import YamlDocument
    from genaiops.stages.runner import StageContext

CATALOG_HINT = (
    "Pick a model the catalog (artifacts/catalog/models.yaml) deploys there, or add the environment."
)
MODEL_UNAVAILABLE = rules.rule(
    "model-config/model-unavailable",
    "validate",
    "model_name is not available in the target environment according to the catalog.",
    CATALOG_HINT,
)
FALLBACK_UNAVAILABLE = rules.rule(
    "model-config/fallback-unavailable",
    "validate",
    "fallback_model is not available in the target environment according to the catalog.",
    CATALOG_HINT,
)
SERVED_HINT = "Deploy the model on the environment's endpoint, or target one it serves."
MODEL_NOT_SERVED = rules.rule(
    "model-config/model-not-served",
    "validate",
    "The target environment's LLM endpoint does not list model_name in /models.",
    SERVED_HINT,
)
FALLBACK_NOT_SERVED = rules.rule(
    "model-config/fallback-not-served",
    "validate",
    "The target environment's LLM endpoint does not list fallback_model in /models.",
    SERVED_HINT,
)
SAME_FALLBACK = rules.rule(
    "model-config/fallback-same-as-primary",
    "validate",
    "fallback_model is the same model as model_name, so the fallback adds no redundancy.",
    "Choose a fallback served by a different model (ideally another provider).",
)
STOP_TRUNCATES = rules.rule(
    "model-config/stop-truncates",
    "validate",
    "A stop sequence occurs inside a valid response fixture: generation would stop there "
    "and truncate that response.",
    "Remove or lengthen the stop sequence so it cannot occur in valid output.",
)
ENDPOINT_UNCHECKED = rules.rule(
    "model-config/endpoint-unchecked",
    "validate",
    "The environment's endpoint could not be asked (down or too slow) while the config already fails other "
    "checks: reported as a warning so the run fails (exit 1) instead of being retried (exit 3).",
    "Fix the other findings; the endpoint check runs again on the next validate.",
)
NO_FIXTURES = rules.rule(
    "model-config/no-fixtures",
    "validate",
    "stop_sequences are set but fixtures.valid_responses is empty, so nothing shows they do "
    "not truncate valid output (a warning).",
    "Add representative responses under fixtures.valid_responses.",
)


def _name(doc: YamlDocument, key: str) -> str | None:
    value = doc.data.get(key)
    return value if isinstance(value, str) and value else None


def _check_availability(doc: YamlDocument, artifact: Artifact, result: ArtifactResult, env: str) -> None:
    catalog = load_catalog(artifact.repo)
    for key, rule_id in (("model_name", MODEL_UNAVAILABLE), ("fallback_model", FALLBACK_UNAVAILABLE)):
        name = _name(doc, key)
        if name is None:
            continue
        entry = catalog.get(name)
        if entry is None:
            result.add(
                rule_id,
                f"{key} {name!r} is not in the model catalog, so it is available nowhere",
                file=doc.file,
                line=doc.line_of([key]),
            )
        elif not entry.available_in(env):
            where = ", ".join(entry.environments) or "no environment"
            result.add(
                rule_id,
                f"{key} {name!r} is not available in environment {env!r} (catalog: {where})",
                file=doc.file,
                line=doc.line_of([key]),
            )


def _check_served(doc: YamlDocument, result: ArtifactResult, served: set[str], endpoint: str) -> None:
    for key, rule_id in (("model_name", MODEL_NOT_SERVED), ("fallback_model", FALLBACK_NOT_SERVED)):
        name = _name(doc, key)
        if name is not None and name not in served:
            listed = ", ".join(sorted(served)[:20]) or "none"
            result.add(
                rule_id,
                f"{key} {name!r} is not served at {endpoint} (it serves: {listed})",
                file=doc.file,
                line=doc.line_of([key]),
            )


def _check_fallback(doc: YamlDocument, result: ArtifactResult) -> None:
    primary, fallback = _name(doc, "model_name"), _name(doc, "fallback_model")
    if primary and fallback and primary.strip().casefold() == fallback.strip().casefold():
        result.add(
            SAME_FALLBACK,
            f"fallback_model {fallback!r} is the primary model {primary!r}",
            file=doc.file,
            line=doc.line_of(["fallback_model"]),
        )


def _fixtures(doc: YamlDocument) -> list[tuple[int, Mapping[str, Any]]]:
    fixtures = doc.data.get("fixtures")
    responses = fixtures.get("valid_responses") if isinstance(fixtures, Mapping) else None
    if not isinstance(responses, list):
        return []
    return [
        (i, r)
        for i, r in enumerate(responses)
        if isinstance(r, Mapping) and isinstance(r.get("response"), str)
    ]


def _check_stops(doc: YamlDocument, result: ArtifactResult) -> None:
    raw = doc.data.get("stop_sequences")
    stops = [s for s in raw if isinstance(s, str) and s] if isinstance(raw, list) else []
    fixtures = _fixtures(doc)
    result.metrics["fixtures"] = len(fixtures)
    if stops and not fixtures:
        result.add(
            NO_FIXTURES,
            f"{len(stops)} stop sequence(s) and no valid response fixtures to check them on",
            severity="warning",
            file=doc.file,
            line=doc.line_of(["stop_sequences"]),
        )
    for index, fixture in fixtures:
        response: str = fixture["response"]
        hits = sorted((response.find(stop), stop) for stop in stops if stop in response)
        if not hits:
            continue
        position, stop = hits[0]
        kept = len(response[:position])
        description = fixture.get("description") or f"#{index + 1}"
        result.add(
            STOP_TRUNCATES,
            f"stop sequence {stop!r} occurs in valid response {description!r} at character "
            f"{position}: only {kept} of {len(response)} characters would be returned",
            file=doc.file,
            line=doc.line_of(["fixtures", "valid_responses", index, "response"]),
        )


def check(artifact: Artifact, result: ArtifactResult, ctx: StageContext) -> None:
    """Validate one model-config artifact against the target environment."""
    doc = ctx.manifest(artifact)
    target = resolve_target(ctx)
    result.details["environment"] = target.name
    _check_fallback(doc, result)
    _check_stops(doc, result)
    if target.listed:
        _check_availability(doc, artifact, result, target.name)
    try:
        served = served_models(target, ctx)
    except InfraError as exc:
        if not any(f.severity == "error" for f in result.findings):
            raise  # nothing else is wrong: a transient outage, worth a retry (exit 3)
        result.add(
            ENDPOINT_UNCHECKED,
            f"not checked against the endpoint: {exc.message}",
            severity="warning",
            file=doc.file,
        )
        return
    if served is not None and target.endpoint is not None:
        result.details["endpoint"] = target.endpoint
        result.metrics["servedModels"] = len(served)
        _check_served(doc, result, served, target.endpoint)
