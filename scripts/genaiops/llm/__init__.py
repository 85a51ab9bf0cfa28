"""LLM and embedding access for the eval stage over the OpenAI-compatible HTTP API.

Layers, each in its own module (docs/eval.md):
``config`` (per-environment endpoint settings), ``types`` (requests, responses and their cache keys),
``retry`` (backoff policy), ``client`` (HTTP with bounded concurrency and retries), ``cache`` (on-disk
response cache), ``cassette`` (record/replay files next to the eval dataset), ``provider`` (the facade
the eval checks use), ``localserver`` (a loopback OpenAI-compatible server with a deterministic
reference model) and ``progress`` (a stderr progress bar).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genaiops.llm.config import ProviderConfig
    from genaiops.llm.provider import Provider, ProviderMode
    from genaiops.llm.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse

# The names below load on first use (PEP 562): importing a submodule such as genaiops.llm.command
# (the `serve-llm` CLI) must not pull in the HTTP client (urllib3) through the provider.
_LAZY = {
    "ChatRequest": "genaiops.llm.types",
    "ChatResponse": "genaiops.llm.types",
    "EmbeddingRequest": "genaiops.llm.types",
    "EmbeddingResponse": "genaiops.llm.types",
    "Provider": "genaiops.llm.provider",
    "ProviderConfig": "genaiops.llm.config",
    "ProviderMode": "genaiops.llm.provider",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ChatRequest",
    "ChatResponse",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "Provider",
    "ProviderConfig",
    "ProviderMode",
]
