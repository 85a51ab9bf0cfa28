"""`genaiops eval` on model configs: shadow comparison on the prompts' eval traffic, drift, telemetry."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from genaiops.cli import main
from genaiops.llm.cassette import SCHEMA
from genaiops.llm.localserver import ReferenceModel, ReferenceServer
from genaiops.llm.types import ChatRequest

CAPITALS = {"France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Austria": "Vienna"}
TEMPLATE = "What is the capital of {{ country }}? Reply with the city name only.\n"
CONFIG = "artifacts/model-configs/ref"
MODEL_CONFIG = """id: ref
version: "1.0.0"
description: Reference model config of the shadow-comparison tests.
owner: tests@example.com
provider: openai
model_name: old-model
temperature: 0.0
max_tokens: 256
fallback_model: fallback-model
timeout: 30
"""
"""A complete manifest: eval applies the model-config schema before its own checks."""
PARAMS = {"temperature": 0.0, "max_tokens": 256}
"""The sampling parameters eval sends for MODEL_CONFIG (part of a recorded request's key)."""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    _write(root / "genaiops.yaml", "llm:\n  maxRetries: 0\n")
    _write(
        root / CONFIG / "model-config.yaml",
        MODEL_CONFIG,
    )
    _write(
        root / "artifacts/prompts/capitals/prompt.yaml",
        'id: capitals\nversion: "1.0.0"\ndescription: Names a capital.\nowner: tests@example.com\n'
        "model_config: ref\noutput:\n  format: text\n"
        "variables:\n  type: object\n  properties:\n    country: {type: string}\n",
    )
    _write(root / "artifacts/prompts/capitals/template.j2", TEMPLATE)
    _write(
        root / "artifacts/prompts/capitals/eval/dataset.jsonl",
        "".join(
            json.dumps({"id": country.lower(), "vars": {"country": country}, "expected": city}) + "\n"
            for country, city in CAPITALS.items()
        ),
    )
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True)
    monkeypatch.chdir(root)
    for name in ("GENAIOPS_REPO", "GENAIOPS_BASE_REF"):
        monkeypatch.delenv(name, raising=False)
    return root


def _server(tmp_path: Path, new_model_answer: str) -> ReferenceServer:
    """Old model: correct capitals (exact-prompt lookup, which wins over a cassette's prompt match);
    new model: ``new_model_answer`` formatted with country and city (cassette entries, matched by
    request key, which includes the model)."""
    lookup = tmp_path / "answers.jsonl"
    lookup.write_text(
        "".join(
            json.dumps({"prompt": TEMPLATE.replace("{{ country }}", c), "response": city}) + "\n"
            for c, city in CAPITALS.items()
        ),
        encoding="utf-8",
    )
    cassettes = tmp_path / "new-model"
    cassettes.mkdir()
    lines = [
        json.dumps({"cassette": SCHEMA, "model": "new-model", "synthetic": True, "syntheticReason": "test"})
    ]
    for country in CAPITALS:
        text = TEMPLATE.replace("{{ country }}", country)
        request = ChatRequest("new-model", ({"role": "user", "content": text},), PARAMS)
        lines.append(
            json.dumps(
                {
                    "key": request.key,
                    "request": request.identity(),
                    "response": {"content": new_model_answer.format(country=country, city=CAPITALS[country])},
                }
            )
        )
    (cassettes / "new-model.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ReferenceServer(model=ReferenceModel().load(lookup).load(cassettes))


def _eval(tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(["eval", CONFIG, "--report", str(report), "-q", "--no-cache", *extra])
    (artifact,) = json.loads(report.read_text(encoding="utf-8"))["artifacts"]
    return code, artifact


def _switch_model(repo: Path, extra: str = "") -> None:
    path = repo / CONFIG / "model-config.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("old-model", "new-model") + extra, encoding="utf-8"
    )


def test_behaviour_change_is_flagged_and_fails(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _switch_model(repo)
    with _server(tmp_path, "Sorry, I cannot help with questions about {country}.") as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path, "--base-ref", "HEAD")
    card = artifact["details"]["scorecard"]
    metrics = {m["name"]: m for m in card["metrics"]}
    assert code == 1
    assert (
        metrics["shadow_flagged_rate"]["value"] == 1.0 and metrics["shadow_flagged_rate"]["verdict"] == "fail"
    )
    assert metrics["shadow_similarity"]["value"] < 0.85
    assert card["provenance"]["currentModel"] == "old-model" and len(card["provenance"]["flaggedPairs"]) == 5
    assert len([f for f in artifact["findings"] if f["ruleId"] == "model-config/eval-pair-flagged"]) == 5
    assert {"latency_p50_ms", "latency_p95_ms", "prompt_tokens_mean"} <= set(metrics)


def test_same_behaviour_passes(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _switch_model(repo)
    with _server(tmp_path, "{city}") as server:  # the new model gives the same answers as the old one
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path, "--base-ref", "HEAD")
    card = artifact["details"]["scorecard"]
    metrics = {m["name"]: m for m in card["metrics"]}
    assert code == 0
    # the reference server's latency is this machine's load, not the model's: reported, never gated
    assert card["provenance"]["synthetic"] is True
    assert "latency_ms" not in metrics and {"latency_p50_ms", "latency_p95_ms"} <= set(metrics)
    assert any(note.startswith("latency_ms is not compared") for note in card["notes"])
    assert metrics["shadow_similarity"]["value"] == pytest.approx(1.0)
    assert metrics["shadow_flagged_rate"]["value"] == 0.0


def test_expected_drift_relaxes_and_uses_the_rubric(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _switch_model(repo, "expected_drift:\n  reason: new model\n  rubric: concise\n")
    with _server(tmp_path, "Sorry, I cannot help with questions about {country}.") as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path, "--base-ref", "HEAD")
    card = artifact["details"]["scorecard"]
    metrics = {m["name"]: m for m in card["metrics"]}
    assert code == 0  # flagged pairs are reported but not enforced under declared drift
    assert metrics["shadow_flagged_rate"]["maximum"] is None
    assert card["provenance"]["similarityThreshold"] == 0.6
    assert 1.0 <= metrics["drift_rubric"]["value"] <= 5.0


def test_without_base_ref_only_telemetry(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _server(tmp_path, "x") as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path)
        assert server.stats.chat == 5
    card = artifact["details"]["scorecard"]
    assert code == 0
    assert "shadow_similarity" not in {m["name"] for m in card["metrics"]}
    assert any("no --base-ref" in note for note in card["notes"])
