"""Per-environment provider settings: endpoint, API-key variable, timeout, concurrency, retries.

Read from ``genaiops.yaml``: a top-level ``llm:`` mapping, overridden key by key by the ``llm:`` mapping
of the selected environment, then by ``$GENAIOPS_LLM_BASE_URL`` (handy for a local server). The API key
is never written in a file: the settings name the environment variable that holds it. ``configured``
tells whether any of those named an endpoint: with none, eval replays the recorded cassettes instead of
calling an address where nothing listens (inside a cluster, 127.0.0.1 is the step's own pod).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from genaiops.errors import UsageError

DEFAULT_BASE_URL = "http://127.0.0.1:8089/v1"
BASE_URL_ENV = "GENAIOPS_LLM_BASE_URL"

# settings key in genaiops.yaml -> ProviderConfig field
_KEYS = {
    "baseUrl": "base_url",
    "apiKeyEnv": "api_key_env",
    "timeout": "timeout_s",
    "connectTimeout": "connect_timeout_s",
    "concurrency": "concurrency",
    "maxRetries": "max_retries",
    "backoffBase": "backoff_base_s",
    "backoffMax": "backoff_max_s",
    "maxRetryAfter": "max_retry_after_s",
    "cacheDir": "cache_dir",
}


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one OpenAI-compatible endpoint (vLLM, TGI, Ollama, LiteLLM, OpenAI)."""

    base_url: str = DEFAULT_BASE_URL
    """Up to and including ``/v1``."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (none: no Authorization header)."""
    timeout_s: float = 60.0
    """Read timeout of one request."""
    connect_timeout_s: float = 5.0
    concurrency: int = 8
    """Requests in flight at once."""
    max_retries: int = 5
    """Retries after the first attempt on 429/5xx/timeouts/connection errors."""
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    """A server's Retry-After above this is capped (a CI step should not sleep for an hour)."""
    cache_dir: str = ".cache/llm"
    """Response cache folder, relative to the repository root unless absolute."""
    configured: bool = False
    """True when genaiops.yaml or ``$GENAIOPS_LLM_BASE_URL`` named the endpoint (not the default)."""
    reuse_connections: bool = True
    """Keep connections open between requests. The serving gateway turns it off: behind a Kubernetes
    Service, a kept-alive connection stays with the pod it was opened to, so after a blue-green switch
    of the Service's selector the new colour would get no traffic until the old pods are gone (and its
    post-switch analysis would measure nothing)."""

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"llm.baseUrl must be an http(s) URL, got {self.base_url!r}")
        for name in (
            "timeout_s",
            "connect_timeout_s",
            "backoff_base_s",
            "backoff_max_s",
            "max_retry_after_s",
        ):
            if getattr(self, name) < 0:
                raise UsageError(f"llm setting {name} must not be negative")
        if self.concurrency < 1:
            raise UsageError("llm.concurrency must be at least 1")
        if self.max_retries < 0:
            raise UsageError("llm.maxRetries must not be negative")

    @property
    def api_key(self) -> str | None:
        """The key from the named environment variable; UsageError when the variable is unset."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise UsageError(
                f"environment variable {self.api_key_env} (llm.apiKeyEnv) is not set",
                hint="Export the API key in that variable, or remove apiKeyEnv for keyless servers.",
            )
        return value

    def with_overrides(self, values: dict[str, Any]) -> ProviderConfig:
        """A copy with genaiops.yaml-style keys (``baseUrl``, ``timeout``, ...) applied."""
        changes: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in _KEYS:
                raise UsageError(f"unknown llm setting {key!r}", hint=f"Known: {', '.join(sorted(_KEYS))}.")
            name = _KEYS[key]
            changes[name] = _coerce(key, value, str(types[name]))
        if changes.get("base_url"):
            changes["configured"] = True
        return replace(self, **changes)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], env: str | None = None) -> ProviderConfig:
        """Build from genaiops.yaml settings for environment ``env`` (None: only top-level ``llm``)."""
        config = cls().with_overrides(_mapping(settings.get("llm"), "llm"))
        if env:
            for item in settings.get("environments") or []:
                if isinstance(item, dict) and item.get("name") == env:
                    config = config.with_overrides(_mapping(item.get("llm"), f"environments[{env}].llm"))
        if os.environ.get(BASE_URL_ENV):
            config = replace(config, base_url=os.environ[BASE_URL_ENV], configured=True)
        return config


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{where} in genaiops.yaml must be a mapping")
    return value


def _coerce(key: str, value: Any, type_name: str) -> Any:
    try:
        if "float" in type_name:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if "int" in type_name:
            if isinstance(value, bool) or int(value) != value:
                raise ValueError
            return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"llm.{key} must be a number, got {value!r}") from None
    if value is not None and not isinstance(value, str):
        raise UsageError(f"llm.{key} must be a string, got {value!r}")
    return value
