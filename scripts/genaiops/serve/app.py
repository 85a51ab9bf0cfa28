"""The HTTP front of `genaiops serve`: a WSGI application served by waitress (genaiops.serve.command).

Routes (docs/serving.md):

=======================  ====================================================================
``GET /health``          200 when every required artifact is loaded and valid, else 503; the JSON
                         body lists each artifact's status, version, digest and problems
``GET /livez``           200 while the process runs (liveness, independent of the artifacts)
``GET /metrics``         Prometheus text format (``metrics.ServingMetrics``)
``POST /v1/generate``    ``{"variables": {...}}``: input guardrail, render the prompt, call the model
                         (with the model config when this pod has one, else the prompt's
                         ``model_config`` id goes upstream to the model tier), output guardrail
``POST /v1/chat/completions``  OpenAI-compatible, for pods serving a model config: the config's model
                         and sampling parameters replace the caller's, with its fallback model
=======================  ====================================================================

With a bearer token configured, the two POST routes answer 401 unless the request carries
``Authorization: Bearer <token>`` (compared in constant time); health, liveness and metrics stay open
to the kubelet, the rollout analyses and Prometheus. Bodies over ``MAX_BODY_BYTES`` are refused (413)
before they are read; the server's thread pool bounds concurrency and its channel timeout drops idle or
slow clients (genaiops.serve.command).
"""

from __future__ import annotations

import hmac
import json
import sys
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from genaiops.serve.metrics import CONTENT_TYPE
from genaiops.serve.service import RequestFailed, Service

MAX_BODY_BYTES = 1_000_000
StartResponse = Callable[..., Any]
POST_ROUTES = {
    "/v1/generate": ("generate", ("prompt", "guardrail", "model-config")),
    "/v1/chat/completions": ("chat", ("model-config", "guardrail")),
}
"""path -> (Service method, the kinds whose metrics count the request)."""


class ServeApp:
    """The WSGI application: routing, auth, body limits and JSON answers around a Service."""

    def __init__(self, service: Service, token: str | None = None, verbose: bool = False) -> None:
        self.service = service
        self.token = token.encode() if token else None
        self.verbose = verbose

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        if method in ("GET", "HEAD"):
            status, payload, content_type = self._get(path)
        elif method == "POST":
            status, payload, content_type = self._post(path, environ)
        else:
            status, payload, content_type = _json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"no {method}"})
        headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
        if status == HTTPStatus.UNAUTHORIZED:
            headers.append(("WWW-Authenticate", 'Bearer realm="genaiops-serve"'))
        start_response(f"{status.value} {status.phrase}", headers)
        if self.verbose:
            sys.stderr.write(f"{method} {path} {status.value}\n")
        return [b"" if method == "HEAD" else payload]

    def _get(self, path: str) -> tuple[HTTPStatus, bytes, str]:
        if path == "/health":
            ready, body = self.service.health()
            return _json(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, body)
        if path == "/livez":
            return _json(HTTPStatus.OK, {"status": "alive"})
        if path == "/metrics":
            return HTTPStatus.OK, self.service.metrics.exposition(), CONTENT_TYPE
        return _json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})

    def _authorized(self, environ: dict[str, Any]) -> bool:
        if self.token is None:
            return True
        scheme, _, given = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token)

    def _post(self, path: str, environ: dict[str, Any]) -> tuple[HTTPStatus, bytes, str]:
        if path not in POST_ROUTES:
            return _json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})
        method, kinds = POST_ROUTES[path]
        started = time.perf_counter()
        outcome, status, data = "ok", HTTPStatus.OK, {}
        try:
            if not self._authorized(environ):
                raise RequestFailed(HTTPStatus.UNAUTHORIZED, "rejected", "a bearer token is required")
            body = _read_json(environ)
            if not self.service.ready:
                raise RequestFailed(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "error",
                    "artifacts not loaded",
                    {"health": self.service.health()[1]},
                )
            data = getattr(self.service, method)(body)
        except RequestFailed as exc:
            outcome, status, data = exc.outcome, exc.status, {"error": str(exc), **exc.extra}
        except Exception as exc:  # never a traceback to the caller; counted as an error
            outcome, status, data = (
                "error",
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error": f"internal error: {exc}"},
            )
        involved = [
            (a.ref.kind, a.ref.id, a.version) for a in self.service.loaded.values() if a.ref.kind in kinds
        ]
        self.service.metrics.observe(involved, outcome, time.perf_counter() - started)
        return _json(status, data)


def _read_json(environ: dict[str, Any]) -> Any:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise RequestFailed(HTTPStatus.BAD_REQUEST, "rejected", "bad Content-Length") from None
    if length > MAX_BODY_BYTES or length < 0:
        raise RequestFailed(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "rejected", "body too large")
    try:
        return json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise RequestFailed(HTTPStatus.BAD_REQUEST, "rejected", "the body is not JSON") from None


def _json(status: HTTPStatus, data: Any) -> tuple[HTTPStatus, bytes, str]:
    return status, (json.dumps(data) + "\n").encode(), "application/json"
