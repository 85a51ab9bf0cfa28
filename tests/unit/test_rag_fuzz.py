"""Hostile RAG artifacts: malformed BEIR files and manifests give a report and exit 1, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genaiops import beir
from tests.unit.rag_guardrail_cases import build_base

EVAL = "artifacts/rag/r/eval"
HOSTILE = {
    "corpus-invalid-utf8": ("corpus.jsonl", b'{"_id": "d1", "text": "\xff\xfe"}\n'),
    "corpus-not-json": ("corpus.jsonl", b"{_id: d1}\n"),
    "corpus-array-lines": ("corpus.jsonl", b"[1, 2, 3]\n"),
    "corpus-bad-date": (
        "corpus.jsonl",
        b'{"_id": "d1", "title": "t", "text": "x", "metadata": {"type": "faq", "updated_at": "yesterday"}}\n',
    ),
    "queries-numbers": ("queries.jsonl", b'{"_id": 1, "text": 2}\n'),
    "qrels-no-header": ("qrels/test.tsv", b"q1\td1\t2\n"),
    "qrels-float-score": ("qrels/test.tsv", b"query-id\tcorpus-id\tscore\nq1\td1\t0.5\n"),
    "qrels-nul": ("qrels/test.tsv", b"query-id\tcorpus-id\tscore\nq1\x00\td1\t1\n"),
    "qrels-huge": ("qrels/test.tsv", b"query-id\tcorpus-id\tscore\n" + b"q1\td1\t1\n" * 2_000_000),
}


@pytest.mark.parametrize("name", HOSTILE, ids=list(HOSTILE))
def test_hostile_eval_files_fail_lint_with_a_finding(
    name: str, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    repo = build_base(tmp_path / "repo")
    target, content = HOSTILE[name]
    (repo / EVAL / target).write_bytes(content)
    result = run_cli("lint", "artifacts/rag/r", cwd=repo)
    assert result.code == 1, result.stderr
    [artifact] = result.report["artifacts"]
    assert artifact["findings"] and all(
        f["ruleId"].startswith(("rag/", "core/")) for f in artifact["findings"]
    )
    validate = run_cli("validate", "artifacts/rag/r", cwd=repo)
    assert validate.code == 1 and "Traceback" not in validate.stderr


def test_eval_file_symlinked_outside_the_repo_is_not_read(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    secret = tmp_path / "outside.jsonl"
    secret.write_text('{"_id": "q1", "text": "SECRET-CONTENT"}\n', encoding="utf-8")
    repo = build_base(tmp_path / "repo")
    (repo / EVAL / "queries.jsonl").unlink()
    (repo / EVAL / "queries.jsonl").symlink_to(secret)
    result = run_cli("lint", "artifacts/rag/r", cwd=repo)
    assert result.code == 1
    messages = " ".join(f["message"] for f in result.report["artifacts"][0]["findings"])
    assert "queries.jsonl points outside the repository" in messages
    assert "SECRET-CONTENT" not in messages


def test_eval_path_traversal_in_the_manifest_is_a_schema_error(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    repo = build_base(tmp_path / "repo")
    manifest = repo / "artifacts/rag/r/rag.yaml"
    manifest.write_text(
        manifest.read_text().replace("corpus: eval/corpus.jsonl", "corpus: ../../../etc/passwd")
    )
    result = run_cli("lint", "artifacts/rag/r", cwd=repo)
    assert result.code == 1
    assert {f["ruleId"] for f in result.report["artifacts"][0]["findings"]} == {"rag/schema"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000), st.sampled_from(["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"]))
def test_random_bytes_never_raise_past_the_loader(
    tmp_path_factory: pytest.TempPathFactory, content: bytes, target: str
) -> None:
    repo = build_base(tmp_path_factory.mktemp("fuzz") / "repo")
    (repo / EVAL / target).write_bytes(content)
    eval_set, problems = beir.load(repo / "artifacts/rag/r", repo, beir.Paths())
    assert all(
        p.kind in {"unreadable", "format", "duplicate-id", "dangling-qrel", "unjudged"} for p in problems
    )
    if target != "corpus.jsonl":  # the untouched files still load
        assert set(eval_set.corpus) == {"d1", "d2", "d3"}
