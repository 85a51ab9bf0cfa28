"""The facade eval checks use: responses from cassettes, the cache, or the endpoint, by mode.

=========  ==============================================================================
mode       behaviour
=========  ==============================================================================
live       cache, else HTTP (then cached)
record     like live, and every response is written to the cassettes (``save()``)
replay     cassettes only; a missing request raises ``CassetteMiss`` naming the request
=========  ==============================================================================

Embedding models genaiops implements offline (``genaiops.embeddings``: ``genaiops/hash-embedding-256``
and other ``hash-embedding-<dim>``) are computed in-process in every mode: no network, no model
download, no cache entry. Tests may pass ``local_embedders`` (a dict) to replace that lookup.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genaiops.errors import GenaiopsError
from genaiops.llm.cache import ResponseCache
from genaiops.llm.cassette import CassetteMiss, CassetteStore
from genaiops.llm.config import ProviderConfig
from genaiops.llm.progress import Progress
from genaiops.llm.types import ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse

if TYPE_CHECKING:
    from genaiops.llm.client import LLMClient

LocalEmbedder = Callable[[Sequence[str]], list[list[float]]]

REFERENCE_OWNER = "genaiops-reference"
"""``owned_by`` of the models the local reference server lists: recordings from it are synthetic."""


class ProviderMode(enum.StrEnum):
    LIVE = "live"
    RECORD = "record"
    REPLAY = "replay"


def offline_embedder(model: str) -> LocalEmbedder | None:
    """The in-process embedder for ``model`` when genaiops implements it offline
    (``genaiops.embeddings``: ``genaiops/hash-embedding-<dim>``), else None."""
    from genaiops import embeddings

    if not embeddings.is_offline_model(model):
        return None
    embedder = embeddings.embedder_for(model)
    return lambda texts: embedder.embed(list(texts)).tolist()


class Provider:
    """Chat and embeddings with cache, cassettes and bounded concurrency."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        mode: ProviderMode = ProviderMode.LIVE,
        cache_dir: Path | None = None,
        cassette_dir: Path | None = None,
        synthetic_reason: str | None = None,
        display_base: Path | None = None,
        client: LLMClient | None = None,
        local_embedders: dict[str, LocalEmbedder] | None = None,
    ) -> None:
        self.config = config
        self.mode = mode
        self.cache = (
            ResponseCache(cache_dir, config.base_url) if cache_dir is not None and mode != "replay" else None
        )
        if mode != ProviderMode.LIVE and cassette_dir is None:
            raise ValueError(f"mode {mode} needs a cassette folder")
        self.cassettes = CassetteStore(cassette_dir, display_base) if cassette_dir is not None else None
        if self.cassettes is not None and mode == ProviderMode.REPLAY:
            self.cassettes.load()
        self._client = client
        self._owns_client = client is None
        self._synthetic_reason = synthetic_reason
        self._synthetic_checked = synthetic_reason is not None
        self._lock = threading.Lock()
        self._local_embedders = local_embedders
        self.cache_hits = 0

    # ---- public API ---------------------------------------------------------------------
    @property
    def client(self) -> LLMClient:
        with self._lock:
            if self._client is None:
                # imported here: replaying cassettes never needs the HTTP client (urllib3)
                from genaiops.llm.client import LLMClient

                self._client = LLMClient(self.config)
            return self._client

    @property
    def calls(self) -> int:
        """Logical HTTP calls made so far (0 when everything came from the cache or cassettes)."""
        return self._client.stats.requests if self._client is not None else 0

    def chat(self, request: ChatRequest) -> ChatResponse:
        stored = self._stored(request.key, request.describe())
        if stored is not None:
            body, source = stored
            return ChatResponse.from_json(body, source)
        response = self.client.chat(request)
        self._keep(request.key, "chat", request.model, request.identity(), response.to_json())
        return response

    def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        local = (
            offline_embedder(request.model)
            if self._local_embedders is None
            else self._local_embedders.get(request.model)
        )
        if local is not None:
            vectors = local(list(request.texts))
            return EmbeddingResponse(
                vectors=tuple(tuple(float(x) for x in v) for v in vectors),
                model=request.model,
                source="local",
            )
        stored = self._stored(request.key, request.describe())
        if stored is not None:
            body, source = stored
            return EmbeddingResponse.from_json(body, source)
        response = self.client.embed(request)
        self._keep(request.key, "embedding", request.model, request.identity(), response.to_json())
        return response

    def chat_many(
        self, requests: Sequence[ChatRequest], progress: Progress | None = None
    ) -> list[ChatResponse]:
        """All requests, ``config.concurrency`` at a time, in input order."""
        return self._map(self.chat, requests, progress)

    def embed_many(
        self, requests: Sequence[EmbeddingRequest], progress: Progress | None = None
    ) -> list[EmbeddingResponse]:
        return self._map(self.embed, requests, progress)

    def provenance(self) -> dict[str, Any]:
        """What the scorecard records about where responses came from."""
        cassettes = self.cassettes.provenance() if self.cassettes is not None else []
        synthetic_cassettes = [c for c in cassettes if c["synthetic"]]
        calls = self.calls  # the model calls (asking the server for its models below is not one)
        # live answers from the reference server are as synthetic as cassettes recorded from it
        live_reason = self._synthetic() if self.mode != ProviderMode.REPLAY and calls else None
        reason = live_reason or (
            synthetic_cassettes[0].get("syntheticReason") if synthetic_cassettes else None
        )
        return {
            "mode": str(self.mode),
            "endpoint": self.config.base_url if self.mode != "replay" else None,
            "calls": calls,
            "cacheHits": self.cache_hits,
            "cassettes": cassettes,
            "synthetic": bool(synthetic_cassettes) or live_reason is not None,
            "syntheticReason": reason,
        }

    def save(self) -> list[Path]:
        """Write recorded cassettes (record mode); nothing otherwise."""
        if self.mode == ProviderMode.RECORD and self.cassettes is not None:
            return self.cassettes.save()
        return []

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------
    def _map(self, func: Callable[[Any], Any], items: Sequence[Any], progress: Progress | None) -> list[Any]:
        if self.mode == ProviderMode.REPLAY:  # no I/O worth a thread pool
            results = []
            for item in items:
                results.append(func(item))
                if progress is not None:
                    progress.advance()
            return results
        return self.client.map(func, items, progress.advance if progress is not None else None)

    def _stored(self, key: str, description: str) -> tuple[dict[str, Any], str] | None:
        if self.mode == ProviderMode.REPLAY:
            assert self.cassettes is not None
            body = self.cassettes.lookup(key)
            if body is None:
                where = self.cassettes.location
                raise CassetteMiss(
                    f"replay miss: no cassette in {where} holds the request for {description}", file=where
                )
            return body, "cassette"
        if self.cache is not None:
            body = self.cache.get(key)
            if body is not None:
                with self._lock:
                    self.cache_hits += 1
                if self.mode == ProviderMode.RECORD:
                    self._record(key, body)
                return body, "cache"
        return None

    def _keep(self, key: str, kind: str, model: str, identity: dict[str, Any], body: dict[str, Any]) -> None:
        if self.cache is not None:
            self.cache.put(key, kind, model, {**body, "_request": identity})
        if self.mode == ProviderMode.RECORD:
            self._record(key, {**body, "_request": identity})

    def _record(self, key: str, body: dict[str, Any]) -> None:
        assert self.cassettes is not None
        identity = body.get("_request") or {}
        response = {k: v for k, v in body.items() if k != "_request"}
        self.cassettes.record(
            str(identity.get("model", "")), self.config.base_url, key, identity, response, self._synthetic()
        )

    def _synthetic(self) -> str | None:
        """Recording from the local reference server is synthetic; ask it once via /models."""
        with self._lock:
            if self._synthetic_checked:
                return self._synthetic_reason
        reason = None
        try:
            owners = {item.get("owned_by") for item in self.client.model_list()}
        except GenaiopsError:  # a server without /models (or refusing it): assume a real model
            owners = set()
        if REFERENCE_OWNER in owners:
            reason = (
                "recorded from the genaiops local reference server (a deterministic lookup model), "
                "not from a real LLM"
            )
        with self._lock:
            self._synthetic_reason, self._synthetic_checked = reason, True
        return reason
