"""RAG promotion ends with the vector-store alias swap; rollback swaps it back; a missing index blocks.

The environment's vector store is Qdrant in local mode on disk (the same qdrant-client code path as
a server; no Qdrant server can run here), reached through the environment's ``vectorStore.url``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genaiops import vectorstore
from genaiops.discovery import Artifact
from genaiops.vectorstore import Point, VectorStore
from tests.unit.promote_support import World, git, make_world, promote_upstream

RAG = """\
id: kb
version: "{version}"
embedding: {{model: genaiops/hash-embedding-256}}
chunking: {{size: 256, overlap: 32}}
retrieval: {{top_k: 5}}
vector_store: {{kind: qdrant, url: embedded, collection: {collection}, alias: kb}}
"""
STORE_URL = "http://qdrant.dev.example:6333"


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every connection to the environment's server URL opens the same on-disk local Qdrant."""
    path = tmp_path / "qdrant"
    real_connect = vectorstore.connect

    def connect(url: str | None, **kwargs: Any) -> VectorStore:
        assert url == STORE_URL
        return real_connect(None, path=path)

    monkeypatch.setattr("genaiops.promote.rag.connect", connect)
    store = real_connect(None, path=path)
    for name in ("kb-v1", "kb-v2", "kb-empty"):
        store.create_collection(name, 4)
    for name in ("kb-v1", "kb-v2"):
        store.upsert(name, [Point("doc-1", 0, [0.1, 0.2, 0.3, 0.4])])
    store.close()
    return path


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("REPORT_PATH", str(tmp_path / "command-report.json"))
    world = make_world(tmp_path)
    settings = world.repo / "environments" / "dev" / "settings.yaml"
    settings.write_text(f"vectorStore:\n  url: {STORE_URL}\nthresholds: {{}}\n", encoding="utf-8")
    return world


def _aliases(path: Path) -> dict[str, str]:
    store = vectorstore.connect(None, path=path)
    try:
        return store.aliases()
    finally:
        store.close()


def _rag(world: World, version: str, collection: str) -> Artifact:
    artifact = world.artifact("rag", "kb")
    artifact.root.mkdir(parents=True, exist_ok=True)
    artifact.manifest_path.write_text(RAG.format(version=version, collection=collection), encoding="utf-8")
    world.write_reports(
        [artifact], scorecard={"verdict": "pass", "metrics": [{"name": "exact_match", "value": 1.0}]}
    )
    return artifact


def _promote(run_cli: Any, world: World, artifact: Artifact) -> Any:
    return run_cli(
        "promote",
        "--env",
        "dev",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(artifact.root),
    )


def test_alias_follows_promotions_and_rollback(world: World, store_path: Path, run_cli: Any) -> None:
    first = _promote(run_cli, world, _rag(world, "1.0.0", "kb-v1"))
    assert first.code == 0, first.stderr
    assert first.report["artifacts"][0]["details"]["promotion"]["alias"]["status"] == "swapped"
    assert _aliases(store_path) == {"kb": "kb-v1"}

    again = _promote(run_cli, world, world.artifact("rag", "kb"))
    assert again.report["artifacts"][0]["details"]["promotion"]["alias"]["status"] == "unchanged"

    second = _promote(run_cli, world, _rag(world, "2.0.0", "kb-v2"))
    alias = second.report["artifacts"][0]["details"]["promotion"]["alias"]
    assert (alias["status"], alias["previous"]) == ("swapped", "kb-v1")
    assert _aliases(store_path) == {"kb": "kb-v2"}

    rolled = run_cli("rollback", "--env", "dev", "--repo", str(world.repo), "rag/kb", report=False)
    assert rolled.code == 0, rolled.stderr
    assert json.loads(rolled.stdout)["alias"]["collection"] == "kb-v1"
    assert _aliases(store_path) == {"kb": "kb-v1"}


def test_missing_or_empty_collection_blocks_before_any_commit(
    world: World, store_path: Path, run_cli: Any
) -> None:
    head = git(world.remote, "rev-parse", "main").strip()
    for collection in ("kb-v9", "kb-empty"):
        result = _promote(run_cli, world, _rag(world, "9.0.0", collection))
        assert result.code == 1
        finding = result.report["artifacts"][0]["findings"][0]
        assert finding["ruleId"] == "promote/rag-collection-missing" and collection in finding["message"]
    assert git(world.remote, "rev-parse", "main").strip() == head
    assert _aliases(store_path) == {}


def test_embedded_store_and_approval_environments_do_not_swap(
    world: World, store_path: Path, run_cli: Any
) -> None:
    artifact = _rag(world, "1.0.0", "kb-v1")
    promote_upstream(run_cli, world, "staging", artifact.root)  # dev (the store's server) swaps
    assert _aliases(store_path) == {"kb": "kb-v1"}
    store = vectorstore.connect(None, path=store_path)
    store.swap_alias("kb", "kb-v2")  # a marker: a swap by staging or prod would point it back at kb-v1
    store.close()
    staging = run_cli(
        "promote",
        "--env",
        "staging",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(artifact.root),
    )
    assert staging.code == 0, staging.stderr
    assert staging.report["artifacts"][0]["details"]["promotion"]["alias"]["status"] == "skipped"
    (world.repo / "environments" / "prod" / "settings.yaml").write_text(
        f"vectorStore:\n  url: {STORE_URL}\n", encoding="utf-8"
    )
    prod = run_cli(
        "promote",
        "--env",
        "prod",
        "--repo",
        str(world.repo),
        "--reports",
        str(world.reports),
        str(artifact.root),
    )
    assert prod.code == 0, prod.stderr
    promotion = prod.report["artifacts"][0]["details"]["promotion"]
    assert promotion["status"] == "requested" and "alias" not in promotion  # swapped once merged
    assert _aliases(store_path) == {"kb": "kb-v2"}  # nobody swapped since
