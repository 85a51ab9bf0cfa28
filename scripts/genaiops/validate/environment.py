"""The target environment of a validate run and the health of its LLM endpoint.

The environment is ``--env`` or, without it, the first one in genaiops.yaml (none listed: the
embedded default, which has no endpoint). Its settings are ``environments/<env>/settings.yaml``
(written by ``genaiops init``)::

    llm:
      endpoint: "https://llm.staging.example.com/v1"   # empty = none (embedded / replay)
      apiKeyEnv: LLM_API_KEY                          # optional: variable holding a bearer token

A configured endpoint must answer ``GET <endpoint>/models`` (the OpenAI-compatible model list)
within the health timeout ($GENAIOPS_HEALTH_TIMEOUT seconds, default 10); otherwise validate
raises InfraError (exit 3, retried by Argo).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from genaiops.errors import InfraError, UsageError
from genaiops.trusted import environment_settings

if TYPE_CHECKING:
    from genaiops.stages.runner import StageContext

EMBEDDED = "embedded"
"""The environment name used when genaiops.yaml lists none: no endpoint, catalog checks skipped."""
TIMEOUT_ENV = "GENAIOPS_HEALTH_TIMEOUT"
DEFAULT_TIMEOUT_S = 10.0
MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """Where validate checks against: an environment name and its LLM endpoint (None: none)."""

    name: str
    endpoint: str | None = None
    api_key_env: str | None = None
    listed: bool = True
    """Whether the environment is listed in genaiops.yaml (False for the embedded default)."""


def _settings(root: Any, name: str) -> Mapping[str, Any]:
    path = root / "environments" / name / "settings.yaml"
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise UsageError(
            f"environments/{name}/settings.yaml cannot be read: {exc}",
            hint="Fix the file or regenerate it with `genaiops init --force`.",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UsageError(f"environments/{name}/settings.yaml must be a mapping")
    return environment_settings(root, name, dict(data))  # llm from the trusted commit, if one is set


def resolve_target(ctx: StageContext) -> Target:
    """The target of this run (cached on the context: every artifact sees the same one)."""
    cached = ctx.options.get("_validate_target")
    if isinstance(cached, Target):
        return cached
    requested = ctx.options.get("env")
    environments = [e.name for e in ctx.project.environments]
    if requested:
        ctx.project.environment(requested)  # UsageError for an unknown name
        name = str(requested)
    elif environments:
        name = environments[0]
    else:
        target = Target(EMBEDDED, listed=False)
        ctx.options["_validate_target"] = target
        return target
    llm = _settings(ctx.project.root, name).get("llm") or {}
    if not isinstance(llm, Mapping):
        raise UsageError(f"environments/{name}/settings.yaml: `llm` must be a mapping")
    endpoint = llm.get("endpoint")
    if endpoint is not None and not isinstance(endpoint, str):
        raise UsageError(f"environments/{name}/settings.yaml: llm.endpoint must be a URL string")
    endpoint = (endpoint or "").strip() or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise UsageError(
            f"environments/{name}/settings.yaml: llm.endpoint {endpoint!r} is not an http(s) URL"
        )
    key_env = llm.get("apiKeyEnv")
    target = Target(name, endpoint, key_env if isinstance(key_env, str) and key_env else None)
    ctx.options["_validate_target"] = target
    return target


def health_timeout() -> float:
    """Seconds to wait for the endpoint ($GENAIOPS_HEALTH_TIMEOUT, default 10)."""
    raw = os.environ.get(TIMEOUT_ENV)
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"${TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise UsageError(f"${TIMEOUT_ENV} must be positive")
    return value


def fetch_models(endpoint: str, *, timeout: float, api_key: str | None = None) -> set[str]:
    """Model ids served at ``endpoint`` (``GET <endpoint>/models``); InfraError when unhealthy."""
    url = endpoint.rstrip("/") + "/models"
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    hint = "The endpoint is down, unreachable or overloaded; the step is safe to retry."
    import httpx  # here: most validate runs never call an endpoint, and httpx takes ~0.3 s to import

    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
            response = client.get(url, headers=headers)
    except httpx.TimeoutException:
        raise InfraError(f"LLM endpoint {url} did not answer within {timeout:g} s", hint=hint) from None
    except httpx.HTTPError as exc:
        raise InfraError(
            f"LLM endpoint {url} is unreachable: {type(exc).__name__}: {exc}", hint=hint
        ) from None
    if response.status_code != 200:
        raise InfraError(
            f"LLM endpoint {url} is unhealthy: HTTP {response.status_code}",
            hint="Check the endpoint's health and credentials (llm.apiKeyEnv); retry when it is up.",
        )
    if len(response.content) > MAX_BODY_BYTES:
        raise InfraError(
            f"LLM endpoint {url} returned an oversized model list ({len(response.content)} bytes)"
        )
    try:
        body = response.json()
    except ValueError:
        raise InfraError(f"LLM endpoint {url} did not return JSON: is it OpenAI-compatible?") from None
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        raise InfraError(f"LLM endpoint {url} returned no `data` list of models: is it OpenAI-compatible?")
    return {str(item["id"]) for item in data if isinstance(item, Mapping) and isinstance(item.get("id"), str)}


def served_models(target: Target, ctx: StageContext) -> set[str] | None:
    """Models served in ``target`` (fetched once per run), or None when it has no endpoint."""
    if target.endpoint is None:
        return None
    cache: dict[str, set[str]] = ctx.options.setdefault("_served_models", {})
    if target.endpoint not in cache:
        api_key = os.environ.get(target.api_key_env) if target.api_key_env else None
        if target.api_key_env and not api_key:
            raise UsageError(
                f"environment variable {target.api_key_env} (llm.apiKeyEnv of {target.name}) is not set"
            )
        cache[target.endpoint] = fetch_models(target.endpoint, timeout=health_timeout(), api_key=api_key)
    return cache[target.endpoint]
