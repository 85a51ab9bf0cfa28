"""Model-config shadow comparison replays eval/request-log.jsonl (OpenAI chat request bodies) when present."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from genaiops.cli import main
from genaiops.evaluate import requestlog
from genaiops.llm.cassette import SCHEMA
from genaiops.llm.localserver import ReferenceModel, ReferenceServer
from genaiops.llm.types import ChatRequest
from tests.unit.test_model_config_eval import MODEL_CONFIG, PARAMS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = "artifacts/model-configs/ref"
SYSTEM = {"role": "system", "content": "You are Acme's support assistant. Answer briefly."}
LOG = [
    {"id": "r1", "route": "chat", "user": "Where is my parcel? Order 4411.", "old": "It ships tomorrow."},
    {"id": "r2", "route": "chat", "user": "How do I reset my password?", "old": "Use Forgot password."},
    {
        "id": "r3",
        "route": "triage",
        "user": "Review: great shoes, fast delivery",
        "old": '{"sentiment": "positive"}',
    },
]


def _messages(entry: dict) -> list[dict]:
    history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "Hi! How can I help?"}]
    return [SYSTEM, *history, {"role": "user", "content": entry["user"]}]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@e", *args], check=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    _write(root / "genaiops.yaml", "llm:\n  maxRetries: 0\n")
    _write(
        root / CONFIG / "model-config.yaml",
        MODEL_CONFIG,
    )
    _write(
        root / CONFIG / "eval/request-log.jsonl",
        "".join(
            json.dumps(
                {
                    "model": "whatever-production-used",
                    "temperature": 0.7,
                    "messages": _messages(e),
                    "metadata": {"request_id": e["id"], "route": e["route"]},
                }
            )
            + "\n"
            for e in LOG
        ),
    )
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "x")
    monkeypatch.chdir(root)
    for name in ("GENAIOPS_REPO", "GENAIOPS_BASE_REF", "GENAIOPS_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return root


def _server(tmp_path: Path, new_answers: dict[str, str]) -> ReferenceServer:
    """Both models answer from cassettes keyed by the full request (model, every message, params), so
    an answer only comes back when the logged conversation was sent exactly; otherwise the server echoes."""
    folder = tmp_path / "cassettes"
    folder.mkdir(exist_ok=True)
    for model, answers in (("old-model", {e["id"]: e["old"] for e in LOG}), ("new-model", new_answers)):
        lines = [
            json.dumps({"cassette": SCHEMA, "model": model, "synthetic": True, "syntheticReason": "test"})
        ]
        for entry in LOG:
            request = ChatRequest(model, tuple(_messages(entry)), PARAMS)
            response = {"content": answers[entry["id"]]}
            lines.append(
                json.dumps({"key": request.key, "request": request.identity(), "response": response})
            )
        (folder / f"{model}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ReferenceServer(model=ReferenceModel().load(folder))


def _eval(tmp_path: Path, *extra: str, target: str = CONFIG) -> tuple[int, dict]:
    report = tmp_path / "report.json"
    code = main(["eval", target, "--report", str(report), "-q", "--no-cache", *extra])
    (artifact,) = json.loads(report.read_text(encoding="utf-8"))["artifacts"]
    return code, artifact


def _switch_model(repo: Path) -> None:
    path = repo / CONFIG / "model-config.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("old-model", "new-model"), encoding="utf-8")


def test_load_parses_request_bodies(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(
        json.dumps(
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                    }
                ]
            }
        )
        + "\n"
        + json.dumps(
            {
                "messages": [SYSTEM, {"role": "user", "content": "c"}],
                "metadata": {"request_id": "x", "route": "r"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    requests, problems = requestlog.load(path, tmp_path)
    assert problems == []
    assert requests[0] == requestlog.LoggedRequest(
        "line-1", "request-log", ({"role": "user", "content": "a\nb"},)
    )
    assert requests[1].id == "x" and requests[1].category == "r" and requests[1].messages[0] == SYSTEM
    assert requests[1].last_user == "c"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"messages": []}, "non-empty list"),
        ({"messages": [SYSTEM]}, "no user message"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "needs a role"),
        ({"messages": [{"role": "user", "content": {"x": 1}}]}, "string content"),
        ({"messages": [{"role": "user", "content": "x"}], "metadata": []}, "`metadata` must be an object"),
        ({"messages": [{"role": "user", "content": "x"}], "metadata": {"request_id": 3}}, "request_id"),
        ([1, 2], "JSON object"),
    ],
)
def test_malformed_requests_are_problems(tmp_path: Path, body: object, message: str) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(body) + "\n", encoding="utf-8")
    requests, problems = requestlog.load(path, tmp_path)
    assert requests == [] and len(problems) == 1
    assert problems[0][0] == 1 and message in problems[0][1]


def test_duplicate_request_ids_are_problems(tmp_path: Path) -> None:
    line = json.dumps({"messages": [{"role": "user", "content": "x"}], "metadata": {"request_id": "a"}})
    path = tmp_path / "log.jsonl"
    path.write_text(f"{line}\n{line}\n", encoding="utf-8")
    requests, problems = requestlog.load(path, tmp_path)
    assert len(requests) == 1 and problems == [(2, "duplicate request id 'a'")]


def test_the_log_is_replayed_against_both_configs(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _switch_model(repo)
    new = {
        "r1": "It ships tomorrow.",
        "r2": "Use Forgot password.",
        "r3": "I cannot classify reviews, sorry about that.",
    }
    with _server(tmp_path, new) as server:
        monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", server.base_url)
        code, artifact = _eval(tmp_path, "--base-ref", "HEAD")
        assert server.stats.chat == 6  # 3 logged requests x (current, candidate)
    card = artifact["details"]["scorecard"]
    assert card["provenance"]["traffic"] == f"{CONFIG}/eval/request-log.jsonl"
    assert card["provenance"]["requests"] == 3 and card["provenance"]["currentModel"] == "old-model"
    assert [(e["id"], e["category"]) for e in card["examples"]] == [
        ("r1", "chat"),
        ("r2", "chat"),
        ("r3", "triage"),
    ]
    outputs = {e["id"]: e["output"] for e in card["examples"]}
    assert outputs == new  # every answer came from the cassette: the whole conversation was sent as logged
    assert [p["id"] for p in card["provenance"]["flaggedPairs"]] == ["r3"]
    similarity = {e["id"]: e["scores"]["shadow_similarity"][0] for e in card["examples"]}
    assert similarity["r1"] == pytest.approx(1.0) and similarity["r3"] < 0.85
    assert code == 1  # one flagged pair of three exceeds the 10% flagged-rate bound


def test_bad_request_log_fails_with_the_line(repo: Path, tmp_path: Path) -> None:
    with (repo / CONFIG / "eval/request-log.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"messages": "hello"}\n')
    code, artifact = _eval(tmp_path, "--replay")
    assert code == 1
    (finding,) = artifact["findings"]
    assert finding["ruleId"] == "model-config/eval-bad-request-log" and finding["line"] == 4


def test_example_replays_its_request_log_from_cassettes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    target = "artifacts/model-configs/support-assistant"
    shutil.copytree(ROOT / target, root / target)
    _write(root / "genaiops.yaml", "llm:\n  maxRetries: 0\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "x")
    monkeypatch.chdir(root)
    for name in ("GENAIOPS_REPO", "GENAIOPS_BASE_REF", "GENAIOPS_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    code, artifact = _eval(tmp_path, "--replay", "--base-ref", "HEAD", target=target)
    assert code == 0, artifact["findings"]
    card = artifact["details"]["scorecard"]
    logged = (root / target / "eval/request-log.jsonl").read_text(encoding="utf-8").splitlines()
    assert card["provenance"]["requests"] == len(logged) == 12
    assert card["synthetic"] is True
    assert {e["category"] for e in card["examples"]} == {"support-chat", "review-triage"}
    names = {m["name"] for m in card["metrics"]}
    assert {"shadow_similarity", "shadow_flagged_rate", "latency_p95_ms"} <= names
