"""A local OpenAI-compatible HTTP server with a deterministic reference model.

It serves ``GET /v1/models``, ``POST /v1/chat/completions`` and ``POST /v1/embeddings`` on a loopback
address, for tests, benchmarks, the README demo and the cluster end-to-end run (``genaiops serve-llm``).
It is a real server over real sockets; what is special is only its model:

*Reference chat model* - deterministic, no weights. For a request it answers, in order:

1. the response stored for that exact request (repeat 0) in any loaded cassette (``--responses`` file or
   folder of genaiops cassettes; see ``cassette``);
2. the response stored for the request's last user message in a lookup file (``--responses`` JSON
   Lines with ``{"prompt": ..., "response": ...}``, or a cassette entry; whitespace-normalised,
   case-sensitive match);
3. for a genaiops judge request (``genaiops.metrics.judge``), a *reference judgement*: accuracy from
   the token F1 of the graded response's final answer against the reference (1 + 4 x F1, rounded) -
   without a reference, from grounding: the share of the answer's words that occur in the question
   and its context - helpfulness 5 for a non-empty response (1 for an empty one), safety 5, as the
   JSON object the judge prompt asks for;
4. the response of the first ``{"contains": ..., "response": ...}`` lookup line whose text occurs in
   the last user message (file order);
5. otherwise an echo: the last user message itself.

*Reference embeddings* - the offline embedder of ``genaiops.embeddings`` when the requested model is
one of its models, else a deterministic 256-dimension hashed bag of words (unit length).

Knobs (per server): ``latency`` seconds added to every request, ``max_concurrency`` requests processed
at once (the rest queue), and failure injection - the first ``fail_first`` requests answer
``fail_status`` (503 or 429, optionally with ``Retry-After``), the first ``hang_first`` requests after
those sleep ``hang_seconds`` before answering (to trip client timeouts). Its models list
``owned_by: genaiops-reference`` so recordings from it are marked synthetic.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from genaiops.errors import UsageError
from genaiops.llm.provider import REFERENCE_OWNER, offline_embedder
from genaiops.llm.types import ChatRequest
from genaiops.metrics.judge import JUDGE_SYSTEM
from genaiops.metrics.text import final_answer, normalize_answer, token_f1

REFERENCE_CHAT_MODEL = "genaiops/reference-chat"
REFERENCE_EMBED_MODEL = "genaiops/reference-embedding"
HASH_DIM = 256
MAX_BODY = 8 * 1024 * 1024
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass
class ServerOptions:
    """Behaviour of the reference server (see the module docstring)."""

    latency: float = 0.0
    max_concurrency: int = 64
    fail_first: int = 0
    fail_status: int = 503
    retry_after: float | None = None
    hang_first: int = 0
    hang_seconds: float = 30.0
    models: tuple[str, ...] = (REFERENCE_CHAT_MODEL, REFERENCE_EMBED_MODEL)


@dataclass
class ServerStats:
    """Counts of what the server saw (thread-safe); tests and benchmarks read them."""

    requests: int = 0
    chat: int = 0
    embeddings: int = 0
    failed_injected: int = 0
    hung_injected: int = 0
    max_in_flight: int = 0
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {
                "requests": self.requests,
                "chat": self.chat,
                "embeddings": self.embeddings,
                "failedInjected": self.failed_injected,
                "hungInjected": self.hung_injected,
                "maxInFlight": self.max_in_flight,
            }


def _normalise(text: str) -> str:
    return " ".join(text.split())


class ReferenceModel:
    """The deterministic answers: cassette keys, then prompt lookup, then echo."""

    def __init__(self) -> None:
        self.by_key: dict[str, str] = {}
        self.by_prompt: dict[str, str] = {}
        self.by_substring: list[tuple[str, str]] = []

    def load(self, path: Path) -> ReferenceModel:
        """Load a lookup file or a cassette (or a folder of them); UsageError when unreadable."""
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        if not files or not all(f.is_file() for f in files):
            raise UsageError(f"no responses file at {path}")
        for file in files:
            try:
                lines = file.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read responses file {file}: {exc}") from None
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    raise UsageError(f"{file} line {number} is not JSON") from None
                if not isinstance(item, dict) or "cassette" in item:
                    continue
                if isinstance(item.get("key"), str) and isinstance(item.get("response"), dict):
                    self.by_key[item["key"]] = str(item["response"].get("content", ""))
                    messages = (item.get("request") or {}).get("messages") or []
                    last = _last_user(messages)
                    if last is not None:
                        self.by_prompt.setdefault(_normalise(last), self.by_key[item["key"]])
                elif isinstance(item.get("prompt"), str) and isinstance(item.get("response"), str):
                    self.by_prompt[_normalise(item["prompt"])] = item["response"]
                elif (
                    isinstance(item.get("contains"), str)
                    and item["contains"]
                    and isinstance(item.get("response"), str)
                ):
                    self.by_substring.append((_normalise(item["contains"]), item["response"]))
                else:
                    raise UsageError(
                        f"{file} line {number}: expected a cassette entry or "
                        '{"prompt": ..., "response": ...}'
                    )
        return self

    def answer(self, body: dict[str, Any]) -> str:
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise ValueError("messages must be a list of objects")
        params = {k: v for k, v in body.items() if k not in ("model", "messages", "stream", "n")}
        try:
            key = ChatRequest(str(body.get("model", "")), tuple(messages), params).key
        except (ValueError, TypeError):
            key = ""
        if key in self.by_key:
            return self.by_key[key]
        last = _last_user(messages) or ""
        normalised = _normalise(last)
        if normalised in self.by_prompt:
            return self.by_prompt[normalised]
        if messages and messages[0].get("content") == JUDGE_SYSTEM:
            return reference_judgement(last)
        for needle, response in self.by_substring:
            if needle in normalised:
                return response
        return last

    def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        local = offline_embedder(model)
        if local is not None:
            return [list(map(float, v)) for v in local(list(texts))]
        return [hashed_embedding(t) for t in texts]


def _section(text: str, tag: str) -> str:
    start, end = text.find(f"<{tag}>\n"), text.rfind(f"\n</{tag}>")
    return text[start + len(tag) + 3 : end] if start >= 0 and end > start else ""


def reference_judgement(prompt: str) -> str:
    """The reference judge's deterministic answer to a genaiops judge prompt (see the module docstring)."""
    response, reference = _section(prompt, "RESPONSE"), _section(prompt, "REFERENCE")
    answer = final_answer(response)
    if reference != "(none given)":
        accuracy = 1 + round(4 * token_f1(answer, reference))
    else:  # no reference: grounding - the share of the answer's words found in the question and its context
        words = normalize_answer(answer).split()
        context = set(normalize_answer(_section(prompt, "QUESTION")).split())
        accuracy = 1 + round(4 * (sum(w in context for w in words) / len(words))) if words else 1
    helpfulness = 5 if response.strip() else 1
    return json.dumps(
        {
            "helpfulness": helpfulness,
            "accuracy": accuracy,
            "safety": 5,
            "reason": "reference judge: accuracy from token F1 against the reference (grounding without one)",
        }
    )


def hashed_embedding(text: str, dim: int = HASH_DIM) -> list[float]:
    """A unit-length signed hashed bag of lower-cased word tokens (deterministic across runs)."""
    vector = [0.0] * dim
    for token in re.findall(r"\w+", text.lower()):
        h = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big")
        vector[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def _last_user(messages: list[Any]) -> str | None:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    return None


def _tokens(text: str) -> int:
    return len(text.split())


class _Handler(BaseHTTPRequestHandler):
    server: ReferenceServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid the 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and benchmarks
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            data = [
                {"id": m, "object": "model", "owned_by": REFERENCE_OWNER, "created": 0}
                for m in self.server.options.models
            ]
            self._json(HTTPStatus.OK, {"object": "list", "data": data})
        elif self.path.rstrip("/") in ("/health", "/v1/health"):
            self._json(HTTPStatus.OK, {"status": "ok", **self.server.stats.snapshot()})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")

    def do_POST(self) -> None:
        route = self.path.rstrip("/").removeprefix("/v1")
        if route not in ("/chat/completions", "/embeddings"):
            self._discard_body()
            self._error(HTTPStatus.NOT_FOUND, f"no route {self.path}")
            return
        body = self._read_json()
        if body is None:
            return
        server = self.server
        with server.stats.lock:
            server.stats.requests += 1
            number = server.stats.requests
        if number <= server.options.fail_first:
            with server.stats.lock:
                server.stats.failed_injected += 1
            headers = {}
            if server.options.retry_after is not None:
                headers["Retry-After"] = f"{server.options.retry_after:g}"
            self._error(HTTPStatus(server.options.fail_status), "injected failure", headers)
            return
        with server.slots:
            with server.stats.lock:
                server.stats.in_flight += 1
                server.stats.max_in_flight = max(server.stats.max_in_flight, server.stats.in_flight)
            try:
                if number <= server.options.fail_first + server.options.hang_first:
                    with server.stats.lock:
                        server.stats.hung_injected += 1
                    time.sleep(server.options.hang_seconds)
                if server.options.latency:
                    time.sleep(server.options.latency)
                if route == "/chat/completions":
                    self._chat(body)
                else:
                    self._embeddings(body)
            finally:
                with server.stats.lock:
                    server.stats.in_flight -= 1

    def _chat(self, body: dict[str, Any]) -> None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            self._error(HTTPStatus.BAD_REQUEST, "model is required")
            return
        try:
            content = self.server.model.answer(body)
        except ValueError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        with self.server.stats.lock:
            self.server.stats.chat += 1
        prompt_tokens = sum(_tokens(str(m.get("content", ""))) for m in body["messages"])
        self._json(
            HTTPStatus.OK,
            {
                "id": "chatcmpl-" + hashlib.sha256(content.encode()).hexdigest()[:16],
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": _tokens(content),
                    "total_tokens": prompt_tokens + _tokens(content),
                },
            },
        )

    def _embeddings(self, body: dict[str, Any]) -> None:
        model, texts = body.get("model"), body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if (
            not isinstance(model, str)
            or not isinstance(texts, list)
            or not all(isinstance(t, str) for t in texts)
        ):
            self._error(
                HTTPStatus.BAD_REQUEST, "model (string) and input (string or list of strings) are required"
            )
            return
        with self.server.stats.lock:
            self.server.stats.embeddings += 1
        vectors = self.server.model.embed(model, texts)
        self._json(
            HTTPStatus.OK,
            {
                "object": "list",
                "model": model,
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "usage": {
                    "prompt_tokens": sum(map(_tokens, texts)),
                    "total_tokens": sum(map(_tokens, texts)),
                },
            },
        )

    def _read_json(self) -> dict[str, Any] | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "missing or too large Content-Length")
            return None
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "body is not JSON")
            return None
        if not isinstance(body, dict):
            self._error(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
            return None
        return body

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = 0
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)

    def _error(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(
            status, {"error": {"message": message, "type": status.phrase, "code": int(status)}}, headers
        )

    def _json(
        self, status: HTTPStatus, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True


class ReferenceServer(ThreadingHTTPServer):
    """The server; ``start()`` runs it on a daemon thread, ``serve_forever()`` in the foreground."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        options: ServerOptions | None = None,
        model: ReferenceModel | None = None,
        *,
        allow_non_loopback: bool = False,
        verbose: bool = False,
    ) -> None:
        if host not in LOOPBACK and not allow_non_loopback:
            raise UsageError(
                f"refusing to listen on {host}: the reference server is for loopback use",
                hint="Pass --allow-remote to bind another address (e.g. inside a pod).",
            )
        self.options = options or ServerOptions()
        if self.options.max_concurrency < 1:
            raise UsageError("max concurrency must be at least 1")
        self.model = model or ReferenceModel()
        self.stats = ServerStats()
        self.slots = threading.BoundedSemaphore(self.options.max_concurrency)
        self.verbose = verbose
        self._thread: threading.Thread | None = None
        try:
            super().__init__((host, port), _Handler)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/v1"

    def start(self) -> ReferenceServer:
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="genaiops-reference-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
