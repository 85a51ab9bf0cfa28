"""Model-config validate: catalog availability, endpoint health, fallback, stop sequences; outages exit 3."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from genaiops import rules
from tests.conftest import ENVIRONMENTS
from tests.unit.validate_repo import MODEL_CONFIG, Fixture, Mutation, build, finding_ids

CONFIG_PATH = "artifacts/model-configs/assistant"


def _config(**changes: Any) -> Mutation:
    def mutate(f: Fixture) -> None:
        f.model_config.update(changes)

    return mutate


class _ModelsHandler(BaseHTTPRequestHandler):
    models: list[str] = []
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path != "/v1/models":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(
            {"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def models_server() -> Iterator[Callable[[list[str]], str]]:
    """Start a loopback OpenAI-compatible /v1/models server; returns a function giving its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(models: list[str]) -> str:
        handler = type("Handler", (_ModelsHandler,), {"models": models, "requests": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _with_endpoint(repo: Path, url: str) -> None:
    for settings in repo.glob("environments/*/settings.yaml"):
        settings.write_text(f"llm:\n  endpoint: {url!r}\n", encoding="utf-8")


@dataclass(frozen=True)
class Case:
    rule: str
    mutate: Mutation
    env: str | None = None
    served: tuple[str, ...] | None = None
    severity: str = "error"


CASES = [
    Case("model-config/model-unavailable", _config(model_name="gpt-4.1"), env="prod"),
    Case("model-config/fallback-unavailable", _config(fallback_model="gpt-4.1"), env="prod"),
    Case("model-config/model-not-served", lambda f: None, served=("gpt-4o-mini",)),
    Case("model-config/fallback-not-served", lambda f: None, served=("gpt-4o", "llama")),
    Case("model-config/fallback-same-as-primary", _config(fallback_model="gpt-4o")),
    Case("model-config/stop-truncates", _config(stop_sequences=["\n\n"])),
    Case("model-config/no-fixtures", _config(fixtures={"valid_responses": []}), severity="warning"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_fixture_breaks_exactly_its_rule(
    case: Case, tmp_path: Path, run_cli: Callable[..., Any], models_server: Callable[[list[str]], str]
) -> None:
    repo = build(tmp_path / "repo", case.mutate)
    if case.served is not None:
        _with_endpoint(repo, models_server(list(case.served)))
    args = ["validate", CONFIG_PATH, *(["--env", case.env] if case.env else [])]
    result = run_cli(*args, cwd=repo)
    assert result.report is not None
    if case.severity == "error":
        assert result.code == 1, result.stderr
        assert finding_ids(result.report, "error") == {case.rule}
    else:
        assert result.code == 0, result.stderr
        assert finding_ids(result.report) == {case.rule}


def test_every_model_config_validate_rule_has_a_fixture() -> None:
    import genaiops.validate.model_config  # noqa: F401 - declares the rules

    declared = {
        r.id for r in rules.RULES.values() if r.id.startswith("model-config/") and r.stage == "validate"
    }
    assert declared == {c.rule for c in CASES} | {"model-config/endpoint-unchecked"}


def test_outage_does_not_hide_a_definite_failure(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = build(tmp_path / "repo", _config(fallback_model="gpt-4o"))
    _with_endpoint(repo, f"http://127.0.0.1:{_closed_port()}/v1")
    result = run_cli("validate", CONFIG_PATH, cwd=repo)
    assert result.code == 1  # retrying cannot fix the config: fail now instead of exit 3
    assert finding_ids(result.report, "error") == {"model-config/fallback-same-as-primary"}
    assert finding_ids(result.report, "warning") == {"model-config/endpoint-unchecked"}


def test_the_same_config_passes_where_the_model_is_deployed(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    repo = build(tmp_path / "repo", _config(model_name="gpt-4.1"))
    assert run_cli("validate", CONFIG_PATH, "--env", "dev", cwd=repo).code == 0
    # default environment: the first in genaiops.yaml (dev)
    result = run_cli("validate", CONFIG_PATH, cwd=repo)
    assert result.code == 0
    assert result.report["artifacts"][0]["details"]["environment"] == "dev"


def test_healthy_endpoint_serving_both_models_passes(
    tmp_path: Path, run_cli: Callable[..., Any], models_server: Callable[[list[str]], str]
) -> None:
    repo = build(tmp_path / "repo")
    url = models_server(["gpt-4o", "gpt-4o-mini"])
    _with_endpoint(repo, url)
    result = run_cli("validate", CONFIG_PATH, cwd=repo)
    assert result.code == 0, result.stderr
    artifact = result.report["artifacts"][0]
    assert artifact["details"]["endpoint"] == url
    assert artifact["metrics"]["servedModels"] == 2


def test_stop_truncation_message_says_where(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", CONFIG_PATH, cwd=build(tmp_path / "repo", _config(stop_sequences=["then"])))
    message = next(f["message"] for f in result.report["artifacts"][0]["findings"])
    assert "'two paragraphs'" in message
    response = MODEL_CONFIG["fixtures"]["valid_responses"][0]["response"]
    cut = response.find("then")
    assert f"at character {cut}: only {cut} of {len(response)} characters" in message


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_exits_3_with_a_clear_message(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    repo = build(tmp_path / "repo")
    port = _closed_port()
    _with_endpoint(repo, f"http://127.0.0.1:{port}/v1")
    result = run_cli("validate", CONFIG_PATH, cwd=repo)
    assert result.code == 3
    artifact = result.report["artifacts"][0]
    assert artifact["status"] == "error"
    assert f"http://127.0.0.1:{port}/v1/models is unreachable" in artifact["infraError"]
    assert "retry" in artifact["infraError"]


def test_endpoint_that_never_answers_times_out(
    tmp_path: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = build(tmp_path / "repo")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections in the kernel, never reads or answers
        port = listener.getsockname()[1]
        _with_endpoint(repo, f"http://127.0.0.1:{port}/v1")
        monkeypatch.setenv("GENAIOPS_HEALTH_TIMEOUT", "0.5")
        started = time.monotonic()
        result = run_cli("validate", CONFIG_PATH, cwd=repo)
        elapsed = time.monotonic() - started
    assert result.code == 3
    assert "did not answer within 0.5 s" in result.report["artifacts"][0]["infraError"]
    assert elapsed < 30  # generous: proves the timeout ended the wait, not the test runner


def test_unhealthy_endpoint_status_is_infra(
    tmp_path: Path, run_cli: Callable[..., Any], models_server: Callable[[list[str]], str]
) -> None:
    repo = build(tmp_path / "repo")
    url = models_server(["gpt-4o"]).removesuffix("/v1") + "/wrong"
    _with_endpoint(repo, url)
    result = run_cli("validate", CONFIG_PATH, cwd=repo)
    assert result.code == 3
    assert "HTTP 404" in result.report["artifacts"][0]["infraError"]


def test_bad_settings_are_a_usage_error(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    repo = build(tmp_path / "repo")
    _with_endpoint(repo, "ftp://example.invalid")
    result = run_cli("validate", CONFIG_PATH, cwd=repo)
    assert result.code == 2
    assert "not an http(s) URL" in result.report["findings"][0]["message"]


def test_unknown_environment_is_a_usage_error(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("validate", CONFIG_PATH, "--env", "qa", cwd=build(tmp_path / "repo"))
    assert result.code == 2


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_repository_examples_pass_in_every_environment(
    env: str, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    """The examples' models are available in every environment of this repository's catalog. The
    environments' own endpoints are left out (a rendered repo's endpoint is a real, unreachable URL
    here); endpoint health has tests of its own against loopback servers."""
    root = Path(__file__).resolve().parents[2]
    repo = tmp_path / "repo"
    for rel in ("artifacts/model-configs", "artifacts/catalog"):
        shutil.copytree(root / rel, repo / rel)
    shutil.copy(root / "genaiops.yaml", repo / "genaiops.yaml")
    result = run_cli("validate", "artifacts/model-configs", "--env", env, cwd=repo)
    assert result.code == 0, result.stderr
    assert len(result.report["artifacts"]) >= 2
