"""Reading artifact files safely: inside the repository only, bounded in size, strict UTF-8,
YAML without alias bombs, and with line numbers for findings.

Every loader raises ArtifactError (a finding, exit 1) for content problems; none of them
follows a symlink out of the repository or reads more than ``MAX_FILE_BYTES``.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from genaiops.errors import ArtifactError

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Artifact files above this size are refused with a finding (datasets have their own limit)."""
MAX_DATASET_BYTES = 64 * 1024 * 1024
MAX_YAML_NODES = 200_000
"""Upper bound on the expanded size of a YAML document (defeats "billion laughs" alias bombs)."""

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (much faster); the pure-Python one behaves the same."""
_PLAIN_TAGS_MAX = 65_536


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, remembering the implicit tag of a plain scalar by its text: a safe loader has no
    path resolvers, so that tag depends on the text alone, and the same keys and values recur in every
    manifest (resolving each one by regular expressions was a fifth of a lint)."""

    _plain_tags: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._plain_tags) < _PLAIN_TAGS_MAX:
                    self._plain_tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


def display_path(path: Path, root: Path) -> str:
    """The repository-relative form of ``path`` used in findings."""
    if os.sep == "/" and isinstance(path, Path) and isinstance(root, Path):  # normalised: compare strings
        text, prefix = str(path), str(root).rstrip("/") + "/"
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def ensure_inside(path: Path, root: Path) -> Path:
    """Resolve ``path`` (following symlinks) and refuse it unless it stays inside ``root``."""
    resolved = os.path.realpath(path)
    real_root = _real_root(os.fspath(root))
    if resolved != real_root and not resolved.startswith(real_root.rstrip(os.sep) + os.sep):
        raise ArtifactError(
            f"{display_path(path, root)} points outside the repository (to {resolved})",
            hint="Artifacts may only reference files inside the repository; replace the link with the file.",
            rule_id="core/path-escape",
            file=display_path(path, root),
        )
    return Path(resolved)


@functools.lru_cache(maxsize=64)
def _real_root(root: str) -> str:
    """The repository root with symlinks resolved (asked for every file an artifact reads)."""
    return os.path.realpath(root)


def read_bytes(path: Path, root: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a file inside ``root`` with a size limit."""
    rel = display_path(path, root)
    resolved = ensure_inside(path, root)
    if not resolved.is_file():
        raise ArtifactError(f"{rel} is missing or not a regular file", rule_id="core/missing-file", file=rel)
    size = resolved.stat().st_size
    if size > limit:
        raise ArtifactError(
            f"{rel} is {size} bytes, over the {limit}-byte limit",
            hint="Split the file or move bulk data out of the artifact.",
            rule_id="core/file-too-large",
            file=rel,
        )
    with resolved.open("rb") as handle:
        return handle.read(limit + 1)


def read_text(path: Path, root: Path, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file inside ``root``; invalid UTF-8 or NUL bytes are findings."""
    data = read_bytes(path, root, limit)
    rel = display_path(path, root)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ArtifactError(
            f"{rel} is not valid UTF-8 (byte {exc.start})",
            hint="Save the file as UTF-8 text.",
            rule_id="core/not-utf8",
            file=rel,
            line=line,
        ) from None
    if "\x00" in text:
        raise ArtifactError(f"{rel} looks binary (contains NUL bytes)", rule_id="core/not-utf8", file=rel)
    return text.removeprefix("\ufeff")


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, and its node tree for line numbers of any path.

    The node tree (a few objects per value, with their marks) is composed again from the text when a
    line number is first asked for, that is when there is a finding to place. Keeping every document's
    tree alive instead made a run over thousands of artifacts hold millions of objects, and every full
    garbage collection slower than the last.
    """

    data: Any
    text: str
    file: str
    _node: yaml.Node | None = field(default=None, init=False, repr=False, compare=False)
    _composed: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def node(self) -> yaml.Node | None:
        if not self._composed:
            loader = _Loader(self.text)
            try:
                self._node = loader.get_single_node()
            except (yaml.YAMLError, ValueError, TypeError, RecursionError):  # parsed before: not expected
                self._node = None
            finally:
                loader.dispose()
            self._composed = True
        return self._node

    def line_of(self, path: tuple[str | int, ...] | list[str | int]) -> int | None:
        """The 1-based line of the value at ``path`` (the deepest existing prefix), if known."""
        node = self.node
        best = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
                if match is None:
                    key = next((k for k, _ in node.value if getattr(k, "value", None) == part), None)
                    return key.start_mark.line + 1 if key is not None else best
                node = match
            elif (
                isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
            ):
                node = node.value[part]
            else:
                return best
            best = node.start_mark.line + 1
        return best


def _expanded_size(value: Any, limit: int) -> int:
    """Count nodes as a consumer would see them (aliases expanded), stopping past ``limit``."""
    memo: dict[int, int] = {}

    def size(obj: Any) -> int:
        if not isinstance(obj, (dict, list)):
            return 1  # scalars: no need to remember them
        key = id(obj)
        if key in memo:
            return memo[key]
        memo[key] = limit + 1  # a cycle counts as over the limit
        if isinstance(obj, dict):
            total = 1 + sum(size(k) + size(v) for k, v in obj.items())
        else:
            total = 1 + sum(size(v) for v in obj)
        memo[key] = min(total, limit + 1)
        return memo[key]

    return size(value)


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SPECIAL_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _NotPlain(Exception):
    """The tree is not plain data: a collection occurs twice (an alias to it), or one has a special tag
    (a set, an ordered map, a merge key)."""


def _construct_tree(loader: Any, node: yaml.Node, seen: set[int]) -> Any:
    """The data of a plain node tree (strings, mappings and sequences, with scalars of any tag as leaves),
    as PyYAML's safe constructor makes it, at a third of its cost; scalars other than strings (numbers,
    booleans, null, timestamps, binary) are made by PyYAML itself. Raises _NotPlain for anything else, so
    that every collection node is visited here and an alias to one is always seen (an alias to a scalar
    is only the same value twice)."""
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        return node.value if tag == _STR else loader.construct_object(node, deep=True)
    if id(node) in seen:
        raise _NotPlain
    seen.add(id(node))
    if tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_construct_tree(loader, item, seen) for item in node.value]
    if tag != _MAP or not isinstance(node, yaml.MappingNode):
        raise _NotPlain
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag in _SPECIAL_KEYS:
            raise _NotPlain
        key = _construct_tree(loader, key_node, seen)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
        mapping[key] = _construct_tree(loader, value_node, seen)
    return mapping


def parse_yaml(text: str, rel: str) -> YamlDocument:
    """Parse one YAML document from text, with the safety limits of this module."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        plain = True
        if node is None:
            data = None
        else:
            try:
                data = _construct_tree(loader, node, set())
            except _NotPlain:  # aliases (PyYAML shares, and may cycle, what they point to), sets, merges
                plain = False
                data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ArtifactError(
            f"{rel}: invalid YAML: {problem}",
            hint="Check indentation and quoting.",
            rule_id="core/invalid-yaml",
            file=rel,
            line=line,
        ) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ArtifactError(f"{rel}: invalid YAML: {exc}", rule_id="core/invalid-yaml", file=rel) from None
    finally:
        loader.dispose()
    # A plain tree (no alias to a collection) is its own expansion, and no value takes less than half a
    # character of text: only a document that could be over the limit is counted.
    could_expand = not plain or 2 * len(text) + 1 > MAX_YAML_NODES
    if could_expand and _expanded_size(data, MAX_YAML_NODES) > MAX_YAML_NODES:
        raise ArtifactError(
            f"{rel}: YAML expands to more than {MAX_YAML_NODES} nodes (alias bomb or cycle?)",
            hint="Write the data out instead of multiplying it through anchors and aliases.",
            rule_id="core/yaml-too-large",
            file=rel,
        )
    return YamlDocument(data=data, text=text, file=rel)


def load_yaml(path: Path, root: Path) -> YamlDocument:
    """Read and parse a YAML file inside ``root``."""
    return parse_yaml(read_text(path, root), display_path(path, root))


def load_json(path: Path, root: Path) -> Any:
    """Read and parse a JSON file inside ``root``."""
    rel = display_path(path, root)
    try:
        return json.loads(read_text(path, root))
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"{rel}: invalid JSON: {exc.msg}", rule_id="core/invalid-json", file=rel, line=exc.lineno
        ) from None


def iter_jsonl(path: Path, root: Path, limit: int = MAX_DATASET_BYTES) -> list[tuple[int, Any]]:
    """Parse a JSON Lines file into (line number, record) pairs; blank lines are skipped."""
    rel = display_path(path, root)
    text = read_text(path, root, limit)
    records: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ArtifactError(
                f"{rel}:{number}: invalid JSON line: {exc.msg}",
                rule_id="core/invalid-json",
                file=rel,
                line=number,
            ) from None
    return records
