"""Load the artifacts a serving pod needs from their mounted ConfigMaps, and say what is wrong.

A promotion deploys artifact ``<kind>/<id>`` as ConfigMap ``genaiops-<kind>-<id>-<hash>`` whose data keys
are the artifact's file paths with ``/`` written as ``__`` (docs/promotion.md). The serving manifests mount
it at ``<artifacts-dir>/<kind>/<id>/``; the files there are the ConfigMap's keys (plus the kubelet's
``..data`` bookkeeping entries, which are ignored). Loading never raises for bad content: every problem
is recorded on the ``LoadedArtifact`` so ``/health`` can name it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from genaiops import schemacheck
from genaiops.kinds import ARTIFACT_ID_PATTERN, BY_NAME

MAX_FILE_BYTES = 1_000_000
"""A ConfigMap holds at most 1 MiB, so no mounted file is larger."""
SCHEMAS = {"prompt": "prompt", "model-config": "model-config", "guardrail": "guardrail-policy", "rag": "rag"}
TEMPLATE_FILE = "template.j2"


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact the server needs: ``<kind>/<id>``."""

    kind: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.id}"

    @classmethod
    def parse(cls, text: str) -> ArtifactRef:
        """``kind/id`` -> ArtifactRef; ValueError naming the known kinds otherwise."""
        kind, sep, ident = text.partition("/")
        if not sep or kind not in BY_NAME:
            raise ValueError(f"{text!r} is not KIND/ID with KIND one of {', '.join(sorted(BY_NAME))}")
        if not ARTIFACT_ID_PATTERN.match(ident):
            raise ValueError(f"artifact id {ident!r} is not a DNS-1123 label (lower-case letters, digits, -)")
        return cls(kind, ident)


@dataclass
class LoadedArtifact:
    """One mounted artifact: its files, parsed manifest, and the problems found (empty = valid)."""

    ref: ArtifactRef
    folder: Path
    files: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    missing: bool = False
    compiled: Any = None
    """Kind-specific ready-to-use form: the parsed template (prompt) or compiled policy (guardrail)."""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.problems

    @property
    def version(self) -> str:
        value = self.manifest.get("version")
        return str(value) if value is not None else "unknown"

    @property
    def digest(self) -> str:
        """sha256 over the served files' names and bytes (what this pod actually loaded)."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return "sha256:" + h.hexdigest()

    def status(self) -> dict[str, Any]:
        state = "missing" if self.missing else "invalid" if self.problems else "loaded"
        data: dict[str, Any] = {"kind": self.ref.kind, "id": self.ref.id, "status": state}
        if self.manifest:
            data["version"] = self.version
        if self.ok:
            data["digest"] = self.digest
        if self.problems:
            data["problems"] = list(self.problems)
        if self.missing:
            data["problems"] = [f"nothing mounted at {self.folder}"]
        return data


def read_mount(folder: Path) -> dict[str, str]:
    """The files of a ConfigMap mount, keyed by artifact-relative path (``__`` -> ``/``)."""
    files: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".."):  # the kubelet's atomic-update bookkeeping (..data, ..2026_...)
            continue
        if not entry.is_file():
            continue
        if entry.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{entry.name}: larger than a ConfigMap can hold")
        files[entry.name.replace("__", "/")] = entry.read_text(encoding="utf-8")
    return files


def load(ref: ArtifactRef, artifacts_dir: Path) -> LoadedArtifact:
    """Read, parse and check ``<artifacts_dir>/<kind>/<id>/``."""
    folder = artifacts_dir / ref.kind / ref.id
    loaded = LoadedArtifact(ref, folder)
    try:
        loaded.files = read_mount(folder) if folder.is_dir() else {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        loaded.problems.append(f"cannot read the mount: {exc}")
        return loaded
    if not loaded.files:
        loaded.missing = True
        return loaded
    manifest_name = BY_NAME[ref.kind].manifest
    text = loaded.files.get(manifest_name)
    if text is None:
        loaded.problems.append(f"{manifest_name} is not in the ConfigMap")
        return loaded
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        loaded.problems.append(f"{manifest_name} is not YAML: {str(exc).splitlines()[0]}")
        return loaded
    if not isinstance(data, dict):
        loaded.problems.append(f"{manifest_name} is not a mapping")
        return loaded
    loaded.manifest = data
    loaded.problems += [
        f"{manifest_name}: {e.json_path}: {e.message}" for e in schemacheck.errors(data, SCHEMAS[ref.kind])
    ]
    if data.get("id") != ref.id:
        loaded.problems.append(f"{manifest_name}: id is {data.get('id')!r}, expected {ref.id!r}")
    if not loaded.problems:
        _compile(loaded)
    return loaded


def _compile(loaded: LoadedArtifact) -> None:
    if loaded.ref.kind == "prompt":
        from genaiops import templating

        source = loaded.files.get(TEMPLATE_FILE)
        if source is None:
            loaded.problems.append(f"{TEMPLATE_FILE} is not in the ConfigMap")
            return
        try:
            loaded.compiled = templating.parse(source)
        except templating.TemplateSyntaxError as exc:
            loaded.problems.append(f"{TEMPLATE_FILE}:{exc.lineno}: {exc.message}")
    elif loaded.ref.kind == "guardrail":
        from genaiops.guardrails.engine import PolicyError, compile_policy

        try:
            loaded.compiled = compile_policy(loaded.manifest)
        except PolicyError as exc:
            loaded.problems.append(f"policy does not compile: {exc}")
        except (ValueError, KeyError, TypeError) as exc:
            loaded.problems.append(f"policy does not compile: {exc}")
