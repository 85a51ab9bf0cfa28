"""The e2e users (scripts/genaiops_e2e/traffic.py): each request's outcome as the per-minute report counts
it, against a real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from genaiops_e2e import traffic


class _Gateway(BaseHTTPRequestHandler):
    """Answers like the serving gateway: 200, or the status named in the request's variables."""

    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test's output."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = int(body["variables"].get("status", 200))
        self.server.bodies.append(body)  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def gateway() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _body(status: int) -> bytes:
    return json.dumps({"variables": {"status": status}}).encode()


def test_outcomes_are_ok_the_status_or_unreachable(gateway: ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{gateway.server_address[1]}/v1/generate"
    assert traffic.send(url, _body(200), timeout=5) == "ok"
    assert traffic.send(url, _body(403), timeout=5) == "403"
    assert traffic.send(url, _body(500), timeout=5) == "500"
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    assert traffic.send(f"http://127.0.0.1:{closed}/v1/generate", _body(200), timeout=5) == "unreachable"
    assert [b["variables"]["status"] for b in gateway.bodies] == [200, 403, 500]  # type: ignore[attr-defined]


def test_a_body_that_is_not_json_is_refused_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        traffic.main(["--target", "http://127.0.0.1:9/v1/generate", "--body", "{not json"])
    assert exit_.value.code == 2 and "--body is not JSON" in capsys.readouterr().err
