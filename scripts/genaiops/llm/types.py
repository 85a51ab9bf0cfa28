"""Chat and embedding requests/responses, and the keys that identify a request.

A request's ``key`` hashes everything that determines the response the model gives: the model name,
the sampling parameters, the rendered messages (or input texts) and the repeat index. The endpoint is
not part of the key so that cassettes recorded against one server replay anywhere; the response cache
adds the endpoint to the key itself (see ``cache``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, str]

# Request fields that are sent to the API as they are; anything else in ``params`` is sent too.
_RESERVED = frozenset({"model", "messages", "input", "stream", "n"})


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """sha256 hex digest of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion: the model, its rendered messages, sampling parameters, repeat index."""

    model: str
    messages: tuple[Message, ...]
    params: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0
    """Which of the N runs of the same prompt this is (repeats measure non-determinism)."""

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("a chat request needs a model name")
        clash = _RESERVED.intersection(self.params)
        if clash:
            raise ValueError(f"parameters {sorted(clash)} are set by genaiops, not by the artifact")
        object.__setattr__(self, "messages", tuple(dict(m) for m in self.messages))

    def identity(self) -> dict[str, Any]:
        return {
            "type": "chat",
            "model": self.model,
            "messages": list(self.messages),
            "params": self.params,
            "repeat": self.repeat,
        }

    @property
    def key(self) -> str:
        return digest(self.identity())

    def body(self) -> dict[str, Any]:
        """The JSON body of POST /v1/chat/completions."""
        return {**self.params, "model": self.model, "messages": list(self.messages)}

    def describe(self) -> str:
        """A short human description for error messages (which request missed)."""
        last = next((m.get("content", "") for m in reversed(self.messages) if m.get("role") == "user"), "")
        flat = " ".join(last.split())
        snippet = (
            flat if len(flat) <= 110 else f"{flat[:40]} ... {flat[-60:]}"
        )  # rendered prompts differ at the end
        return (
            f"model {self.model!r}, repeat {self.repeat}, last user message {snippet!r} (key {self.key[:12]})"
        )


@dataclass(frozen=True)
class ChatResponse:
    """The text a model returned, its token usage and how long the call took."""

    content: str
    model: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    source: str = "http"
    """Where the response came from: http, cache or cassette."""

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_s": self.latency_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> ChatResponse:
        return cls(
            content=str(data.get("content", "")),
            model=str(data.get("model", "")),
            finish_reason=data.get("finish_reason"),
            prompt_tokens=data.get("prompt_tokens"),
            completion_tokens=data.get("completion_tokens"),
            latency_s=data.get("latency_s"),
            source=source,
        )

    @classmethod
    def from_api(cls, body: dict[str, Any], latency_s: float) -> ChatResponse:
        """Parse an OpenAI chat.completion object; ValueError when it has no message."""
        try:
            choice = body["choices"][0]
            content = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ValueError("the response has no choices[0].message") from None
        usage = body.get("usage") or {}
        return cls(
            content=str(content),
            model=str(body.get("model", "")),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency_s=round(latency_s, 6),
        )


@dataclass(frozen=True)
class EmbeddingRequest:
    """Embeddings of a batch of texts with one model."""

    model: str
    texts: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("an embedding request needs a model name")
        object.__setattr__(self, "texts", tuple(str(t) for t in self.texts))

    def identity(self) -> dict[str, Any]:
        return {"type": "embedding", "model": self.model, "input": list(self.texts), "params": self.params}

    @property
    def key(self) -> str:
        return digest(self.identity())

    def body(self) -> dict[str, Any]:
        return {**self.params, "model": self.model, "input": list(self.texts)}

    def describe(self) -> str:
        return f"embeddings with model {self.model!r} of {len(self.texts)} text(s) (key {self.key[:12]})"


@dataclass(frozen=True)
class EmbeddingResponse:
    """One vector per input text, in input order."""

    vectors: tuple[tuple[float, ...], ...]
    model: str
    latency_s: float | None = None
    source: str = "http"

    def to_json(self) -> dict[str, Any]:
        return {"vectors": [list(v) for v in self.vectors], "model": self.model, "latency_s": self.latency_s}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> EmbeddingResponse:
        return cls(
            vectors=tuple(tuple(float(x) for x in v) for v in data.get("vectors", [])),
            model=str(data.get("model", "")),
            latency_s=data.get("latency_s"),
            source=source,
        )

    @classmethod
    def from_api(cls, body: dict[str, Any], count: int, latency_s: float) -> EmbeddingResponse:
        """Parse an OpenAI embeddings list (items may come in any order: sort by index)."""
        try:
            items = sorted(body["data"], key=lambda item: int(item.get("index", 0)))
            vectors = tuple(tuple(float(x) for x in item["embedding"]) for item in items)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValueError("the response has no data[].embedding list") from None
        if len(vectors) != count:
            raise ValueError(f"asked for {count} embeddings, got {len(vectors)}")
        return cls(vectors=vectors, model=str(body.get("model", "")), latency_s=round(latency_s, 6))


LLMRequest = ChatRequest | EmbeddingRequest
LLMResponse = ChatResponse | EmbeddingResponse
