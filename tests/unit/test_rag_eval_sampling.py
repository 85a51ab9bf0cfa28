"""RAG eval samples the production corpus (corpus.path): seeded, by type, 5-10%, judged docs always in."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from genaiops import beir
from genaiops.cli import main
from genaiops.evaluate import ragsample

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = "artifacts/rag/support-docs"


def _doc(doc_id: str, doc_type: str) -> beir.Document:
    return beir.Document(doc_id, f"title {doc_id}", f"text of {doc_id}", doc_type, dt.date(2026, 1, 1))


def _corpus(**sizes: int) -> dict[str, beir.Document]:
    return {f"{t}-{i:03d}": _doc(f"{t}-{i:03d}", t) for t, n in sizes.items() for i in range(n)}


def test_each_type_is_sampled_at_the_fraction_with_at_least_one() -> None:
    drawn = ragsample.stratified_ids(_corpus(faq=100, policy=40, howto=3), 0.1, seed=7)
    assert {t: len(ids) for t, ids in drawn.items()} == {"faq": 10, "howto": 1, "policy": 4}
    assert all(doc_id.startswith(t) for t, ids in drawn.items() for doc_id in ids)
    assert all(len(set(ids)) == len(ids) for ids in drawn.values())


def test_the_seed_fixes_the_sample() -> None:
    corpus = _corpus(faq=200, policy=200)
    first = ragsample.stratified_ids(corpus, 0.05, seed=2026)
    assert ragsample.stratified_ids(dict(reversed(list(corpus.items()))), 0.05, seed=2026) == first
    assert ragsample.stratified_ids(corpus, 0.05, seed=2027) != first


@pytest.mark.parametrize(
    ("given", "used"), [(0.5, 0.10), (0.01, 0.05), (0.07, 0.07), ("x", 0.05), (True, 0.05)]
)
def test_fraction_is_bounded_to_five_to_ten_percent(given: object, used: float) -> None:
    assert ragsample.clamp_fraction(given) == used


def test_judged_documents_are_always_indexed() -> None:
    corpus = _corpus(faq=50, policy=50)
    eval_set = beir.EvalSet(
        corpus={"extra-1": _doc("extra-1", "faq")},
        queries={"q1": "a", "q2": "b"},
        qrels={"q1": {"faq-049": 2, "extra-1": 1}, "q2": {"policy-000": 1, "gone": 1}},
    )
    sample = ragsample.draw(eval_set, corpus, fraction=0.06, seed=1, types=["faq", "policy"], source="c")
    assert {"faq-049", "extra-1", "policy-000"} <= set(sample.documents)
    assert sample.documents["extra-1"] is eval_set.corpus["extra-1"]  # from the eval corpus
    assert any("gone" in note for note in sample.notes)
    per_type = sample.provenance()["perType"]
    assert per_type["faq"]["population"] == 50 and per_type["faq"]["sampled"] == 3
    assert per_type["faq"]["judged"] == 2
    assert sum(s["indexed"] for s in per_type.values()) == len(sample.documents)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / ARTIFACT, root / ARTIFACT)
    manifest = root / ARTIFACT / "rag.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: text.index("  generator:")], encoding="utf-8")  # retrieval only
    (root / "genaiops.yaml").write_text("llm:\n  maxRetries: 0\n", encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("GENAIOPS_REPO", raising=False)
    return root


def _eval(tmp_path: Path) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(["eval", ARTIFACT, "--report", str(report), "-q"])
    (artifact,) = json.loads(report.read_text(encoding="utf-8"))["artifacts"]
    return code, artifact


def _edit(repo: Path, old: str, new: str) -> None:
    path = repo / ARTIFACT / "rag.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_eval_indexes_the_sample_and_the_judged_documents(repo: Path, tmp_path: Path) -> None:
    code, artifact = _eval(tmp_path)
    assert code == 0, artifact["findings"]
    sample = artifact["details"]["scorecard"]["provenance"]["sample"]
    assert sample["source"] == "corpus" and sample["fraction"] == 0.08 and sample["seed"] == 2026
    population = {t: s["population"] for t, s in sample["perType"].items()}
    assert population == {"faq": 20, "how-to": 19, "policy": 20, "troubleshooting": 20}
    assert all(s["sampled"] == 2 for s in sample["perType"].values())
    judged = {
        line.split("\t")[1]
        for line in (repo / ARTIFACT / "eval/qrels/test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    }
    assert sum(s["judged"] for s in sample["perType"].values()) == len(judged)
    assert artifact["metrics"]["indexed_documents"] == sample["documents"] < 79
    assert sample["documents"] >= len(judged)


def test_another_seed_draws_other_distractors(repo: Path, tmp_path: Path) -> None:
    _, first = _eval(tmp_path)
    _edit(repo, "seed: 2026", "seed: 7")
    _, second = _eval(tmp_path)
    assert second["details"]["scorecard"]["provenance"]["sample"]["seed"] == 7
    outputs = [[e["output"] for e in a["details"]["scorecard"]["examples"]] for a in (first, second)]
    assert outputs[0] != outputs[1]  # the distractors differ, so some rankings do


def test_without_corpus_path_the_committed_eval_corpus_is_indexed(repo: Path, tmp_path: Path) -> None:
    _edit(repo, "  path: corpus", "")
    code, artifact = _eval(tmp_path)
    assert code == 0
    sample = artifact["details"]["scorecard"]["provenance"]["sample"]
    assert sample["source"] == "eval/corpus.jsonl (committed eval sample)" and sample["fraction"] is None
    assert artifact["metrics"]["indexed_documents"] == sample["documents"] == 28


def test_malformed_corpus_is_a_finding(repo: Path, tmp_path: Path) -> None:
    with (repo / ARTIFACT / "corpus/faq.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"_id": "bad", "text": "no metadata"}\n')
    code, artifact = _eval(tmp_path)
    assert code == 1
    (finding,) = [f for f in artifact["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "rag/eval-corpus-unusable"
    assert finding["file"].endswith("corpus/faq.jsonl") and finding["line"] == 21


def test_missing_corpus_path_is_a_finding(repo: Path, tmp_path: Path) -> None:
    _edit(repo, "path: corpus", "path: exports/helpcentre.jsonl")
    code, artifact = _eval(tmp_path)
    assert code == 1
    (finding,) = [f for f in artifact["findings"] if f["severity"] == "error"]
    assert finding["ruleId"] == "rag/eval-corpus-unusable" and "does not exist" in finding["message"]
