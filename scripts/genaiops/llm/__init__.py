"""LLM and embedding access for the eval stage over the OpenAI-compatible HTTP API.

Layers, each in its own module (docs/eval.md):
``config`` (per-environment endpoint settings), ``types`` (requests, responses and their cache keys),
``retry`` (backoff policy), ``client`` (HTTP with bounded concurrency and retries), ``cache`` (on-disk
response cache), ``cassette`` (record/replay files next to the eval dataset), ``provider`` (the facade
the eval checks use), ``localserver`` (a loopback OpenAI-compatible server with a deterministic
reference model) and ``progress`` (a stderr progress bar).
"""

from genaiops.llm.config import ProviderConfig
from genaiops.llm.provider import Provider, ProviderMode
from genaiops.llm.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "Provider",
    "ProviderConfig",
    "ProviderMode",
]
