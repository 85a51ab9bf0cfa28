"""What serving does with a request, apart from HTTP: guardrail -> render -> completion, and readiness.

``Service`` holds the loaded artifacts (re-scanned while not ready) and one upstream client; ``generate``
and ``chat`` raise ``RequestFailed`` with the HTTP status and metrics outcome of anything they refuse.
The HTTP front (routes, auth, limits) is genaiops.serve.app. A caller may set only the sampling
parameters in ``CALLER_PARAMETERS`` on ``/v1/chat/completions``; the pod's model config overrides them
where it sets its own, and anything else (tools, logit_bias, response_format, a streaming request, ...)
is refused rather than passed to the model provider on the pod's credentials.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jsonschema

from genaiops import templating
from genaiops.errors import GenaiopsError
from genaiops.llm.sampling import sampling_params
from genaiops.serve.artifacts import ArtifactRef, LoadedArtifact, load
from genaiops.serve.metrics import ServingMetrics

MAX_BODY_BYTES = 1_000_000
MAX_PROMPT_CHARS = 200_000
RELOAD_INTERVAL_S = 1.0
CALLER_PARAMETERS = frozenset(
    {"temperature", "top_p", "max_tokens", "stop", "presence_penalty", "frequency_penalty", "seed", "user"}
)
"""What a caller of /v1/chat/completions may send upstream besides model and messages."""
ROLES = frozenset({"system", "user", "assistant"})


class RequestFailed(Exception):
    """A request that ends with an HTTP error status; ``outcome`` is its metrics outcome."""

    def __init__(self, status: HTTPStatus, outcome: str, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.outcome = outcome
        self.extra = extra or {}


def caller_parameters(body: Mapping[str, Any]) -> dict[str, Any]:
    """The sampling parameters of a chat request that may go upstream; RequestFailed for anything else
    (a streaming or multi-choice request, tools, logit_bias, ...)."""
    if body.get("stream") not in (None, False) or body.get("n") not in (None, 1):
        raise RequestFailed(
            HTTPStatus.BAD_REQUEST, "rejected", "only non-streaming requests for one choice are served"
        )
    refused = sorted(set(body) - CALLER_PARAMETERS - {"model", "messages", "stream", "n"})
    if refused:
        raise RequestFailed(
            HTTPStatus.BAD_REQUEST,
            "rejected",
            f"parameters not allowed: {', '.join(refused)} (allowed: {', '.join(sorted(CALLER_PARAMETERS))})",
        )
    return {k: v for k, v in body.items() if k in CALLER_PARAMETERS}


def template_context(manifest: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults of the prompt's variables, the request's values, and the prompt's examples."""
    context: dict[str, Any] = {}
    props = (manifest.get("variables") or {}).get("properties")
    if isinstance(props, Mapping):
        context.update(
            {k: v["default"] for k, v in props.items() if isinstance(v, Mapping) and "default" in v}
        )
    context.update(values)
    if isinstance(manifest.get("examples"), list):
        context["examples"] = manifest["examples"]
    return context


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class ServeConfig:
    artifacts_dir: Path
    required: list[ArtifactRef]
    upstream: str
    timeout_s: float = 30.0
    revision: str = ""
    environment: str = ""


@dataclass
class Service:
    """The loaded artifacts and what a request does with them; thread-safe."""

    config: ServeConfig
    metrics: ServingMetrics = field(init=False)
    loaded: dict[str, LoadedArtifact] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loaded_at: float = 0.0
    _client: Any = None

    def __post_init__(self) -> None:
        self.metrics = ServingMetrics(self.config.revision)
        self.reload()

    # ---- artifacts -------------------------------------------------------------------------
    def reload(self) -> None:
        fresh = {ref.key: load(ref, self.config.artifacts_dir) for ref in self.config.required}
        with self._lock:
            self.loaded = fresh
            self._loaded_at = time.monotonic()
        for item in fresh.values():
            self.metrics.set_loaded(item.ref.kind, item.ref.id, item.version, item.ok)

    @property
    def ready(self) -> bool:
        return all(item.ok for item in self.loaded.values())

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Readiness; an unready pod rescans its mounts (at most once a second) so it recovers."""
        if not self.ready and time.monotonic() - self._loaded_at >= RELOAD_INTERVAL_S:
            self.reload()
        items = [item.status() for item in self.loaded.values()]
        ready = self.ready
        body: dict[str, Any] = {"status": "ready" if ready else "not-ready", "artifacts": items}
        if self.config.environment:
            body["environment"] = self.config.environment
        if self.config.revision:  # which colour answered (the smoke test checks it is the new one)
            body["revision"] = self.config.revision
        if not ready:
            body["missing"] = [f"{i['kind']}/{i['id']}" for i in items if i["status"] == "missing"]
            body["invalid"] = [f"{i['kind']}/{i['id']}" for i in items if i["status"] == "invalid"]
        return ready, body

    def _kind(self, kind: str) -> LoadedArtifact | None:
        return next((a for a in self.loaded.values() if a.ref.kind == kind), None)

    # ---- upstream --------------------------------------------------------------------------
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from genaiops.llm.client import LLMClient
                from genaiops.llm.config import ProviderConfig

                self._client = LLMClient(
                    ProviderConfig(
                        base_url=self.config.upstream,
                        timeout_s=self.config.timeout_s,
                        max_retries=1,
                        backoff_base_s=0.1,
                        backoff_max_s=1.0,
                        max_retry_after_s=2.0,
                        concurrency=32,
                        # a new connection per request: the model tier's Service switches colours
                        reuse_connections=False,
                    )
                )
            return self._client

    def complete(
        self,
        messages: list[dict[str, str]],
        model_config: LoadedArtifact | None,
        model: str | None,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        """One completion upstream; with a model config its model and sampling win, then its fallback."""
        from genaiops.llm.types import ChatRequest

        models: list[str] = []
        if model_config is not None:
            params = {**params, **sampling_params(model_config.manifest)}
            models = [str(model_config.manifest["model_name"])]
            if model_config.manifest.get("fallback_model"):
                models.append(str(model_config.manifest["fallback_model"]))
        elif model:
            models = [model]
        if not models:
            raise RequestFailed(HTTPStatus.BAD_REQUEST, "rejected", "no model: this pod has no model config")
        last: Exception | None = None
        for name in models:
            try:
                request = ChatRequest(name, tuple(messages), params)
                response = self.client().chat(request)
                return {
                    "content": response.content,
                    "model": response.model or name,
                    "finish_reason": response.finish_reason,
                    "fallback": name != models[0],
                    "usage": {
                        "prompt_tokens": response.prompt_tokens,
                        "completion_tokens": response.completion_tokens,
                    },
                }
            except ValueError as exc:
                raise RequestFailed(HTTPStatus.BAD_REQUEST, "rejected", str(exc)) from None
            except GenaiopsError as exc:
                last = exc
        raise RequestFailed(
            HTTPStatus.BAD_GATEWAY, "error", f"upstream failed: {getattr(last, 'message', last)}"
        )

    # ---- requests --------------------------------------------------------------------------
    def _guard(self, policy: LoadedArtifact | None, text: str, stage: str) -> dict[str, Any] | None:
        if policy is None or policy.compiled is None:
            return None
        applies = policy.manifest.get("applies_to", "input")
        if applies not in (stage, "both"):
            return None
        decision = policy.compiled.evaluate(text)
        self.metrics.verdict(policy.ref.id, policy.version, decision.verdict)
        verdict = {"stage": stage, "verdict": decision.verdict, "code": decision.code, "rule": decision.rule}
        if decision.verdict == "BLOCK":
            raise RequestFailed(
                HTTPStatus.FORBIDDEN,
                "blocked",
                f"blocked by guardrail {policy.ref.id}",
                {"guardrail": verdict},
            )
        return verdict

    def generate(self, body: Any) -> dict[str, Any]:
        prompt = self._kind("prompt")
        if prompt is None:
            raise RequestFailed(HTTPStatus.NOT_FOUND, "rejected", "this pod serves no prompt")
        if not isinstance(body, Mapping) or not isinstance(body.get("variables", {}), Mapping):
            raise RequestFailed(HTTPStatus.BAD_REQUEST, "rejected", 'the body must be {"variables": {...}}')
        variables = dict(body.get("variables") or {})
        schema = prompt.manifest.get("variables")
        if isinstance(schema, Mapping):
            try:
                jsonschema.validate(variables, dict(schema))
            except jsonschema.ValidationError as exc:
                raise RequestFailed(
                    HTTPStatus.UNPROCESSABLE_ENTITY, "rejected", f"variables: {exc.message}"
                ) from None
        policy = self._kind("guardrail")
        guard = [g for g in [self._guard(policy, "\n".join(_strings(variables)), "input")] if g]
        try:
            text, truncated = templating.render(
                prompt.compiled, template_context(prompt.manifest, variables), MAX_PROMPT_CHARS
            )
        except Exception as exc:  # jinja2 / sandbox / iteration limit: the artifact passed CI, so a 500
            raise RequestFailed(
                HTTPStatus.INTERNAL_SERVER_ERROR, "error", f"rendering failed: {exc}"
            ) from None
        if truncated:
            raise RequestFailed(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "rejected",
                f"the rendered prompt exceeds {MAX_PROMPT_CHARS} characters",
            )
        model_config = self._kind("model-config")
        upstream_model = None if model_config else str(prompt.manifest.get("model_config") or "") or None
        answer = self.complete([{"role": "user", "content": text}], model_config, upstream_model, {})
        out = self._guard(policy, answer["content"], "output")
        guard += [out] if out else []
        return {
            "output": answer["content"],
            "model": answer["model"],
            "fallback": answer["fallback"],
            "usage": answer["usage"],
            "guardrail": guard,
            "artifacts": self.versions(),
        }

    def chat(self, body: Any) -> dict[str, Any]:
        model_config = self._kind("model-config")
        if model_config is None:
            raise RequestFailed(HTTPStatus.NOT_FOUND, "rejected", "this pod serves no model config")
        if (
            not isinstance(body, Mapping)
            or not isinstance(body.get("messages"), list)
            or not all(isinstance(m, Mapping) and isinstance(m.get("content"), str) for m in body["messages"])
        ):
            raise RequestFailed(
                HTTPStatus.BAD_REQUEST, "rejected", "messages must be a list of {role, content}"
            )
        messages = [{"role": str(m.get("role", "user")), "content": m["content"]} for m in body["messages"]]
        roles = sorted({m["role"] for m in messages} - ROLES)
        if roles:
            raise RequestFailed(HTTPStatus.BAD_REQUEST, "rejected", f"message roles not allowed: {roles}")
        params = caller_parameters(body)
        policy = self._kind("guardrail")
        self._guard(policy, "\n".join(m["content"] for m in messages if m["role"] == "user"), "input")
        answer = self.complete(messages, model_config, None, params)
        self._guard(policy, answer["content"], "output")
        return {
            "object": "chat.completion",
            "model": answer["model"],
            # OpenAI's backend fingerprint: here the serving revision, so a caller sees which colour answered
            "system_fingerprint": self.config.revision or None,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": answer["finish_reason"],
                    "message": {"role": "assistant", "content": answer["content"]},
                }
            ],
            "usage": answer["usage"],
        }

    def versions(self) -> list[dict[str, str]]:
        return [{"kind": a.ref.kind, "id": a.ref.id, "version": a.version} for a in self.loaded.values()]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
