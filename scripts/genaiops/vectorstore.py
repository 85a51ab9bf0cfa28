"""A thin qdrant-client wrapper: connect, create, index, query, inspect, and swap aliases.

One code path for both deployments: ``connect(None)`` (or ``"embedded"``/``""``) opens Qdrant's
local mode in memory, ``connect(None, path=dir)`` a local on-disk store, and ``connect(url)`` a
Qdrant server. Every call that reaches a server is bounded by ``timeout`` seconds; a server that is
down, refuses the connection, or does not answer in time raises ``InfraError`` (exit 3).

Documents are identified by string ids; Qdrant point ids must be unsigned integers or UUIDs, so a
point's id is ``uuid5(NAMESPACE, "<doc id>#<chunk>")`` and the string id travels in the payload
(``doc_id``, ``chunk``, ``text``). Queries accept a collection or an alias name.

    store = connect(None)
    store.create_collection("kb-v2", 256)
    store.upsert("kb-v2", [Point("doc-1", 0, vector, {"title": "..."})])
    store.swap_alias("kb", "kb-v2")                   # atomic: readers of "kb" see the new index
    hits = store.query("kb", vector, top_k=5)
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genaiops.errors import InfraError

EMBEDDED_URLS = ("", "embedded")
NAMESPACE = uuid.UUID("6f1c1a52-8f0e-4c5e-9a51-3c2b1f7f0a10")
if TYPE_CHECKING:
    from qdrant_client import QdrantClient


def _models() -> Any:
    """``qdrant_client.models``, imported on first use: qdrant-client takes seconds to import (its
    pydantic models), and only a stage that opens a store needs it."""
    from qdrant_client import models

    return models


def _distance(name: str) -> Any:
    distance = _models().Distance
    return {"cosine": distance.COSINE, "dot": distance.DOT, "euclid": distance.EUCLID}[name]


UPSERT_BATCH = 256
INFRA_HINT = "The vector store is down, unreachable or overloaded; the step is safe to retry."


@dataclass(frozen=True)
class Point:
    """One chunk to index."""

    doc_id: str
    chunk: int
    vector: Sequence[float] | np.ndarray
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def point_id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"{self.doc_id}#{self.chunk}"))


@dataclass(frozen=True)
class Hit:
    """One query result."""

    doc_id: str
    chunk: int
    score: float
    payload: dict[str, Any]


def is_embedded(url: str | None) -> bool:
    """Whether ``url`` selects Qdrant's local mode."""
    return url is None or url.strip() in EMBEDDED_URLS


class VectorStore:
    """A connected Qdrant (local mode or server); see the module doc."""

    def __init__(self, client: QdrantClient, location: str, timeout: float) -> None:
        self.client = client
        self.location = location
        self.timeout = timeout

    # -- error mapping ------------------------------------------------------------------------
    @contextmanager
    def _calling(self, what: str) -> Iterator[None]:
        try:
            yield
        except InfraError:
            raise
        except Exception as exc:  # qdrant-client raises httpx/grpc/ResponseHandling errors
            raise _infra(self.location, what, exc, self.timeout) from None

    # -- inspection ---------------------------------------------------------------------------
    def aliases(self) -> dict[str, str]:
        """alias -> collection."""
        with self._calling("list aliases"):
            return {a.alias_name: a.collection_name for a in self.client.get_aliases().aliases}

    def collections(self) -> list[str]:
        with self._calling("list collections"):
            return sorted(c.name for c in self.client.get_collections().collections)

    def resolve(self, name: str) -> str | None:
        """The collection behind ``name`` (a collection or an alias), or None if neither exists."""
        if name in self.collections():
            return name
        return self.aliases().get(name)

    def dimensions(self, collection: str) -> dict[str, int]:
        """Vector size per vector name ('' for the unnamed default vector)."""
        with self._calling(f"read collection {collection!r}"):
            vectors = self.client.get_collection(collection).config.params.vectors
        if isinstance(vectors, _models().VectorParams):
            return {"": int(vectors.size)}
        return {str(name): int(params.size) for name, params in (vectors or {}).items()}

    def count(self, collection: str) -> int:
        with self._calling(f"count points of {collection!r}"):
            return int(self.client.count(collection, exact=True).count)

    # -- writing ------------------------------------------------------------------------------
    def create_collection(
        self, name: str, dimension: int, distance: str = "cosine", *, recreate: bool = False
    ) -> None:
        """Create ``name`` (dropping an existing one when ``recreate``)."""
        with self._calling(f"create collection {name!r}"):
            if self.client.collection_exists(name):
                if not recreate:
                    return
                self.client.delete_collection(name)
            self.client.create_collection(
                name, vectors_config=_models().VectorParams(size=dimension, distance=_distance(distance))
            )

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Index ``points`` in batches."""
        for start in range(0, len(points), UPSERT_BATCH):
            batch = points[start : start + UPSERT_BATCH]
            structs = [
                _models().PointStruct(
                    id=p.point_id,
                    vector=[float(x) for x in p.vector],
                    payload={**p.payload, "doc_id": p.doc_id, "chunk": p.chunk},
                )
                for p in batch
            ]
            with self._calling(f"upsert into {collection!r}"):
                self.client.upsert(collection, points=structs, wait=True)

    def swap_alias(self, alias: str, collection: str) -> str | None:
        """Point ``alias`` at ``collection`` atomically; returns the collection it pointed at before."""
        previous = self.aliases().get(alias)
        models = _models()
        operations: list[Any] = []
        if previous is not None:
            operations.append(models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
            )
        )
        with self._calling(f"swap alias {alias!r} to {collection!r}"):
            self.client.update_collection_aliases(change_aliases_operations=operations)
        return previous

    # -- reading ------------------------------------------------------------------------------
    def query(
        self,
        name: str,
        vector: Sequence[float] | np.ndarray,
        top_k: int,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        """The ``top_k`` nearest chunks in collection or alias ``name``."""
        with self._calling(f"query {name!r}"):
            response = self.client.query_points(
                name,
                query=[float(x) for x in vector],
                limit=top_k,
                with_payload=True,
                score_threshold=score_threshold,
            )
        hits = []
        for point in response.points:
            payload = dict(point.payload or {})
            hits.append(
                Hit(
                    str(payload.get("doc_id", point.id)),
                    int(payload.get("chunk", 0)),
                    float(point.score),
                    payload,
                )
            )
        return hits

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead connection must not mask the real outcome
            self.client.close()


def connect(
    url: str | None, *, timeout: float = 10.0, path: Path | None = None, api_key: str | None = None
) -> VectorStore:
    """Open the store at ``url`` (see the module doc); raises InfraError if a server is unreachable."""
    from qdrant_client import QdrantClient

    if is_embedded(url):
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            return VectorStore(QdrantClient(path=str(path)), f"local Qdrant at {path}", timeout)
        return VectorStore(QdrantClient(location=":memory:"), "in-memory Qdrant", timeout)
    assert url is not None
    location = f"Qdrant at {url}"
    try:
        client = QdrantClient(
            url=url,
            timeout=max(1, round(timeout)),
            api_key=api_key,
            check_compatibility=False,
            prefer_grpc=False,
        )
    except Exception as exc:  # a malformed URL or an unsupported scheme
        raise _infra(location, "connect", exc, timeout) from None
    store = VectorStore(client, location, timeout)
    store.collections()  # fail fast (InfraError) when the server is not there
    return store


def _infra(location: str, what: str, exc: BaseException, timeout: float) -> InfraError:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else name
    if "timeout" in name.lower() or "timed out" in text.lower():
        return InfraError(f"{location} did not answer within {timeout:g} s ({what})", hint=INFRA_HINT)
    return InfraError(f"{location} is unreachable or failed ({what}): {name}: {text}", hint=INFRA_HINT)
