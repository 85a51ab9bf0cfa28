"""`genaiops notify` against a real HTTP sink on loopback: the webhook and pull-request bodies, the
authorization header, and best-effort delivery (a refusal or an outage never fails the step)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from genaiops import notify
from genaiops.cli import main


class Sink:
    """Records every POST; answers with the next queued status (default 201)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                self.send_response(sink.statuses.pop(0) if sink.statuses else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    monkeypatch.setattr(notify, "BACKOFF_S", 0.01)
    server = Sink()
    yield server
    server.close()


MARKDOWN = '| metric | value |\n|---|---|\n| "exact" `match` | 0.91 |'


def test_webhook_and_pull_request_comment(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(notify.AUTH_ENV, "Bearer secret-token")
    code = main(
        [
            "notify",
            "--status",
            "Failed",
            "--summary",
            MARKDOWN,
            "--workflow",
            "prompt-ci-x7k2p",
            "--webhook-url",
            f"{sink.url}/hook",
            "--repository",
            "ml-platform/genai-platform",
            "--pr-number",
            "42",
            "--github-api",
            sink.url,
        ]
    )
    assert code == 0
    hook, comment = sink.requests
    assert hook["path"] == "/hook"
    assert hook["body"] == {
        "text": f"genaiops prompt-ci-x7k2p: Failed\n{MARKDOWN}",
        "workflow": "prompt-ci-x7k2p",
        "status": "Failed",
    }
    assert "Authorization" not in hook["headers"], "the GitHub token goes to GitHub only"
    assert comment["path"] == "/repos/ml-platform/genai-platform/issues/42/comments"
    assert comment["headers"]["Authorization"] == "Bearer secret-token"
    assert comment["body"] == {"body": f"### genaiops `prompt-ci-x7k2p`: Failed\n\n{MARKDOWN}"}


def test_no_target_sends_nothing(sink: Sink, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", "--status", "Succeeded"]) == 0
    assert sink.requests == []
    assert "nothing sent" in capsys.readouterr().err


def test_a_comment_without_a_token_is_skipped(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(notify.AUTH_ENV, raising=False)
    args = [
        "notify",
        "--status",
        "Failed",
        "--repository",
        "o/r",
        "--pr-number",
        "7",
        "--github-api",
        sink.url,
    ]
    assert main(args) == 0
    assert sink.requests == []


def test_a_down_webhook_is_retried_then_given_up_without_failing(
    sink: Sink, capsys: pytest.CaptureFixture[str]
) -> None:
    sink.statuses = [503, 503, 503]
    assert main(["notify", "--status", "Failed", "--webhook-url", sink.url]) == 0
    assert len(sink.requests) == notify.ATTEMPTS
    assert "gave up after 3 attempts" in capsys.readouterr().err


def test_a_transient_failure_then_delivery(sink: Sink) -> None:
    sink.statuses = [502]
    assert main(["notify", "--status", "Succeeded", "--webhook-url", sink.url]) == 0
    assert len(sink.requests) == 2


def test_a_refusal_is_not_retried(sink: Sink, capsys: pytest.CaptureFixture[str]) -> None:
    sink.statuses = [404]
    assert main(["notify", "--status", "Failed", "--webhook-url", sink.url]) == 0
    assert len(sink.requests) == 1
    assert "refused it with 404" in capsys.readouterr().err


def test_an_unreachable_webhook_is_given_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(notify, "BACKOFF_S", 0.01)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["notify", "--status", "Failed", "--webhook-url", f"http://127.0.0.1:{port}/"]) == 0
    assert "cannot reach" in capsys.readouterr().err


def test_garbage_pull_request_target_is_a_usage_error(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(notify.AUTH_ENV, "Bearer x")
    args = [
        "notify",
        "--status",
        "Failed",
        "--repository",
        "no-slash",
        "--pr-number",
        "x1",
        "--github-api",
        sink.url,
    ]
    assert main(args) == 2
    assert sink.requests == []
