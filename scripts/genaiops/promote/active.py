"""Which artifacts an environment's serving workloads name as active (retirement refuses to remove them).

`genaiops serve` takes its active artifacts from ``$GENAIOPS_SERVE_PROMPT``, ``$GENAIOPS_SERVE_GUARDRAIL``
and ``$GENAIOPS_SERVE_MODEL_CONFIG``, or from ``--prompt``, ``--guardrail`` and ``--model-config``. This
module reads them from the workloads ``kustomize build environments/<env>`` would output, without running
kustomize (the pipeline image has none): it follows the kustomization graph from ``environments/<env>/``
(``resources``, ``bases`` and ``components`` first, then the patches) and reads the env entries and the
args of every pod template's containers. Strategic-merge patches (files or inline) override as kustomize
applies them: containers and env entries merge by name, a container's ``args`` list is replaced. A value
a JSON 6902 patch sets counts in addition to what it may replace, so the answer errs towards "active".
A file of the graph that cannot be read is a finding (exit 1): what cannot be read cannot be shown unused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from genaiops.errors import ArtifactError
from genaiops.lineage import ENVIRONMENTS_DIR
from genaiops.manifests.build import kustomization_file
from genaiops.safeio import display_path, read_text

ACTIVE_ENV = {
    "prompt": "GENAIOPS_SERVE_PROMPT",
    "guardrail": "GENAIOPS_SERVE_GUARDRAIL",
    "model-config": "GENAIOPS_SERVE_MODEL_CONFIG",
}
"""The environment variable that names a kind's active artifact (kinds not listed are never active)."""
ACTIVE_FLAGS = {"prompt": "--prompt", "guardrail": "--guardrail", "model-config": "--model-config"}
JSON_PATCH = "an env value set by a JSON 6902 patch"
"""The setting recorded for a JSON 6902 patch's value: which variable it sets is not known."""
RESOURCE_KEYS = ("resources", "bases", "components")
MAX_FILES = 500

try:  # libyaml is much faster; the pure-Python loader behaves the same.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Use:
    """One place where a workload names an artifact as active."""

    workload: str
    """``<Kind>/<name>``, e.g. ``Rollout/genai-gateway``."""
    container: str
    setting: str
    """The environment variable or flag (or JSON_PATCH)."""
    value: str
    file: str
    """The file that set it, relative to the repository root."""

    def describe(self) -> str:
        return f"{self.workload} (container {self.container}) sets {self.setting}={self.value} in {self.file}"


Key = tuple[str, str, str]
"""(workload, container, setting)"""


def _documents(path: Path, repo: Path) -> list[Any]:
    rel = display_path(path, repo)
    try:
        return [d for d in yaml.load_all(read_text(path, repo), Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        raise ArtifactError(
            f"{rel}: invalid YAML ({exc}): cannot tell what the environment serves",
            rule_id="core/invalid-yaml",
            file=rel,
        ) from None


def _inline(text: str, where: str) -> list[Any]:
    try:
        return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        raise ArtifactError(
            f"{where}: an inline patch is invalid YAML ({exc})", rule_id="core/invalid-yaml", file=where
        ) from None


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    containers = pod.get("containers") if isinstance(pod, dict) else None
    return [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []


def _flag_values(args: list[Any]) -> Iterator[tuple[str, str]]:
    """(flag, value) for every ``--prompt X`` / ``--prompt=X`` form of the active-artifact flags."""
    words = [a for a in args if isinstance(a, str)]
    for index, word in enumerate(words):
        for flag in ACTIVE_FLAGS.values():
            if word.startswith(flag + "="):
                yield flag, word.split("=", 1)[1]
            elif word == flag and index + 1 < len(words):
                yield flag, words[index + 1]


class _Workloads:
    """The active settings of every workload, as the graph's files set and patch them."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo.resolve()
        self.settings: dict[Key, Use] = {}
        self.seen: set[Path] = set()
        self.files = 0

    def merge(self, doc: Any, file: str, workload: str | None = None) -> None:
        """Apply a resource or strategic-merge patch document (later ones override earlier ones)."""
        if not isinstance(doc, dict):
            return
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        name = workload or f"{doc.get('kind')}/{meta.get('name')}"
        for container in _containers(doc):
            cname = str(container.get("name"))
            if container.get("$patch") == "delete":
                for key in [k for k in self.settings if k[:2] == (name, cname)]:
                    del self.settings[key]
                continue
            for item in container.get("env") or []:
                if isinstance(item, dict) and item.get("name") in ACTIVE_ENV.values():
                    key = (name, cname, str(item["name"]))
                    value = item.get("value")
                    if item.get("$patch") == "delete" or not isinstance(value, str):
                        self.settings.pop(key, None)
                    else:
                        self.settings[key] = Use(name, cname, key[2], value, file)
            if "args" in container:  # a list is replaced as a whole
                for flag in ACTIVE_FLAGS.values():
                    self.settings.pop((name, cname, flag), None)
                args = container.get("args")
                for flag, value in _flag_values(args if isinstance(args, list) else []):
                    self.settings[(name, cname, flag)] = Use(name, cname, flag, value, file)

    def json_patch(self, ops: list[Any], file: str, workload: str) -> None:
        """Record the env values a JSON 6902 patch sets (added to, never replacing, what is known)."""
        for index, op in enumerate(ops):
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace"):
                continue
            path, value = str(op.get("path", "")), op.get("value")
            entries = value if isinstance(value, list) else [value]
            for entry in entries:
                named = isinstance(entry, dict) and entry.get("name") in ACTIVE_ENV.values()
                if named and isinstance(entry.get("value"), str):
                    key = (workload, f"patch {index}", str(entry["name"]))
                    self.settings[key] = Use(workload, "?", key[2], entry["value"], file)
            if "/env/" in path and path.endswith("/value") and isinstance(value, str):
                self.settings[(workload, f"patch {index}", JSON_PATCH)] = Use(
                    workload, "?", JSON_PATCH, value, file
                )

    def walk(self, folder: Path) -> None:
        """Read the kustomization in ``folder``: its resources (recursively), then its patches."""
        folder = folder.resolve()
        path = kustomization_file(folder)
        if path is None or folder in self.seen:
            return
        self.seen.add(folder)
        [kustomization] = _documents(path, self.repo)[:1] or [{}]
        if not isinstance(kustomization, dict):
            return
        for key in RESOURCE_KEYS:
            for entry in _strings(kustomization.get(key)):
                target = self._local(folder, entry)
                if target is not None and target.is_dir():
                    self.walk(target)
                elif target is not None and target.is_file():
                    for doc in self._read(target):
                        self.merge(doc, display_path(target, self.repo))
        rel = display_path(path, self.repo)
        for entry in _strings(kustomization.get("patchesStrategicMerge")):
            target = self._local(folder, entry)
            docs = self._read(target) if target is not None and target.is_file() else _inline(entry, rel)
            for doc in docs:
                self.merge(doc, display_path(target, self.repo) if target is not None else rel)
        for key in ("patches", "patchesJson6902"):
            for patch in kustomization.get(key) or []:
                if isinstance(patch, dict):
                    self._patch(folder, patch, rel)

    def _patch(self, folder: Path, patch: dict[str, Any], rel: str) -> None:
        target = patch.get("target") if isinstance(patch.get("target"), dict) else {}
        workload = f"{target.get('kind')}/{target.get('name')}" if target.get("name") else None
        source = self._local(folder, patch["path"]) if isinstance(patch.get("path"), str) else None
        if source is not None and source.is_file():
            docs, file = self._read(source), display_path(source, self.repo)
        elif isinstance(patch.get("patch"), str):
            docs, file = _inline(patch["patch"], rel), rel
        else:
            return
        for doc in docs:
            if isinstance(doc, list):
                self.json_patch(doc, file, workload or f"{target.get('kind')}/*")
            else:
                self.merge(doc, file, workload)

    def _local(self, folder: Path, entry: str) -> Path | None:
        """A local file or folder of the graph inside the repository (remote bases are not read)."""
        if "://" in entry or entry.startswith(("github.com/", "git@")) or "\n" in entry:
            return None
        target = (folder / entry).resolve()
        return target if target.is_relative_to(self.repo) else None

    def _read(self, path: Path) -> list[Any]:
        self.files += 1
        if self.files > MAX_FILES:
            raise ArtifactError(
                f"the kustomization graph of the environment has more than {MAX_FILES} files",
                rule_id="core/unreadable-artifact",
            )
        return _documents(path, self.repo)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def active_settings(repo: Path, env: str) -> list[Use]:
    """Every active-artifact setting of the workloads ``environments/<env>`` of ``repo`` builds."""
    workloads = _Workloads(repo)
    workloads.walk(repo / ENVIRONMENTS_DIR / env)
    return sorted(workloads.settings.values(), key=lambda u: (u.workload, u.container, u.setting, u.file))


def served_by(repo: Path, env: str, kind: str, artifact_id: str) -> list[Use]:
    """The settings that name ``kind/artifact_id`` as active in ``env`` (empty: no workload serves it)."""
    if kind not in ACTIVE_ENV:
        return []
    names = (ACTIVE_ENV[kind], ACTIVE_FLAGS[kind], JSON_PATCH)
    return [u for u in active_settings(repo, env) if u.setting in names and u.value == artifact_id]
