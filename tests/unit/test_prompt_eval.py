"""`genaiops eval` on prompts end to end: reference server, cache, cassettes, baseline, exit codes."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from genaiops.cli import main
from genaiops.lineage import LineageEntry, append_lineage
from genaiops.llm.localserver import ReferenceModel, ReferenceServer

CAPITALS = {
    "France": "Paris",
    "Germany": "Berlin",
    "Italy": "Rome",
    "Spain": "Madrid",
    "Portugal": "Lisbon",
    "Austria": "Vienna",
    "Belgium": "Brussels",
    "Netherlands": "Amsterdam",
    "Poland": "Warsaw",
    "Sweden": "Stockholm",
    "Norway": "Oslo",
    "Finland": "Helsinki",
    "Denmark": "Copenhagen",
    "Greece": "Athens",
    "Ireland": "Dublin",
    "Hungary": "Budapest",
    "Czechia": "Prague",
    "Romania": "Bucharest",
    "Bulgaria": "Sofia",
    "Croatia": "Zagreb",
}
WRONG = dict(
    zip(
        list(CAPITALS)[:10],
        [
            "Lyon",
            "Munich",
            "Milan",
            "Barcelona",
            "Porto",
            "Graz",
            "Antwerp",
            "Rotterdam",
            "Krakow",
            "Gothenburg",
        ],
        strict=True,
    )
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    _write(
        root / "genaiops.yaml",
        "environments:\n  - name: staging\nllm:\n  maxRetries: 1\n  backoffBase: 0.01\n  timeout: 5\n",
    )
    _write(
        root / "artifacts/model-configs/ref/model-config.yaml",
        'id: ref\nversion: "1.0.0"\nmodel_name: ref-model\ntemperature: 0.0\nmax_tokens: 32\n',
    )
    _write(
        root / "artifacts/prompts/capitals/prompt.yaml",
        """\
id: capitals
version: "1.0.0"
description: Name the capital of a country.
owner: qa@example.com
model_config: ref
variables:
  type: object
  required: [country]
  properties:
    country: {type: string}
output:
  format: text
eval:
  thresholds:
    - metric: exact_match
      threshold: 0.3
""",
    )
    _write(
        root / "artifacts/prompts/capitals/template.j2",
        "What is the capital of {{ country }}? Reply with the city name only.\n",
    )
    _write(
        root / "artifacts/prompts/capitals/eval/dataset.jsonl",
        "".join(
            json.dumps(
                {
                    "id": f"c-{i:02d}",
                    "vars": {"country": country},
                    "expected": city,
                    "category": "west" if i % 2 else "east",
                }
            )
            + "\n"
            for i, (country, city) in enumerate(CAPITALS.items())
        ),
    )
    monkeypatch.delenv("GENAIOPS_REPO", raising=False)
    monkeypatch.chdir(root)
    return root


def _server(tmp_path: Path, answers: dict[str, str]) -> ReferenceServer:
    lookup = tmp_path / f"answers-{len(list(tmp_path.iterdir()))}.jsonl"
    lookup.write_text(
        "".join(
            json.dumps({"contains": f"capital of {country}?", "response": city}) + "\n"
            for country, city in answers.items()
        ),
        encoding="utf-8",
    )
    return ReferenceServer(model=ReferenceModel().load(lookup))


@pytest.fixture
def good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReferenceServer]:
    with _server(tmp_path, CAPITALS) as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        yield server


def _eval(repo: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "eval-report.json"
    code = main(
        ["eval", "artifacts/prompts/capitals", "--repo", str(repo), "--report", str(report), "-q", *extra]
    )
    return code, json.loads(report.read_text(encoding="utf-8"))


def _artifact(report: dict) -> dict:
    (artifact,) = report["artifacts"]
    return artifact


def test_live_eval_scores_and_the_unchanged_rerun_makes_zero_calls(
    repo: Path, tmp_path: Path, good: ReferenceServer
) -> None:
    code, report = _eval(repo, tmp_path)
    assert code == 0
    card = _artifact(report)["details"]["scorecard"]
    metrics = {m["name"]: m for m in card["metrics"]}
    assert metrics["exact_match"]["value"] == 1.0
    assert metrics["judge_accuracy"]["value"] == 5.0  # the reference judge grades exact answers 5/5
    assert card["baselineNote"] == "no baseline: absolute thresholds"
    assert card["provenance"]["calls"] == 40  # 20 answers + 20 judgements
    served = good.stats.chat
    code, report = _eval(repo, tmp_path)
    again = _artifact(report)["details"]["scorecard"]
    assert code == 0
    assert again["provenance"]["calls"] == 0 and again["provenance"]["cacheHits"] == 40
    assert good.stats.chat == served
    assert (repo / ".cache/llm/responses.sqlite3").is_file()


def test_record_then_replay_offline(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _server(tmp_path, CAPITALS) as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, _ = _eval(repo, tmp_path, "--record", "--no-cache")
    assert code == 0
    cassette = repo / "artifacts/prompts/capitals/eval/cassettes/ref-model.jsonl"
    assert json.loads(cassette.read_text(encoding="utf-8").splitlines()[0])["synthetic"] is True
    monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    code, report = _eval(repo, tmp_path, "--replay", "--scorecard-dir", str(tmp_path / "cards"))
    card = _artifact(report)["details"]["scorecard"]
    assert code == 0
    assert card["synthetic"] is True and card["provenance"]["mode"] == "replay"
    assert "eval/synthetic-responses" in {f["ruleId"] for f in _artifact(report)["findings"]}
    assert "Synthetic responses" in (tmp_path / "cards/prompt-capitals.md").read_text(encoding="utf-8")
    assert "<svg" in (tmp_path / "cards/prompt-capitals.html").read_text(encoding="utf-8")


def test_without_an_endpoint_eval_replays_the_cassettes_and_says_so(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing configured (no llm.baseUrl, no $GENAIOPS_LLM_BASE_URL): no call to an address where nothing
    listens (inside a pod, 127.0.0.1 is the step itself), but the recorded cassettes, with a note."""
    with _server(tmp_path, CAPITALS) as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        assert _eval(repo, tmp_path, "--record", "--no-cache")[0] == 0
    monkeypatch.delenv("GENAIOPS_LLM_BASE_URL")
    code, report = _eval(repo, tmp_path)
    card = _artifact(report)["details"]["scorecard"]
    assert code == 0
    assert card["provenance"]["mode"] == "replay" and card["provenance"]["calls"] == 0
    assert any("No LLM endpoint is configured" in note for note in card["notes"])


def test_live_answers_of_the_reference_server_are_marked_synthetic(
    repo: Path, tmp_path: Path, good: ReferenceServer
) -> None:
    code, report = _eval(repo, tmp_path, "--no-cache", "--scorecard-dir", str(tmp_path / "cards"))
    card = _artifact(report)["details"]["scorecard"]
    assert code == 0 and card["provenance"]["mode"] == "live"
    assert card["synthetic"] is True
    assert "reference server" in card["provenance"]["syntheticReason"]
    (finding,) = [f for f in _artifact(report)["findings"] if f["ruleId"] == "eval/synthetic-responses"]
    assert "reference server" in finding["message"]
    assert "scored from an endpoint that are not a real model" in (
        tmp_path / "cards/prompt-capitals.md"
    ).read_text(encoding="utf-8")


def test_replay_miss_names_the_request(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _server(tmp_path, CAPITALS) as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        _eval(repo, tmp_path, "--record", "--no-cache")
    template = repo / "artifacts/prompts/capitals/template.j2"
    template.write_text("Name the capital city of {{ country }}.\n", encoding="utf-8")
    code, report = _eval(repo, tmp_path, "--replay")
    assert code == 1
    (finding,) = [f for f in _artifact(report)["findings"] if f["ruleId"] == "eval/cassette-miss"]
    assert "Name the capital city of" in finding["message"] and "ref-model" in finding["message"]


def test_regression_against_the_deployed_baseline_fails_with_interval_and_threshold(
    repo: Path, tmp_path: Path, good: ReferenceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, report = _eval(repo, tmp_path, "--no-cache")
    assert code == 0
    baseline = _artifact(report)["details"]["scorecard"]
    append_lineage(
        repo,
        "staging",
        "prompt",
        "capitals",
        LineageEntry(
            version="1.0.0", digest=baseline["artifact"]["digest"], snapshot_tree="0" * 40, scorecard=baseline
        ),
    )
    with _server(tmp_path, {**CAPITALS, **WRONG}) as worse:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", worse.base_url)
        code, report = _eval(repo, tmp_path, "--no-cache", "--env", "staging")
    assert code == 1
    artifact = _artifact(report)
    card = artifact["details"]["scorecard"]
    assert card["baseline"]["source"] == "environments/staging/lineage/prompt/capitals.yaml"
    exact = next(m for m in card["metrics"] if m["name"] == "exact_match")
    assert exact["value"] == 0.5 and exact["baseline"] == 1.0 and exact["verdict"] == "fail"
    assert exact["ci"][1] < 0 and exact["threshold"] == 0.02
    (finding,) = [
        f for f in artifact["findings"] if f["ruleId"] == "eval/regression" and "exact_match" in f["message"]
    ]
    assert "95% CI [" in finding["message"] and "tolerated regression 2.00%" in finding["message"]


def test_unchanged_candidate_passes_against_its_own_baseline(
    repo: Path, tmp_path: Path, good: ReferenceServer
) -> None:
    _, report = _eval(repo, tmp_path)
    baseline = _artifact(report)["details"]["scorecard"]
    append_lineage(
        repo,
        "staging",
        "prompt",
        "capitals",
        LineageEntry(version="1.0.0", digest="sha256:x", snapshot_tree="0" * 40, scorecard=baseline),
    )
    code, report = _eval(repo, tmp_path, "--env", "staging")
    exact = next(
        m for m in _artifact(report)["details"]["scorecard"]["metrics"] if m["name"] == "exact_match"
    )
    assert code == 0
    assert exact["delta"] == 0.0 and exact["reason"] == "no regression"


def test_dead_endpoint_exits_3(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    code, report = _eval(repo, tmp_path, "--no-cache")
    assert code == 3
    assert "connection failed" in _artifact(report)["infraError"]


def test_transient_failures_are_retried(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = tmp_path / "a.jsonl"
    lookup.write_text(
        json.dumps({"contains": "capital of France?", "response": "Paris"}) + "\n", encoding="utf-8"
    )
    from genaiops.llm.localserver import ServerOptions

    with ReferenceServer(
        options=ServerOptions(fail_first=1, fail_status=503), model=ReferenceModel().load(lookup)
    ) as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, _ = _eval(repo, tmp_path, "--no-cache")
        assert server.stats.failed_injected == 1
    assert code == 1  # only France is answered right: below the 0.3 exact-match minimum, not an infra error


def test_bad_dataset_record_is_a_finding(repo: Path, tmp_path: Path, good: ReferenceServer) -> None:
    dataset = repo / "artifacts/prompts/capitals/eval/dataset.jsonl"
    dataset.write_text(
        dataset.read_text(encoding="utf-8") + '{"id": "x", "expected": "y"}\n', encoding="utf-8"
    )
    code, report = _eval(repo, tmp_path, "--no-cache")
    assert code == 1
    (finding,) = [f for f in _artifact(report)["findings"] if f["ruleId"] == "prompt/eval-dataset-invalid"]
    assert finding["line"] == 21


def test_test_cases_are_evaluated_on_the_response(repo: Path, tmp_path: Path, good: ReferenceServer) -> None:
    _write(
        repo / "artifacts/prompts/capitals/test_cases.yaml",
        """\
- description: exact city
  vars: {country: France}
  assert:
    - {type: regex, value: "^Paris$"}
- description: factual
  vars: {country: Germany}
  assert:
    - {type: factuality, value: Berlin}
- description: similar
  vars: {country: Italy}
  assert:
    - {type: similar, value: Rome, threshold: 0.9}
    - {type: not-similar, value: Ottawa is in Canada}
- description: ungrounded rubric
  vars: {country: Spain}
  assert:
    - {type: llm-rubric, value: Names the capital.}
- description: prompt-side only (validated on the rendering, never sent to the model)
  vars: {country: Poland}
  assert:
    - {type: icontains, value: capital}
  metadata: {target: prompt}
""",
    )
    code, report = _eval(repo, tmp_path, "--no-cache")
    artifact = _artifact(report)
    card = artifact["details"]["scorecard"]
    assert code == 1
    rate = next(m for m in card["metrics"] if m["name"] == "test_case_pass_rate")
    assert rate["value"] == 0.75  # 3 of the 4 response-targeted cases pass (default target)
    # 20 answers + 20 judgements + 4 test-case answers + 2 judged assertions; `similar` embeds offline
    assert card["provenance"]["calls"] == 46
    (failed,) = [f for f in artifact["findings"] if f["ruleId"] == "prompt/eval-test-case-failed"]
    assert "test case 4 ('ungrounded rubric')" in failed["message"] and "llm-rubric" in failed["message"]
    cases = {e["id"]: e for e in card["examples"] if e["category"] == "test-case"}
    assert sorted(cases) == ["test-case-1", "test-case-2", "test-case-3", "test-case-4"]
    assert [a["status"] for a in cases["test-case-3"]["assertions"]] == ["pass", "pass"]
