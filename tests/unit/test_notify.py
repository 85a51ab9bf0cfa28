"""`genaiops notify` against a real HTTP sink on loopback: the webhook and pull-request bodies, the
authorization header, best-effort delivery (a refusal or an outage never fails the step), the summary
assembled from a scorecard directory, and the one marked comment per key updated in place."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from genaiops import notify
from genaiops.cli import main


class Sink:
    """A loopback webhook and GitHub issue-comment API; records every request.

    POST stores a comment (id, body) when the path ends in /comments; GET lists the stored comments
    ``page_size`` at a time with a GitHub-style Link header (``link_base`` is the host it points to);
    PATCH .../issues/comments/ID updates one. Each request first takes the next queued status, if any:
    an error status (>= 300) is answered without doing anything.
    """

    def __init__(self, page_size: int = 2) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.comments: list[dict[str, Any]] = []
        self.page_size = page_size
        self.ids = itertools.count(1)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _take(self, method: str, default: int) -> tuple[int, Any]:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw) if raw else None
                sink.requests.append(
                    {"method": method, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                return (sink.statuses.pop(0) if sink.statuses else default), body

            def _answer(self, status: int, payload: Any = None, link: str = "") -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if link:
                    self.send_header("Link", link)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                status, body = self._take("POST", 201)
                if status >= 300 or not self.path.endswith("/comments"):
                    return self._answer(status)
                comment = {"id": next(sink.ids), "body": body["body"]}
                sink.comments.append(comment)
                self._answer(status, comment)

            def do_GET(self) -> None:
                status, _ = self._take("GET", 200)
                if status >= 300:
                    return self._answer(status)
                url = urlsplit(self.path)
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                size = sink.page_size
                last = max(1, -(-len(sink.comments) // size))
                link = ""
                if page < last:
                    base = f"{sink.link_base}{url.path}?per_page=100"
                    link = f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
                items = [dict(c) for c in sink.comments[(page - 1) * size : page * size]]
                self._answer(status, items, link)

            def do_PATCH(self) -> None:
                status, body = self._take("PATCH", 200)
                wanted = int(self.path.rsplit("/", 1)[1])
                comment = next((c for c in sink.comments if c["id"] == wanted), None)
                if status >= 300 or comment is None:
                    return self._answer(status if status >= 300 else 404)
                comment["body"] = body["body"]
                self._answer(status, comment)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.link_base = self.url
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def seed(self, *bodies: str) -> None:
        """Comments already on the pull request (ids 1, 2, ...)."""
        self.comments += [{"id": next(self.ids), "body": body} for body in bodies]

    def methods(self) -> list[str]:
        return [r["method"] for r in self.requests]

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
    assert sink.methods() == ["POST", "POST"], "without --comment-key nothing is listed or updated"
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


MARKER = "<!-- genaiops:prompt-ci -->"


def comment_run(sink: Sink, summary: str, *extra: str, key: str = "prompt-ci") -> int:
    """`genaiops notify` for pull request o/r#7 on the sink (authorization set by the caller)."""
    args = ["notify", "--status", "Failed", "--summary", summary, "--workflow", "prompt-ci-x7k2p"]
    args += ["--repository", "o/r", "--pr-number", "7", "--github-api", sink.url, "--comment-key", key]
    return main([*args, *extra])


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(notify.AUTH_ENV, "Bearer secret-token")


@pytest.mark.usefixtures("token")
def test_a_comment_key_creates_one_marked_comment(sink: Sink) -> None:
    assert comment_run(sink, "first") == 0
    assert sink.methods() == ["GET", "POST"]
    listing = sink.requests[0]
    assert listing["path"] == "/repos/o/r/issues/7/comments?per_page=100"
    assert listing["headers"]["Authorization"] == "Bearer secret-token"
    assert listing["headers"]["Accept"] == "application/vnd.github+json"
    assert sink.comments == [{"id": 1, "body": f"{MARKER}\n### genaiops `prompt-ci-x7k2p`: Failed\n\nfirst"}]


@pytest.mark.usefixtures("token")
def test_the_next_run_updates_the_same_comment(sink: Sink) -> None:
    assert comment_run(sink, "first push") == 0
    sink.requests.clear()
    assert comment_run(sink, "second push") == 0
    assert sink.methods() == ["GET", "PATCH"]
    update = sink.requests[1]
    assert update["path"] == "/repos/o/r/issues/comments/1"
    assert update["headers"]["Authorization"] == "Bearer secret-token"
    [only] = sink.comments
    assert only["id"] == 1
    assert only["body"].startswith(f"{MARKER}\n")
    assert only["body"].endswith("second push")
    assert "first push" not in only["body"]


@pytest.mark.usefixtures("token")
def test_comments_of_other_keys_and_people_are_left_alone(sink: Sink) -> None:
    others = ["LGTM", "<!-- genaiops:prompt-ci-nightly -->\nnightly", "see <!-- genaiops:rag-ci --> too"]
    sink.seed(*others)
    assert comment_run(sink, "mine") == 0
    assert sink.methods() == ["GET", "GET", "POST"]
    assert [c["body"] for c in sink.comments[:3]] == others
    assert len(sink.comments) == 4
    assert sink.comments[3]["body"].startswith(MARKER)


@pytest.mark.usefixtures("token")
def test_the_newest_marked_comment_on_a_later_page_is_updated(sink: Sink) -> None:
    sink.seed("LGTM", f"{MARKER}\nold", "nit", "question", f"{MARKER}\nnewer", "thanks")
    assert comment_run(sink, "latest") == 0
    pages = [r["path"] for r in sink.requests if r["method"] == "GET"]
    assert pages == [
        "/repos/o/r/issues/7/comments?per_page=100",
        "/repos/o/r/issues/7/comments?per_page=100&page=2",
        "/repos/o/r/issues/7/comments?per_page=100&page=3",
    ]
    assert sink.methods()[3:] == ["PATCH"]
    assert sink.requests[3]["path"] == "/repos/o/r/issues/comments/5"
    assert sink.comments[4]["body"].endswith("latest")
    assert sink.comments[1]["body"] == f"{MARKER}\nold"
    assert len(sink.comments) == 6


@pytest.mark.usefixtures("token")
def test_listing_that_keeps_failing_gives_up_without_posting(
    sink: Sink, capsys: pytest.CaptureFixture[str]
) -> None:
    sink.statuses = [500, 500, 500]
    assert comment_run(sink, "summary") == 0
    assert sink.methods() == ["GET"] * notify.ATTEMPTS
    assert sink.comments == []
    err = capsys.readouterr().err
    assert "gave up after 3 attempts" in err
    assert "warning: pull-request comment: not posted" in err


@pytest.mark.usefixtures("token")
def test_a_refused_listing_posts_nothing(sink: Sink, capsys: pytest.CaptureFixture[str]) -> None:
    sink.statuses = [403]
    assert comment_run(sink, "summary") == 0
    assert sink.methods() == ["GET"]
    assert "not posted" in capsys.readouterr().err


@pytest.mark.usefixtures("token")
def test_transient_listing_and_update_failures_are_retried(sink: Sink) -> None:
    sink.seed(f"{MARKER}\nold")
    sink.statuses = [502, 200, 503]
    assert comment_run(sink, "new") == 0
    assert sink.methods() == ["GET", "GET", "PATCH", "PATCH"]
    [only] = sink.comments
    assert only["body"].endswith("new")


@pytest.mark.usefixtures("token")
def test_a_marked_comment_deleted_meanwhile_is_replaced(sink: Sink) -> None:
    sink.seed(f"{MARKER}\nold")
    sink.statuses = [200, 404]
    assert comment_run(sink, "new") == 0
    assert sink.methods() == ["GET", "PATCH", "POST"]
    assert sink.comments[-1]["body"].endswith("new")


@pytest.mark.usefixtures("token")
def test_listing_stops_after_max_pages(
    sink: Sink, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(notify, "MAX_PAGES", 2)
    sink.seed("a", "b", "c", "d", f"{MARKER}\nbeyond the cut")
    assert comment_run(sink, "new") == 0
    assert sink.methods() == ["GET", "GET", "POST"]
    assert "stopped after 2 pages" in capsys.readouterr().err


@pytest.mark.usefixtures("token")
def test_a_next_page_on_another_host_is_not_followed(sink: Sink, capsys: pytest.CaptureFixture[str]) -> None:
    sink.link_base = sink.url.replace("127.0.0.1", "localhost")
    sink.seed("a", "b", f"{MARKER}\nold")
    assert comment_run(sink, "new") == 0
    assert sink.methods() == ["GET"], "the token is not sent to another host, and nothing is posted"
    assert "another host" in capsys.readouterr().err


@pytest.mark.usefixtures("token")
def test_an_empty_comment_key_always_posts(sink: Sink) -> None:
    sink.seed(f"{MARKER}\nold")
    assert comment_run(sink, "new", key="") == 0
    assert sink.methods() == ["POST"]
    assert sink.comments[-1]["body"] == "### genaiops `prompt-ci-x7k2p`: Failed\n\nnew"


@pytest.mark.usefixtures("token")
@pytest.mark.parametrize("key", ["prompt ci", "ci-->", "a/b", "ci\n", "prompt.ci"])
def test_a_bad_comment_key_is_a_usage_error_before_anything_is_sent(sink: Sink, key: str) -> None:
    assert comment_run(sink, "summary", "--webhook-url", f"{sink.url}/hook", key=key) == 2
    assert sink.requests == []


def hook_text(sink: Sink, *args: str) -> str:
    """The webhook text of `genaiops notify --status Succeeded --workflow w ARGS`."""
    assert main(["notify", "--status", "Succeeded", "--workflow", "w", "--webhook-url", sink.url, *args]) == 0
    [hook] = sink.requests
    return str(hook["body"]["text"])


def test_summary_dir_joins_the_scorecards_in_name_order(
    sink: Sink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in [("c.md", "# c\n"), ("a.md", "\n# a\n\n"), ("b.md", "# b"), ("notes.txt", "no")]:
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "bad.md").write_bytes(b"# \xff\xfe latin-1 \xe9\n")
    (tmp_path / "nested.md").mkdir()
    (tmp_path / "nested.md" / "d.md").write_text("# d", encoding="utf-8")
    text = hook_text(sink, "--summary", "2 artifacts evaluated\n", "--summary-dir", str(tmp_path))
    assert text == "genaiops w: Succeeded\n2 artifacts evaluated\n\n# a\n\n# b\n\n# c"
    err = capsys.readouterr().err
    assert f"warning: skipped {tmp_path / 'bad.md'}: not UTF-8" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("make", ["missing", "empty", "only-unreadable"])
def test_summary_dir_without_a_scorecard_says_so(sink: Sink, tmp_path: Path, make: str) -> None:
    directory = tmp_path / "scorecards"
    if make != "missing":
        directory.mkdir()
        (directory / "report.json").write_text("{}", encoding="utf-8")
    if make == "only-unreadable":
        (directory / "x.md").write_bytes(b"\xff")
    text = hook_text(sink, "--summary", "lint failed", "--summary-dir", str(directory))
    assert text == f"genaiops w: Succeeded\nlint failed\n\n{notify.NO_SCORECARD}"


def test_the_summary_cut_applies_to_the_scorecards_too(
    sink: Sink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "MAX_SUMMARY", 30)
    (tmp_path / "a.md").write_text("x" * 100, encoding="utf-8")
    text = hook_text(sink, "--summary", "head", "--summary-dir", str(tmp_path))
    assert text == "genaiops w: Succeeded\nhead\n\n" + "x" * 24 + "\n\n(truncated)"
