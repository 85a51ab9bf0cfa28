"""`genaiops eval` on RAG configs: retrieval on a temporary index, baseline regression, remote embeddings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genaiops.cli import main
from genaiops.lineage import LineageEntry, append_lineage
from genaiops.llm.localserver import ReferenceServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "artifacts/rag/support-docs", root / "artifacts/rag/support-docs")
    manifest = root / "artifacts/rag/support-docs/rag.yaml"
    text = manifest.read_text(encoding="utf-8")  # retrieval only: the generator has its own tests
    manifest.write_text(text[: text.index("  generator:")], encoding="utf-8")
    (root / "genaiops.yaml").write_text(
        "environments:\n  - name: staging\nllm:\n  maxRetries: 0\n", encoding="utf-8"
    )
    monkeypatch.chdir(root)
    monkeypatch.delenv("GENAIOPS_REPO", raising=False)
    monkeypatch.delenv("GENAIOPS_LLM_BASE_URL", raising=False)
    return root


def _eval(tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(["eval", "artifacts/rag/support-docs", "--report", str(report), "-q", *extra])
    (artifact,) = json.loads(report.read_text(encoding="utf-8"))["artifacts"]
    return code, artifact


def _edit(repo: Path, old: str, new: str) -> None:
    path = repo / "artifacts/rag/support-docs/rag.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_retrieval_metrics_per_query(repo: Path, tmp_path: Path) -> None:
    code, artifact = _eval(tmp_path)
    card = artifact["details"]["scorecard"]
    names = [m["name"] for m in card["metrics"]]
    assert code == 0
    assert names[:4] == ["recall@5", "precision@5", "ndcg@5", "mrr@5"]
    ndcg = next(m for m in card["metrics"] if m["name"] == "ndcg@5")
    assert ndcg["minimum"] == 0.55 and ndcg["verdict"] == "pass"
    assert len(card["examples"]) == artifact["metrics"]["queries"] == 20
    assert card["provenance"]["calls"] == 0  # offline embedding model


def test_worse_config_regresses_against_the_baseline(repo: Path, tmp_path: Path) -> None:
    code, artifact = _eval(tmp_path)
    baseline = artifact["details"]["scorecard"]
    append_lineage(
        repo,
        "staging",
        "rag",
        "support-docs",
        LineageEntry(version="2.1.0", digest=artifact["digest"], snapshot_tree="0" * 40, scorecard=baseline),
    )
    _edit(repo, "model: genaiops/hash-embedding-256", "model: genaiops/hash-embedding-16")
    code, artifact = _eval(tmp_path, "--env", "staging")
    assert code == 1
    regressions = [f for f in artifact["findings"] if f["ruleId"] == "eval/regression"]
    assert regressions, artifact["findings"]
    assert all("CI [" in f["message"] and "tolerated regression 2.00%" in f["message"] for f in regressions)
    ndcg = next(m for m in artifact["details"]["scorecard"]["metrics"] if m["name"] == "ndcg@5")
    assert ndcg["baseline"] > ndcg["value"]


def test_remote_embedding_model_goes_through_the_provider(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(repo, "model: genaiops/hash-embedding-256", "model: remote-embed")
    with ReferenceServer() as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path)
        assert code == 0
        assert artifact["details"]["scorecard"]["provenance"]["calls"] > 0
        assert server.stats.embeddings > 0
        code, again = _eval(tmp_path)
    assert again["details"]["scorecard"]["provenance"]["calls"] == 0
    assert again["details"]["scorecard"]["metrics"] == artifact["details"]["scorecard"]["metrics"]


def test_unusable_eval_set_is_a_finding(repo: Path, tmp_path: Path) -> None:
    (repo / "artifacts/rag/support-docs/eval/qrels/test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq01\tnope\t1\n", encoding="utf-8"
    )
    code, artifact = _eval(tmp_path)
    assert code == 1
    assert [f["ruleId"] for f in artifact["findings"] if f["severity"] == "error"] == [
        "rag/eval-set-unusable"
    ]


def test_generator_is_skipped_with_a_warning_when_the_repo_has_no_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "artifacts/rag/support-docs",
        root / "artifacts/rag/support-docs",
    )
    (root / "genaiops.yaml").write_text(
        "kinds: [rag, guardrail]\nenvironments:\n  - name: qa\n", encoding="utf-8"
    )
    monkeypatch.chdir(root)
    monkeypatch.delenv("GENAIOPS_RAG_GENERATOR", raising=False)
    report = tmp_path / "report.json"
    code = main(["eval", "artifacts/rag/support-docs", "--replay", "--report", str(report), "-q"])
    (artifact,) = json.loads(report.read_text(encoding="utf-8"))["artifacts"]
    assert code == 0, artifact["findings"]
    assert [(f["ruleId"], f["severity"]) for f in artifact["findings"] if f["severity"] != "info"] == [
        ("rag/eval-generator-skipped", "warning")
    ]
    names = {m["name"] for m in artifact["details"]["scorecard"]["metrics"]}
    assert "answer_token_f1" not in names and any(n.startswith("ndcg") for n in names)
