"""The request log a model config's shadow comparison replays: ``<config>/eval/request-log.jsonl``.

One OpenAI chat-completions request body per line, as captured at the gateway (anonymised)::

    {"messages": [{"role": "system", "content": "You are Acme's support assistant."},
                  {"role": "user", "content": "Where is my parcel?"}],
     "metadata": {"request_id": "req-0001", "route": "support-chat", "captured_at": "2026-11-20T09:14:03Z"},
     "model": "gpt-4o", "temperature": 0.2}

* ``messages`` (required): a non-empty list with at least one ``user`` message; each message has a
  ``role`` (``system``, ``developer``, ``user``, ``assistant``) and a ``content`` that is a string or
  a list of ``{"type": "text", "text": ...}`` parts (joined with newlines); ``name`` is kept.
* ``metadata`` (optional object): ``request_id`` names the request in the scorecard (default
  ``line-<n>``; unique), ``route`` is its category (default ``request-log``). Metadata is not sent.
* Everything else in the body (``model``, ``temperature``, ``max_tokens``, tools, ...) is ignored: the
  configs under comparison supply the model and the sampling parameters.

``load(path, repo)`` returns the requests and a list of problems (line, message); the caller reports
them. At most ``MAX_REQUESTS`` are replayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genaiops.safeio import iter_jsonl

REQUEST_LOG = "eval/request-log.jsonl"
ROLES = frozenset({"system", "developer", "user", "assistant"})
DEFAULT_CATEGORY = "request-log"


@dataclass(frozen=True)
class LoggedRequest:
    """One replayable request: its id, category and the messages to send."""

    id: str
    category: str
    messages: tuple[dict[str, str], ...]

    @property
    def last_user(self) -> str:
        """The content of the last user message (what the judge is told the request was)."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


def _content(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        parts = [
            p.get("text")
            for p in value
            if isinstance(p, Mapping) and p.get("type") == "text" and isinstance(p.get("text"), str)
        ]
        if len(parts) == len(value):
            return "\n".join(str(p) for p in parts)
    return None


def _messages(raw: Any) -> tuple[tuple[dict[str, str], ...] | None, str]:
    if not isinstance(raw, list) or not raw:
        return None, "`messages` must be a non-empty list"
    messages: list[dict[str, str]] = []
    for number, message in enumerate(raw, 1):
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            return None, f"message {number} needs a role among {', '.join(sorted(ROLES))}"
        content = _content(message.get("content"))
        if content is None:
            return None, f"message {number} needs string content (or a list of text parts)"
        out = {"role": str(message["role"]), "content": content}
        if isinstance(message.get("name"), str):
            out["name"] = message["name"]
        messages.append(out)
    if not any(m["role"] == "user" for m in messages):
        return None, "`messages` has no user message"
    return tuple(messages), ""


def load(path: Path, repo: Path) -> tuple[list[LoggedRequest], list[tuple[int, str]]]:
    """Parse the request log; malformed lines are problems ``(line, message)`` and left out.

    Raises ``ArtifactError`` (from ``safeio``) when the file cannot be read.
    """
    requests: list[LoggedRequest] = []
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line, record in iter_jsonl(path, repo):
        if not isinstance(record, Mapping):
            problems.append((line, "a request-log line must be a JSON object (a chat request body)"))
            continue
        messages, error = _messages(record.get("messages"))
        metadata = record.get("metadata", {})
        if messages is None:
            problems.append((line, error))
            continue
        if not isinstance(metadata, Mapping):
            problems.append((line, "`metadata` must be an object"))
            continue
        request_id = metadata.get("request_id", f"line-{line}")
        if not isinstance(request_id, str) or not request_id:
            problems.append((line, "`metadata.request_id` must be a non-empty string"))
            continue
        if request_id in seen:
            problems.append((line, f"duplicate request id {request_id!r}"))
            continue
        seen.add(request_id)
        route = metadata.get("route")
        requests.append(
            LoggedRequest(
                request_id, route if isinstance(route, str) and route else DEFAULT_CATEGORY, messages
            )
        )
    return requests, problems
