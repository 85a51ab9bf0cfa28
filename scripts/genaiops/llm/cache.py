"""On-disk response cache (sqlite3, WAL mode): an unchanged request is never sent twice.

The key is the request key (model, parameters, rendered messages or inputs, repeat index) plus the
endpoint, so two servers that serve the same model name do not share answers. Safe under concurrency:
one connection per thread, WAL journal, and ``INSERT OR REPLACE`` of whole rows; several processes may
share the folder.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from genaiops.errors import UsageError
from genaiops.llm.types import digest

CACHE_FILE = "responses.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """A folder holding one sqlite database of responses."""

    def __init__(self, folder: Path, namespace: str) -> None:
        self.path = folder / CACHE_FILE
        self.namespace = namespace
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create the LLM cache folder {folder}: {exc.strerror}",
                hint="Set llm.cacheDir in genaiops.yaml, or run with --no-cache.",
            ) from None
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._connect().execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.DatabaseError as exc:
                raise UsageError(
                    f"LLM cache {self.path} is unusable: {exc}", hint="Delete the file; it is only a cache."
                ) from None
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _key(self, request_key: str) -> str:
        return digest({"endpoint": self.namespace, "request": request_key})

    def get(self, request_key: str) -> dict[str, Any] | None:
        row = (
            self._connect()
            .execute("SELECT body FROM responses WHERE key = ?", (self._key(request_key),))
            .fetchone()
        )
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, request_key: str, kind: str, model: str, body: dict[str, Any]) -> None:
        self._connect().execute(
            "INSERT OR REPLACE INTO responses (key, kind, model, body, created) VALUES (?, ?, ?, ?, ?)",
            (self._key(request_key), kind, model, json.dumps(body, ensure_ascii=False), time.time()),
        )

    def __len__(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
