"""The e2e HTTP sink (the suite's GitHub comments API and team webhook) speaks what `genaiops notify` needs:
a real notify run creates one comment, a second updates it in place, the webhook delivery is recorded, and
the comments API refuses a missing or wrong token."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from genaiops import notify
from genaiops.cli import main
from genaiops_e2e.http_sink import serve

TOKEN = "t0ken"


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(notify, "BACKOFF_S", 0.01)
    server = serve(0, TOKEN, host="127.0.0.1")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _records(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/_records", timeout=10) as response:
        return dict(json.load(response))


def _notify(url: str, status: str, summary: str) -> int:
    return main(
        [
            "notify",
            "--status",
            status,
            "--summary",
            summary,
            "--workflow",
            "pr-ci-abc",
            "--webhook-url",
            f"{url}/webhook",
            "--repository",
            "ml-platform/genai-platform",
            "--pr-number",
            "7",
            "--comment-key",
            "scorecard",
            "--github-api",
            url,
        ]
    )


def test_notify_keeps_one_comment_on_the_sink(sink: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAIOPS_GITHUB_AUTHORIZATION", f"Bearer {TOKEN}")
    assert _notify(sink, "Failed", "first run") == 0
    assert _notify(sink, "Succeeded", "second run") == 0
    records = _records(sink)
    [comment] = records["comments"]["ml-platform/genai-platform#7"]  # type: ignore[index]
    assert comment["updates"] == 1
    assert "<!-- genaiops:scorecard -->" in comment["body"] and "second run" in comment["body"]
    assert "first run" not in comment["body"]
    deliveries = records["deliveries"]
    assert [d["path"] for d in deliveries] == ["/webhook", "/webhook"]  # type: ignore[union-attr]
    assert all(r["authorized"] for r in records["requests"] if "/issues/" in r["path"])  # type: ignore[union-attr]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong"])
def test_the_comments_api_wants_the_token(sink: str, authorization: str | None) -> None:
    request = urllib.request.Request(
        f"{sink}/repos/o/n/issues/1/comments",
        data=json.dumps({"body": "x"}).encode(),
        method="POST",
        headers={"Authorization": authorization} if authorization else {},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert _records(sink)["comments"] == {}


def test_a_comment_is_updated_only_through_its_own_repository(sink: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: str) -> int:
        request = urllib.request.Request(
            f"{sink}{path}", data=json.dumps({"body": body}).encode(), method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert call("POST", "/repos/o/n/issues/3/comments", "mine") == 201
    assert call("PATCH", "/repos/other/repo/issues/comments/1", "theirs") == 404
    assert call("PATCH", "/repos/o/n/issues/comments/1", "edited") == 200
    [comment] = _records(sink)["comments"]["o/n#3"]  # type: ignore[index]
    assert (comment["body"], comment["updates"]) == ("edited", 1)
