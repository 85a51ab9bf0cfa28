"""The e2e HTTP sink: plays the GitHub REST API's issue comments and the team webhook, and records both.

Test infrastructure (the suite's stand-in for github.com and a chat webhook), run in the e2e cluster from
the pipeline image with nothing but the standard library: ``python http_sink.py --port 8090 --token T``.

- ``GET  /repos/{owner}/{name}/issues/{n}/comments`` lists that pull request's comments (``per_page``,
  ``page`` and a ``Link: rel="next"`` header as GitHub pages them).
- ``POST`` to the same path creates a comment; ``PATCH /repos/{owner}/{name}/issues/comments/{id}``
  updates one. These three need ``Authorization: Bearer <token>``; anything else is answered 401.
- ``POST`` to any other path is a webhook delivery: its JSON body is recorded.
- ``GET /_records`` returns everything: the comments per pull request, the deliveries, and one line per
  request (method, path, its Authorization header and whether that was the token), for the test to
  assert on.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

COMMENTS = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
COMMENT = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
MAX_BODY = 1 << 20


class Records:
    """What the sink has been sent; one lock for all of it (requests are handled on threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.comments: dict[str, list[dict[str, Any]]] = {}
        """``owner/name#n`` -> comments in creation order, each ``{id, body, updates}``."""
        self.deliveries: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.next_id = 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            everything = {"comments": self.comments, "deliveries": self.deliveries, "requests": self.requests}
            return json.loads(json.dumps(everything))


def make_handler(records: Records, token: str) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``records``; the comments API wants ``Bearer <token>``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "genaiops-e2e-sink"

        def _reply(self, status: int, payload: object = None, headers: dict[str, str] | None = None) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw or b"null")
            except ValueError:
                return {"unparsed": raw.decode(errors="replace")}

        def _note(self, authorized: bool) -> None:
            """One line per request, with the Authorization header as sent (a test looks for leaked keys)."""
            entry = {
                "method": self.command,
                "path": self.path,
                "authorized": authorized,
                "authorization": self.headers.get("Authorization", ""),
            }
            with records.lock:
                records.requests.append(entry)

        def _authorized(self) -> bool:
            return bool(token) and self.headers.get("Authorization") == f"Bearer {token}"

        def _comment_text(self, authorized: bool, body: Any) -> str | None:
            """The comment's text for a create or an update; None once refused (401, or 422 without one)."""
            if not authorized:
                self._reply(401, {"message": "Bad credentials"})
                return None
            text = body.get("body") if isinstance(body, dict) else None
            if not isinstance(text, str):
                self._reply(422, {"message": "body is required"})
                return None
            return text

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/_records":
                self._reply(200, records.snapshot())
                return
            authorized = self._authorized()
            self._note(authorized)
            match = COMMENTS.match(url.path)
            if not match:
                self._reply(404, {"message": "Not Found"})
                return
            if not authorized:
                self._reply(401, {"message": "Bad credentials"})
                return
            query = parse_qs(url.query)
            per_page = max(1, min(int((query.get("per_page") or ["30"])[0]), 100))
            page = max(1, int((query.get("page") or ["1"])[0]))
            with records.lock:
                listed = list(records.comments.get(f"{match.group(1)}#{match.group(2)}", []))
            chunk = listed[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(listed):
                host = self.headers.get("Host", "localhost")
                headers["Link"] = f'<http://{host}{url.path}?per_page={per_page}&page={page + 1}>; rel="next"'
            self._reply(200, [{"id": c["id"], "body": c["body"]} for c in chunk], headers)

        def do_POST(self) -> None:
            body = self._body()
            url = urlsplit(self.path)
            match = COMMENTS.match(url.path)
            authorized = self._authorized()
            self._note(authorized)
            if not match:
                with records.lock:
                    records.deliveries.append({"path": url.path, "body": body})
                self._reply(200, {"ok": True})
                return
            if (text := self._comment_text(authorized, body)) is None:
                return
            with records.lock:
                comment = {"id": records.next_id, "body": text, "updates": 0}
                records.next_id += 1
                records.comments.setdefault(f"{match.group(1)}#{match.group(2)}", []).append(comment)
            self._reply(201, {"id": comment["id"], "body": text})

        def do_PATCH(self) -> None:
            body = self._body()
            match = COMMENT.match(urlsplit(self.path).path)
            authorized = self._authorized()
            self._note(authorized)
            if not match:
                self._reply(404, {"message": "Not Found"})
                return
            if (text := self._comment_text(authorized, body)) is None:
                return
            wanted = int(match.group(2))
            with records.lock:
                for key, comments in records.comments.items():
                    if not key.startswith(f"{match.group(1)}#"):
                        continue  # another repository's pull requests
                    for comment in comments:
                        if comment["id"] == wanted:
                            comment["body"] = text
                            comment["updates"] += 1
                            self._reply(200, {"id": wanted, "body": text})
                            return
            self._reply(404, {"message": "Not Found"})

        def log_message(self, format: str, *args: object) -> None:
            """No access log: ``/_records`` is the record."""

    return Handler


def serve(port: int, token: str, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """A sink listening on ``host:port`` (0: any free port), not yet serving."""
    return ThreadingHTTPServer((host, port), make_handler(Records(), token))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--token", default="", help="the Bearer token the comments API accepts")
    args = parser.parse_args(argv)
    server = serve(args.port, args.token)
    print(f"genaiops e2e HTTP sink (GitHub comments API and webhook stand-in) on :{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
