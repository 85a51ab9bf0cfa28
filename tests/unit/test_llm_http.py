"""The provider layer against the local reference server over real sockets: retries, timeouts, cache."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from genaiops.errors import InfraError, UsageError
from genaiops.llm.client import LLMClient, RequestRejected
from genaiops.llm.config import ProviderConfig
from genaiops.llm.localserver import ReferenceModel, ReferenceServer, ServerOptions
from genaiops.llm.provider import Provider
from genaiops.llm.types import ChatRequest, EmbeddingRequest


def _config(server: ReferenceServer, **overrides: object) -> ProviderConfig:
    values = {
        "base_url": server.base_url,
        "timeout_s": 5.0,
        "max_retries": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "concurrency": 4,
    }
    values.update(overrides)
    return ProviderConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer(options=ServerOptions()) as srv:
        yield srv


def _request(text: str = "What is 2+2?", repeat: int = 0) -> ChatRequest:
    return ChatRequest(
        "genaiops/reference-chat", ({"role": "user", "content": text},), {"temperature": 0}, repeat
    )


def test_chat_round_trip_echoes_unknown_prompt(server: ReferenceServer) -> None:
    with LLMClient(_config(server)) as client:
        response = client.chat(_request("hello there"))
    assert response.content == "hello there"
    assert response.completion_tokens == 2
    assert server.stats.chat == 1


def test_lookup_file_answers_known_prompt(tmp_path: Path) -> None:
    lookup = tmp_path / "answers.jsonl"
    lookup.write_text('{"prompt": "What is  2+2?", "response": "4"}\n', encoding="utf-8")
    with ReferenceServer(model=ReferenceModel().load(lookup)) as srv, LLMClient(_config(srv)) as client:
        assert client.chat(_request("What is 2+2?")).content == "4"


def test_retries_503_then_succeeds(tmp_path: Path) -> None:
    with ReferenceServer(options=ServerOptions(fail_first=2, fail_status=503)) as srv:
        with LLMClient(_config(srv)) as client:
            assert client.chat(_request("x")).content == "x"
            assert client.stats.attempts == 3
            assert client.stats.retries == 2
        assert srv.stats.failed_injected == 2


def test_retry_after_is_honoured() -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with (
        ReferenceServer(options=ServerOptions(fail_first=1, fail_status=429, retry_after=0.3)) as srv,
        LLMClient(_config(srv), sleep=sleep) as client,
    ):
        assert client.chat(_request("y")).content == "y"
    assert slept == [0.3]


def test_persistent_5xx_raises_infra_error_after_last_retry() -> None:
    with ReferenceServer(options=ServerOptions(fail_first=100, fail_status=502)) as srv:
        with LLMClient(_config(srv, max_retries=2)) as client, pytest.raises(InfraError) as info:
            client.chat(_request())
        assert srv.stats.failed_injected == 3
    assert "after 3 attempt(s)" in info.value.message
    assert "HTTP 502" in info.value.message
    assert info.value.exit_code == 3


def test_timeout_is_honoured_and_retried() -> None:
    options = ServerOptions(hang_first=1, hang_seconds=2.0)
    with ReferenceServer(options=options) as srv, LLMClient(_config(srv, timeout_s=0.3)) as client:
        response = client.chat(_request("after a hang"))
        assert response.content == "after a hang"
        assert client.stats.attempts == 2


def test_timeout_on_every_attempt_is_infra_error() -> None:
    options = ServerOptions(hang_first=10, hang_seconds=2.0)
    with (
        ReferenceServer(options=options) as srv,
        LLMClient(_config(srv, timeout_s=0.2, max_retries=1)) as client,
        pytest.raises(InfraError, match="timed out"),
    ):
        client.chat(_request())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dead_endpoint_is_infra_error_quickly() -> None:
    config = ProviderConfig(
        base_url=f"http://127.0.0.1:{_free_port()}/v1", max_retries=2, backoff_base_s=0.01, backoff_max_s=0.02
    )
    with LLMClient(config) as client, pytest.raises(InfraError, match="connection failed") as info:
        client.chat(_request())
    assert client.stats.attempts == 3
    assert info.value.exit_code == 3


def test_bad_request_is_rejected_without_retry(server: ReferenceServer) -> None:
    with LLMClient(_config(server)) as client, pytest.raises(RequestRejected, match="HTTP 404"):
        client._send("POST", "completions-that-do-not-exist", {}, "a wrong route")
    assert client.stats.attempts == 1


def test_missing_api_key_variable_is_usage_error(
    server: ReferenceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GENAIOPS_TEST_KEY", raising=False)
    with pytest.raises(UsageError, match="GENAIOPS_TEST_KEY"):
        LLMClient(_config(server, api_key_env="GENAIOPS_TEST_KEY"))


def test_concurrency_is_bounded_and_order_kept() -> None:
    with ReferenceServer(options=ServerOptions(latency=0.05)) as srv:
        with Provider(_config(srv, concurrency=4)) as provider:
            requests = [_request(f"q{i}") for i in range(12)]
            responses = provider.chat_many(requests)
        assert [r.content for r in responses] == [f"q{i}" for i in range(12)]
        assert 1 < srv.stats.max_in_flight <= 4


def test_cache_hit_makes_zero_calls(server: ReferenceServer, tmp_path: Path) -> None:
    requests = [_request(f"question {i}", repeat) for i in range(5) for repeat in range(2)]
    with Provider(_config(server), cache_dir=tmp_path / "cache") as first:
        first.chat_many(requests)
        assert first.calls == 10
    before = server.stats.chat
    with Provider(_config(server), cache_dir=tmp_path / "cache") as second:
        responses = second.chat_many(requests)
        assert second.calls == 0
        assert second.cache_hits == 10
    assert server.stats.chat == before
    assert {r.source for r in responses} == {"cache"}


def test_cache_key_changes_with_parameters(server: ReferenceServer, tmp_path: Path) -> None:
    with Provider(_config(server), cache_dir=tmp_path / "cache") as provider:
        provider.chat(_request("same"))
        provider.chat(
            ChatRequest(
                "genaiops/reference-chat", ({"role": "user", "content": "same"},), {"temperature": 0.7}
            )
        )
        assert provider.calls == 2


def test_embeddings_round_trip(server: ReferenceServer) -> None:
    with Provider(_config(server), local_embedders={}) as provider:
        response = provider.embed(
            EmbeddingRequest("genaiops/reference-embedding", ("the red cat", "a blue dog", "the red cat"))
        )
    assert len(response.vectors) == 3
    assert response.vectors[0] == response.vectors[2]
    assert abs(sum(x * x for x in response.vectors[0]) - 1.0) < 1e-9


def test_server_refuses_non_loopback_address() -> None:
    with pytest.raises(UsageError, match="loopback"):
        ReferenceServer(host="0.0.0.0")


def test_offline_embedding_model_needs_no_endpoint() -> None:
    dead = ProviderConfig(base_url="http://127.0.0.1:9/v1", max_retries=0)
    with Provider(dead) as provider:
        response = provider.embed(EmbeddingRequest("genaiops/hash-embedding-256", ("a red cat", "a red cat")))
        assert provider.calls == 0
    assert response.source == "local"
    assert len(response.vectors[0]) == 256
    assert response.vectors[0] == response.vectors[1]


def test_reference_judge_scores_from_token_f1(server: ReferenceServer) -> None:
    from genaiops.metrics.judge import judge_request, parse_judgement

    with Provider(_config(server)) as provider:
        good = provider.chat(
            judge_request("judge", "Q?", "Reasoning.\nAnswer: 13 seats", reference="13 seats")
        )
        bad = provider.chat(judge_request("judge", "Q?", "Answer: no idea", reference="13 seats"))
    assert parse_judgement(good.content).scores["accuracy"] == 1.0
    assert parse_judgement(bad.content).scores["accuracy"] == 0.0


def test_models_lists_the_reference_models(server: ReferenceServer) -> None:
    with LLMClient(_config(server)) as client:
        assert client.models() == ["genaiops/reference-chat", "genaiops/reference-embedding"]
        assert {m["owned_by"] for m in client.model_list()} == {"genaiops-reference"}


def test_serve_llm_lists_the_models_it_is_told_it_deploys() -> None:
    """`serve-llm --model` adds names to /v1/models (once each) and keeps them marked as reference."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genaiops",
            "serve-llm",
            "--port",
            "0",
            "--model",
            "gpt-4o",
            "--model",
            "gpt-4o-mini",
            "--model",
            "gpt-4o",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        port = re.search(r"127\.0\.0\.1:(\d+)/v1", proc.stderr.readline())
        assert port, "serve-llm did not announce its address"
        with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/v1/models", timeout=10) as reply:
            listed = json.load(reply)["data"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert [m["id"] for m in listed] == [
        "genaiops/reference-chat",
        "genaiops/reference-embedding",
        "gpt-4o",
        "gpt-4o-mini",
    ]
    assert {m["owned_by"] for m in listed} == {"genaiops-reference"}


class _PortRecorder(BaseHTTPRequestHandler):
    """GET /v1/models, recording the client port of each request (one port per TCP connection)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test's output."""

    def do_GET(self) -> None:
        self.server.ports.append(self.client_address[1])  # type: ignore[attr-defined]
        body = json.dumps({"data": [{"id": "m"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize(("reuse", "connections"), [(True, 1), (False, 3)])
def test_connections_are_reused_unless_turned_off(reuse: bool, connections: int) -> None:
    """The serving gateway turns reuse off, so a Service's blue-green switch reaches every request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PortRecorder)
    server.ports = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = ProviderConfig(
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", reuse_connections=reuse
        )
        with LLMClient(config) as client:
            for _ in range(3):
                assert client.models() == ["m"]
    finally:
        server.shutdown()
        server.server_close()
    assert len(set(server.ports)) == connections  # type: ignore[attr-defined]


def test_proxies_come_from_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """As before with httpx: $HTTP(S)_PROXY route the model calls, $NO_PROXY exempts a host."""
    import urllib3

    from genaiops.llm.client import _pool_for

    for var in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    assert not isinstance(_pool_for("https://llm.example.com/v1/"), urllib3.ProxyManager)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    routed = _pool_for("https://llm.example.com:8443/v1/")
    assert isinstance(routed, urllib3.ProxyManager) and routed.proxy is not None
    assert routed.proxy.host == "proxy.internal"
    assert not isinstance(_pool_for("http://llm.example.com/v1/"), urllib3.ProxyManager), "http: no proxy set"
    monkeypatch.setenv("NO_PROXY", "llm.example.com")
    assert not isinstance(_pool_for("https://llm.example.com:8443/v1/"), urllib3.ProxyManager)
