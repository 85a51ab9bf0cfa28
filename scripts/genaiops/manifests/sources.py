"""Map a resource in ``kustomize build`` output back to the file (and line) that declared it.

kustomize drops file names, so the harness follows the kustomization graph from the build root
(resources, components, bases, patches) to the YAML files that feed it and indexes their
documents by (kind, metadata.name). Name prefixes and suffixes added by kustomize are tolerated
by also matching names that contain the declared one. Lines come from the YAML node tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from genaiops.manifests.build import kustomization_file, load_kustomization

_REF_KEYS = ("resources", "components", "bases", "patchesStrategicMerge", "crds")


@dataclass
class SourceDoc:
    """One YAML document of a source file."""

    file: Path
    kind: str
    name: str
    node: yaml.Node

    def line_of(self, pointer: str) -> int:
        """1-based line of the deepest node on a JSON pointer (``/spec/templates/0``)."""
        node = self.node
        line = node.start_mark.line + 1
        for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/") if p]:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
                if pair is None:
                    return line
                node = pair[1]
                line = pair[0].start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
                node = node.value[int(part)]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _scalar(node: yaml.Node, *path: str) -> str:
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            return ""
        match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        if match is None:
            return ""
        node = match
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _docs(file: Path) -> list[SourceDoc]:
    try:
        nodes = list(yaml.compose_all(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return []
    return [
        SourceDoc(file, _scalar(n, "kind"), _scalar(n, "metadata", "name"), n)
        for n in nodes
        if isinstance(n, yaml.MappingNode)
    ]


def _entries(kustomization: dict[str, object]) -> list[str]:
    found: list[str] = []
    for key in _REF_KEYS:
        value = kustomization.get(key)
        if isinstance(value, list):
            found += [v for v in value if isinstance(v, str)]
    for key in ("patches", "patchesJson6902"):
        value = kustomization.get(key)
        if isinstance(value, list):
            found += [p["path"] for p in value if isinstance(p, dict) and isinstance(p.get("path"), str)]
    return found


def source_files(root: Path, limit: int = 2000) -> list[Path]:
    """Every local YAML file reachable from the kustomization in ``root``."""
    seen_dirs: set[Path] = set()
    files: list[Path] = []
    stack = [root.resolve()]
    while stack and len(files) < limit:
        folder = stack.pop()
        if folder in seen_dirs:
            continue
        seen_dirs.add(folder)
        path = kustomization_file(folder)
        if path is None:
            continue
        for entry in _entries(load_kustomization(path)):
            if "://" in entry or entry.startswith(("github.com/", "git@")):
                continue
            target = (folder / entry).resolve()
            if target.is_dir():
                stack.append(target)
            elif target.is_file() and target not in files:
                files.append(target)
    return files


class SourceIndex:
    """(kind, name) -> declaring documents, for one build root."""

    def __init__(self, root: Path) -> None:
        self.docs = [doc for file in source_files(root) for doc in _docs(file)]

    def find(self, kind: str, name: str) -> SourceDoc | None:
        """The document that most likely declared the built resource ``kind``/``name``."""
        same_kind = [d for d in self.docs if d.kind == kind]
        exact = [d for d in same_kind if d.name == name]
        if exact:
            return exact[0]
        partial = sorted((d for d in same_kind if d.name and d.name in name), key=lambda d: -len(d.name))
        if partial:
            return partial[0]
        return same_kind[0] if len(same_kind) == 1 else None
