"""Record/replay cassettes: the responses an eval needs, stored next to its dataset.

Layout (docs/eval.md): a folder, by default ``<artifact>/eval/cassettes/``, holding one JSON Lines file
per model, ``<model-slug>.jsonl``. Line 1 is the header with provenance::

    {"cassette": "genaiops.dev/cassette/v1", "model": "...", "endpoint": "...", "recordedAt": "...",
     "genaiopsVersion": "...", "synthetic": false, "syntheticReason": null}

then one line per request: ``{"key": ..., "request": {...}, "response": {...}}``. ``synthetic: true``
(with a reason) marks responses that did not come from a real model (hand-written, or recorded from the
local reference server); scorecards show it. Recording rewrites each file atomically with exactly the
requests of the run, sorted by key, so re-recording an unchanged eval changes only the measured
``latency_s`` values (kept: the model-config eval reports latency percentiles from them).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from genaiops import __version__, rules
from genaiops.errors import ArtifactError

SCHEMA = "genaiops.dev/cassette/v1"
MAX_CASSETTE_BYTES = 64 * 1024 * 1024


BAD_CASSETTE = rules.rule(
    "eval/bad-cassette",
    "eval",
    "A record/replay cassette file is malformed.",
    "Re-record it with `genaiops eval --record`, or fix the line named in the message.",
)
CASSETTE_MISS = rules.rule(
    "eval/cassette-miss",
    "eval",
    "Replay needed a response the cassettes do not hold (the prompt, model, parameters or "
    "dataset changed since recording).",
    "Re-record with `genaiops eval --record` against a real endpoint and commit the cassettes.",
)


class CassetteMiss(ArtifactError):
    """Replay asked for a request the cassettes do not hold (re-record with --record)."""

    def __init__(self, message: str, hint: str | None = None, file: str | None = None) -> None:
        super().__init__(message, hint or rules.RULES[CASSETTE_MISS].hint, rule_id=CASSETTE_MISS, file=file)


def model_slug(model: str) -> str:
    """A file-name-safe form of a model name: ``org/Model:7b`` -> ``org--model-7b``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", model.lower().replace("/", "--")).strip("-.")
    return slug or "model"


@dataclass
class CassetteHeader:
    """Provenance of one cassette file."""

    model: str
    endpoint: str
    recorded_at: str
    genaiops_version: str = __version__
    synthetic: bool = False
    synthetic_reason: str | None = None
    file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "cassette": SCHEMA,
            "model": self.model,
            "endpoint": self.endpoint,
            "recordedAt": self.recorded_at,
            "genaiopsVersion": self.genaiops_version,
            "synthetic": self.synthetic,
            "syntheticReason": self.synthetic_reason,
        }

    def provenance(self) -> dict[str, Any]:
        """What a scorecard shows about the cassette."""
        data = self.to_json()
        del data["cassette"]
        data["file"] = self.file
        return data


@dataclass
class _Cassette:
    header: CassetteHeader
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)


class CassetteStore:
    """The cassettes of one folder, for replay (read) or recording (collect, then ``save``)."""

    def __init__(self, folder: Path, display_base: Path | None = None) -> None:
        self.folder = folder
        self.display_base = display_base
        """File names in provenance and messages are shown relative to this (e.g. the repository root)."""
        self._cassettes: dict[str, _Cassette] = {}
        self._by_key: dict[str, tuple[str, dict[str, Any]]] = {}
        self._recorded: dict[str, _Cassette] = {}
        self._used: dict[str, CassetteHeader] = {}
        self._lock = threading.Lock()

    # ---- replay -------------------------------------------------------------------------
    def load(self) -> CassetteStore:
        """Read every ``*.jsonl`` cassette of the folder; ArtifactError on a malformed file."""
        if not self.folder.is_dir():
            return self
        for path in sorted(self.folder.glob("*.jsonl")):
            cassette = _read(path, self._display(path.name))
            self._cassettes[path.name] = cassette
            for key, entry in cassette.entries.items():
                self._by_key[key] = (path.name, entry)
        return self

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The stored response body for a request key (None on a miss); remembers which files served."""
        found = self._by_key.get(key)
        if found is None:
            return None
        name, entry = found
        with self._lock:
            self._used[name] = self._cassettes[name].header
        return entry["response"]

    @property
    def location(self) -> str:
        """The folder as shown in messages (relative to ``display_base`` when given)."""
        return self._display("").rstrip("/") or "."

    @property
    def files(self) -> list[str]:
        return sorted(self._cassettes)

    # ---- record -------------------------------------------------------------------------
    def record(
        self,
        model: str,
        endpoint: str,
        key: str,
        request: dict[str, Any],
        response: dict[str, Any],
        synthetic_reason: str | None = None,
    ) -> None:
        name = f"{model_slug(model)}.jsonl"
        with self._lock:
            cassette = self._recorded.get(name)
            if cassette is None:
                header = CassetteHeader(
                    model=model,
                    endpoint=endpoint,
                    recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    synthetic=synthetic_reason is not None,
                    synthetic_reason=synthetic_reason,
                    file=self._display(name),
                )
                cassette = self._recorded[name] = _Cassette(header)
                self._used[name] = header
            cassette.entries[key] = {"key": key, "request": request, "response": response}

    def save(self) -> list[Path]:
        """Write the recorded cassettes atomically; returns the files written."""
        written: list[Path] = []
        if not self._recorded:
            return written  # nothing recorded: leave no empty folder behind
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, cassette in sorted(self._recorded.items()):
            lines = [json.dumps(cassette.header.to_json(), ensure_ascii=False)]
            lines += [
                json.dumps(cassette.entries[k], ensure_ascii=False, sort_keys=True)
                for k in sorted(cassette.entries)
            ]
            path = self.folder / name
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write("\n".join(lines) + "\n")
                os.chmod(tmp, 0o644)  # mkstemp creates 0600; cassettes are ordinary repository files
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(path)
        return written

    # ---- provenance ---------------------------------------------------------------------
    def provenance(self) -> list[dict[str, Any]]:
        """Headers of the cassettes this run read or wrote (for the scorecard)."""
        with self._lock:
            return [self._used[name].provenance() for name in sorted(self._used)]

    @property
    def synthetic(self) -> bool:
        return any(item["synthetic"] for item in self.provenance())

    def _display(self, name: str) -> str:
        path = self.folder / name
        if self.display_base is not None:
            try:
                return path.relative_to(self.display_base).as_posix()
            except ValueError:
                pass
        return path.as_posix()


def _read(path: Path, display: str) -> _Cassette:
    try:
        if path.stat().st_size > MAX_CASSETTE_BYTES:
            raise ArtifactError(
                f"cassette {display} is larger than {MAX_CASSETTE_BYTES} bytes",
                file=display,
                rule_id=BAD_CASSETTE,
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArtifactError(f"cassette {display} is not UTF-8", file=display, rule_id=BAD_CASSETTE) from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise ArtifactError(f"cassette {display} is empty", file=display, rule_id=BAD_CASSETTE)
    header_data = _json_line(display, *lines[0])
    if header_data.get("cassette") != SCHEMA:
        raise ArtifactError(
            f'cassette {display}: line 1 must be a header with "cassette": "{SCHEMA}"',
            file=display,
            line=lines[0][0],
            rule_id=BAD_CASSETTE,
        )
    synthetic = header_data.get("synthetic", False)
    if not isinstance(synthetic, bool) or (synthetic and not header_data.get("syntheticReason")):
        raise ArtifactError(
            f'cassette {display}: "synthetic" must be a boolean, and a synthetic cassette '
            'needs a "syntheticReason"',
            file=display,
            line=lines[0][0],
            rule_id=BAD_CASSETTE,
        )
    header = CassetteHeader(
        model=str(header_data.get("model", "")),
        endpoint=str(header_data.get("endpoint", "")),
        recorded_at=str(header_data.get("recordedAt", "")),
        genaiops_version=str(header_data.get("genaiopsVersion", "")),
        synthetic=synthetic,
        synthetic_reason=header_data.get("syntheticReason"),
        file=display,
    )
    cassette = _Cassette(header)
    for number, line in lines[1:]:
        entry = _json_line(display, number, line)
        if not isinstance(entry.get("key"), str) or not isinstance(entry.get("response"), dict):
            raise ArtifactError(
                f'cassette {display} line {number}: an entry needs a string "key" and an object "response"',
                file=display,
                line=number,
                rule_id=BAD_CASSETTE,
            )
        cassette.entries[entry["key"]] = entry
    return cassette


def _json_line(display: str, number: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise ArtifactError(
            f"cassette {display} line {number} is not JSON: {exc}",
            file=display,
            line=number,
            rule_id=BAD_CASSETTE,
        ) from None
    if not isinstance(value, dict):
        raise ArtifactError(
            f"cassette {display} line {number} must be a JSON object",
            file=display,
            line=number,
            rule_id=BAD_CASSETTE,
        )
    return value
