"""RAG eval with a generator: retrieval + generation through the provider, answers scored vs the baseline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genaiops.cli import main
from genaiops.lineage import LineageEntry, append_lineage
from genaiops.llm.localserver import ReferenceServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = "artifacts/rag/support-docs"
ANSWER_METRICS = ["answer_token_f1", "answer_rouge_l", "answer_context_hit"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    for rel in (ARTIFACT, "artifacts/prompts/rag-answer", "artifacts/model-configs/support-assistant"):
        shutil.copytree(ROOT / rel, root / rel)
    (root / "genaiops.yaml").write_text(
        "environments:\n  - name: staging\nllm:\n  maxRetries: 0\n", encoding="utf-8"
    )
    monkeypatch.chdir(root)
    for name in ("GENAIOPS_REPO", "GENAIOPS_LLM_BASE_URL", "GENAIOPS_RAG_GENERATOR"):
        monkeypatch.delenv(name, raising=False)
    return root


def _eval(tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(["eval", ARTIFACT, "--report", str(report), "-q", *extra])
    (artifact,) = json.loads(report.read_text(encoding="utf-8"))["artifacts"]
    return code, artifact


def _metric(artifact: dict, name: str) -> dict:
    return next(m for m in artifact["details"]["scorecard"]["metrics"] if m["name"] == name)


def test_answers_are_generated_and_scored_from_the_cassettes(repo: Path, tmp_path: Path) -> None:
    code, artifact = _eval(tmp_path, "--replay")
    assert code == 0, artifact["findings"]
    card = artifact["details"]["scorecard"]
    names = [m["name"] for m in card["metrics"]]
    assert all(name in names for name in ANSWER_METRICS)
    assert card["provenance"]["generator"]["prompt"] == "rag-answer"
    assert card["provenance"]["generator"]["questions"] == 10
    assert card["synthetic"] is True  # recorded from the reference server, and labelled so
    f1 = _metric(artifact, "answer_token_f1")
    assert f1["minimum"] == 0.35 and f1["verdict"] == "pass" and 0.35 < f1["value"] < 1
    answers = {e["id"]: e for e in card["examples"] if "answer_token_f1" in e["scores"]}
    assert len(answers) == 10
    assert answers["a09"]["output"] == "I could not find this in the help centre."
    assert answers["a09"]["scores"]["answer_token_f1"][0] < answers["a01"]["scores"]["answer_token_f1"][0]


def test_the_generator_sees_the_retrieved_passages(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ReferenceServer() as server:  # no reference answers: the server echoes the rendered prompt
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path, "--no-cache")
        assert server.stats.chat == 10
    card = artifact["details"]["scorecard"]
    echoed = next(e for e in card["examples"] if e["id"] == "a05")["output"]
    assert echoed.startswith("You answer questions about Acme Cloud")
    assert '<passage id="sd-008" rank="1">' in echoed  # the reset-password article, retrieved first
    assert _metric(artifact, "answer_token_f1")["verdict"] == "fail"  # a prompt echo is no answer
    assert code == 1


def test_worse_answers_regress_against_the_baseline(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, artifact = _eval(tmp_path, "--replay")
    append_lineage(
        repo,
        "staging",
        "rag",
        "support-docs",
        LineageEntry(
            version="2.1.0",
            digest=artifact["digest"],
            snapshot_tree="0" * 40,
            scorecard=artifact["details"]["scorecard"],
        ),
    )
    answers = repo / ARTIFACT / "eval/reference-answers.jsonl"
    worse = [json.loads(line) for line in answers.read_text(encoding="utf-8").splitlines()]
    for record in worse:  # a generator that drops the substance and keeps only the citation
        record["response"] = "Please see the help centre " + record["response"].rsplit(" ", 1)[-1]
    answers.write_text("".join(json.dumps(r) + "\n" for r in worse), encoding="utf-8")
    with ReferenceServer() as server:
        server.model.load(answers)
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path, "--no-cache", "--env", "staging")
    assert code == 1
    f1 = _metric(artifact, "answer_token_f1")
    assert f1["verdict"] == "fail" and f1["baseline"] > f1["value"] and f1["ci"][1] < 0
    messages = [f["message"] for f in artifact["findings"] if f["ruleId"] == "eval/regression"]
    assert any(m.startswith("answer_token_f1") and "CI [" in m for m in messages), messages


def test_changed_question_is_a_replay_miss(repo: Path, tmp_path: Path) -> None:
    path = repo / ARTIFACT / "eval/answers.jsonl"
    path.write_text(
        path.read_text(encoding="utf-8").replace("How do I reset my password?", "Password reset?"),
        encoding="utf-8",
    )
    code, artifact = _eval(tmp_path, "--replay")
    assert code == 1
    assert "eval/cassette-miss" in [f["ruleId"] for f in artifact["findings"]]


def test_environment_names_an_unknown_generator(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENAIOPS_RAG_GENERATOR", "no-such-prompt")
    code, artifact = _eval(tmp_path, "--replay")
    assert code == 1
    (finding,) = [f for f in artifact["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "rag/eval-generator-unusable" and "no-such-prompt" in finding["message"]


def test_malformed_answers_dataset_names_the_line(repo: Path, tmp_path: Path) -> None:
    with (repo / ARTIFACT / "eval/answers.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "a11", "question": "no answer"}\n')
    code, artifact = _eval(tmp_path, "--replay")
    assert code == 1
    (finding,) = [f for f in artifact["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "rag/eval-generator-unusable" and finding["line"] == 11
