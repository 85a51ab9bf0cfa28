"""RAG validate against real Qdrant collections (local mode) and unreachable/hanging servers (exit 3)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from genaiops import rules
from genaiops.report import ArtifactResult
from genaiops.safeio import load_yaml
from genaiops.validate import rag as rag_validate
from genaiops.vectorstore import Point, connect
from tests.unit.rag_guardrail_cases import Case, build_base, finding_ids, load_cases

CASES = load_cases("rag/", "validate")
ROOT = Path(__file__).resolve().parents[2]
INSPECTED = {"rag/collection-missing", "rag/dimension-mismatch", "rag/empty-collection", "rag/query-latency"}
"""Rules only a store prepared by hand can break (the embedded path always builds a matching index)."""


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_breaks_exactly_its_rule(case: Case, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", *case.paths, cwd=case.build(tmp_path / "repo"))
    assert result.code == 1
    assert finding_ids(result.report, "error") == {case.rule}


def test_every_rag_validate_rule_is_covered() -> None:
    declared = {r for r, rule in rules.RULES.items() if r.startswith("rag/") and rule.stage == "validate"}
    assert declared == {c.rule for c in CASES} | INSPECTED


def test_examples_validate_on_the_embedded_store(run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", "artifacts/rag", cwd=ROOT)
    assert result.code == 0, result.stderr
    for artifact in result.report["artifacts"]:
        metrics = artifact["metrics"]
        assert metrics["vector_dimension"] == 256
        assert metrics["points"] == metrics["indexed_chunks"] >= metrics["indexed_documents"] >= 20
        assert metrics["sample_query_hits"] > 0
        assert artifact["details"]["vector_store"] == "embedded"


# --- the inspection on hand-made collections ------------------------------------------------------


def _inspect(repo: Path, store: Any) -> ArtifactResult:
    doc = load_yaml(repo / "artifacts/rag/r/rag.yaml", repo)
    spec = rag_validate.RagSpec.from_manifest(doc.data)
    result = ArtifactResult("rag", "r", "artifacts/rag/r")
    rag_validate._inspect(store, doc, spec, 256, result)
    return result


def _points(n: int, dim: int) -> list[Point]:
    return [
        Point(f"d{i}", 0, [1.0 if j == i % dim else 0.0 for j in range(dim)], {"title": f"doc {i}"})
        for i in range(n)
    ]


def test_alias_resolves_and_collection_passes(tmp_path: Path) -> None:
    store = connect(None)
    store.create_collection("r-v1", 256)
    store.upsert("r-v1", _points(5, 256))
    assert store.swap_alias("r", "r-v1") is None
    result = _inspect(build_base(tmp_path / "repo"), store)
    assert result.findings == []
    assert result.details["collection"] == "r-v1" and result.metrics["points"] == 5


def test_missing_alias_lists_what_exists(tmp_path: Path) -> None:
    store = connect(None)
    store.create_collection("other", 256)
    [finding] = _inspect(build_base(tmp_path / "repo"), store).findings
    assert finding.rule_id == "rag/collection-missing"
    assert finding.message == "in-memory Qdrant has no alias 'r' (collections: other)"


def test_dimension_mismatch(tmp_path: Path) -> None:
    store = connect(None)
    store.create_collection("r-v1", 768)
    store.swap_alias("r", "r-v1")
    [finding] = _inspect(build_base(tmp_path / "repo"), store).findings
    assert finding.rule_id == "rag/dimension-mismatch"
    assert (
        "stores vectors of size default=768, but genaiops/hash-embedding-256 embeds to 256" in finding.message
    )


def test_empty_collection(tmp_path: Path) -> None:
    store = connect(None)
    store.create_collection("r-v1", 256)
    store.swap_alias("r", "r-v1")
    [finding] = _inspect(build_base(tmp_path / "repo"), store).findings
    assert finding.rule_id == "rag/empty-collection"


def test_latency_bound_is_enforced(tmp_path: Path) -> None:
    repo = build_base(tmp_path / "repo")
    manifest = repo / "artifacts/rag/r/rag.yaml"
    manifest.write_text(manifest.read_text().replace("max_latency_ms: 5000", "max_latency_ms: 0.000001"))
    store = connect(None)
    store.create_collection("r-v1", 256)
    store.upsert("r-v1", _points(3, 256))
    store.swap_alias("r", "r-v1")
    [finding] = _inspect(repo, store).findings
    assert finding.rule_id == "rag/query-latency" and "median of 3" in finding.message


def test_alias_swap_is_atomic_and_returns_the_previous_collection(tmp_path: Path) -> None:
    store = connect(None, path=tmp_path / "qdrant")
    for name in ("kb-v1", "kb-v2"):
        store.create_collection(name, 4)
    store.upsert("kb-v1", [Point("old", 0, [1, 0, 0, 0])])
    store.upsert("kb-v2", [Point("new", 0, [1, 0, 0, 0])])
    store.swap_alias("kb", "kb-v1")
    assert [h.doc_id for h in store.query("kb", [1, 0, 0, 0], 1)] == ["old"]
    assert store.swap_alias("kb", "kb-v2") == "kb-v1"
    assert store.aliases() == {"kb": "kb-v2"}
    assert [h.doc_id for h in store.query("kb", [1, 0, 0, 0], 1)] == ["new"]
    store.close()


# --- servers that are not there -----------------------------------------------------------------


def _with_store_url(repo: Path, url: str) -> None:
    settings = repo / "environments/dev/settings.yaml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(yaml.safe_dump({"environment": "dev", "vectorStore": {"url": url}}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_unreachable_server_is_exit_3(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = build_base(tmp_path / "repo")
    url = f"http://127.0.0.1:{_free_port()}"
    _with_store_url(repo, url)
    result = run_cli("validate", "artifacts/rag/r", "--env", "dev", cwd=repo)
    assert result.code == 3
    [artifact] = result.report["artifacts"]
    assert artifact["status"] == "error"
    assert artifact["infraError"].startswith(f"Qdrant at {url} is unreachable")


def test_silent_server_times_out_as_configured(
    tmp_path: Path, silent_server: int, run_cli: Callable[..., Any]
) -> None:
    repo = build_base(tmp_path / "repo")
    manifest = repo / "artifacts/rag/r/rag.yaml"
    manifest.write_text(
        manifest.read_text()
        .replace("url: embedded", f"url: http://127.0.0.1:{silent_server}")
        .replace("timeout_seconds: 2", "timeout_seconds: 1")
    )
    result = run_cli("validate", "artifacts/rag/r", cwd=repo)
    assert result.code == 3
    assert "did not answer within 1 s" in result.report["artifacts"][0]["infraError"]


def test_environment_embedded_keeps_the_artifacts_embedded_store(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    repo = build_base(tmp_path / "repo")
    _with_store_url(repo, "embedded")
    result = run_cli("validate", "artifacts/rag/r", "--env", "dev", cwd=repo)
    assert result.code == 0
    assert result.report["artifacts"][0]["details"]["vector_store"] == "embedded"
