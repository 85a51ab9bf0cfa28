"""What an environment deploys for one artifact: an immutable, content-addressed snapshot.

For artifact ``<kind>/<id>`` in environment ``<env>`` a promotion writes
- the artifact's files under ``environments/<env>/artifacts/<kind>/<id>/`` (the folder is replaced
  as a whole, so a deleted file disappears), and
- one ``configMapGenerator`` entry ``genaiops-<kind>-<id>`` in ``environments/<env>/kustomization.yaml``
  holding the files the serving layer reads (eval and test material stays out). Kustomize appends a
  hash of the content to the ConfigMap's name, so every version is a new, immutable ConfigMap and
  the workloads that reference it roll when it changes.
The kustomization is edited with ruamel.yaml round-tripping: comments, key order and other entries
stay as the team wrote them; generator entries are kept sorted by name so the result depends only on
what is deployed, not on the order promotions happened in. Retiring an artifact removes both again
(:func:`remove_snapshot`).
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from genaiops import rules
from genaiops.discovery import Artifact, artifact_files
from genaiops.errors import ArtifactError, UsageError
from genaiops.lineage import ENVIRONMENTS_DIR
from genaiops.safeio import MAX_DATASET_BYTES, MAX_FILE_BYTES, read_bytes

MAX_CONFIGMAP_BYTES = 1_000_000
"""Kubernetes refuses ConfigMaps above 1 MiB (etcd's object limit); keep a margin for metadata."""
NOT_SERVED_DIRS = frozenset({"eval", "evals", "tests", "test", "cassettes", "fixtures", "datasets", "qrels"})
"""Top-level folders of an artifact that only the pipeline reads (datasets, tests, recorded responses)."""
NOT_SERVED_FILES = frozenset({"test_cases.yaml", "tests.yaml", "README.md"})
NOT_SERVED_SUFFIXES = (".jsonl", ".tsv")
SERVED_EXTRA: dict[str, frozenset[str]] = {
    # Kind-specific additions to what serving needs; empty today: every kind serves its manifest
    # and the non-test files beside it (templates, term lists, schemas).
    "prompt": frozenset(),
    "model-config": frozenset(),
    "rag": frozenset(),
    "guardrail": frozenset(),
}

TOO_LARGE = rules.rule(
    "promote/snapshot-too-large",
    "promote",
    "The files the serving layer needs exceed what one ConfigMap can hold (1 MB).",
    "Move large data out of the artifact (datasets belong under eval/, which is not deployed).",
)


@dataclass(frozen=True)
class Snapshot:
    """One artifact version's files, as they are deployed."""

    kind: str
    id: str
    version: str
    digest: str
    files: dict[str, bytes]
    """Path relative to the artifact folder -> content."""


def env_artifact_dir(env: str, kind: str, artifact_id: str) -> str:
    """The snapshot folder, relative to the repository root."""
    return f"{ENVIRONMENTS_DIR}/{env}/artifacts/{kind}/{artifact_id}"


def configmap_name(kind: str, artifact_id: str) -> str:
    """The generated ConfigMap's name before kustomize appends the content hash."""
    return f"genaiops-{kind}-{artifact_id}"


def is_served(kind: str, relpath: str) -> bool:
    """Whether serving reads this file of the artifact (eval data, tests and cassettes are not deployed)."""
    parts = PurePosixPath(relpath).parts
    if relpath in SERVED_EXTRA.get(kind, frozenset()):
        return True
    if len(parts) > 1 and parts[0] in NOT_SERVED_DIRS:
        return False
    return parts[-1] not in NOT_SERVED_FILES and not parts[-1].endswith(NOT_SERVED_SUFFIXES)


def snapshot_from_artifact(artifact: Artifact, version: str, digest: str) -> Snapshot:
    """Read the artifact's files (safely: inside the repository, bounded in size; eval data may be larger)."""
    files: dict[str, bytes] = {}
    for path in artifact_files(artifact):
        rel = path.relative_to(artifact.root).as_posix()
        limit = MAX_FILE_BYTES if is_served(artifact.kind.name, rel) else MAX_DATASET_BYTES
        files[rel] = read_bytes(path, artifact.repo, limit=limit)
    return Snapshot(artifact.kind.name, artifact.id, version, digest, files)


def _label_value(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:63]
    return cleaned.strip("-_.") or "unknown"


def labels(snapshot: Snapshot) -> dict[str, str]:
    """The labels on the generated ConfigMap (Kubernetes label values: <= 63 chars, no ':' or '+')."""
    hexdigest = snapshot.digest.split(":", 1)[-1]
    return {
        "app.kubernetes.io/name": snapshot.id,
        "app.kubernetes.io/component": snapshot.kind,
        "app.kubernetes.io/part-of": "genaiops",
        "app.kubernetes.io/managed-by": "genaiops",
        "app.kubernetes.io/version": _label_value(snapshot.version),
        "genaiops.dev/kind": snapshot.kind,
        "genaiops.dev/id": snapshot.id,
        "genaiops.dev/version": _label_value(snapshot.version),
        "genaiops.dev/digest": _label_value(f"sha256-{hexdigest}"),
    }


def configmap_key(relpath: str) -> str:
    """A ConfigMap data key for a file (keys allow [-._a-zA-Z0-9]; folders become ``__``)."""
    return relpath.replace("/", "__")


def generator_entry(snapshot: Snapshot) -> CommentedMap:
    """The configMapGenerator entry for ``snapshot`` (file paths relative to the environment folder)."""
    folder = f"artifacts/{snapshot.kind}/{snapshot.id}"
    served = sorted(p for p in snapshot.files if is_served(snapshot.kind, p))
    size = sum(len(snapshot.files[p]) for p in served)
    if size > MAX_CONFIGMAP_BYTES:
        raise ArtifactError(
            f"{snapshot.kind}/{snapshot.id} deploys {size} bytes; a ConfigMap holds at most "
            f"{MAX_CONFIGMAP_BYTES}",
            rule_id=TOO_LARGE,
            hint=rules.RULES[TOO_LARGE].hint,
        )
    entry = CommentedMap()
    entry["name"] = configmap_name(snapshot.kind, snapshot.id)
    entry["files"] = CommentedSeq(f"{configmap_key(p)}={folder}/{p}" for p in served)
    options = CommentedMap()
    options["labels"] = CommentedMap((k, DoubleQuotedScalarString(v)) for k, v in labels(snapshot).items())
    options["annotations"] = CommentedMap(
        [
            ("genaiops.dev/digest", DoubleQuotedScalarString(snapshot.digest)),
            ("genaiops.dev/version", DoubleQuotedScalarString(snapshot.version)),
        ]
    )
    entry["options"] = options
    return entry


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.is_file() and not path.is_symlink() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def write_files(repo: Path, env: str, snapshot: Snapshot) -> None:
    """Replace the environment's copy of the artifact folder with the snapshot's files."""
    folder = repo / env_artifact_dir(env, snapshot.kind, snapshot.id)
    wanted = {folder / rel for rel in snapshot.files}
    if folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):
            if path.is_symlink() or (path.is_file() and path not in wanted):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for rel, content in snapshot.files.items():
        target = folder / rel
        if PurePosixPath(rel).is_absolute() or ".." in PurePosixPath(rel).parts:
            raise UsageError(f"refusing to write {rel!r} outside the snapshot folder")
        _write_if_changed(target, content)


def _load_kustomization(repo: Path, env: str) -> tuple[Path, YAML, Any]:
    """The environment's kustomization, parsed round-trip (comments and order kept)."""
    rel = f"{ENVIRONMENTS_DIR}/{env}/kustomization.yaml"
    path = repo / rel
    if not path.is_file():
        raise UsageError(
            f"{rel} does not exist in the GitOps repository",
            hint="Create the environment with `genaiops init` (after listing it in genaiops.yaml).",
        )
    yaml = _yaml()
    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{rel} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{rel} must be a Kustomization mapping")
    if not isinstance(data.get("configMapGenerator", []), list):
        raise UsageError(f"{rel}: configMapGenerator must be a list")
    return path, yaml, data


def _save_kustomization(path: Path, yaml: YAML, data: Any) -> None:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    _write_if_changed(path, buffer.getvalue().encode("utf-8"))


def update_kustomization(repo: Path, env: str, snapshot: Snapshot) -> None:
    """Put the snapshot's generator entry into the environment's kustomization (in place, sorted)."""
    path, yaml, data = _load_kustomization(repo, env)
    generators = data.get("configMapGenerator")
    if generators is None:
        generators = CommentedSeq()
        data["configMapGenerator"] = generators
    entry = generator_entry(snapshot)
    index = next(
        (i for i, g in enumerate(generators) if isinstance(g, dict) and g.get("name") == entry["name"]), None
    )
    if index is not None:
        _update_in_place(generators[index], entry)
    else:
        position = next(
            (
                i
                for i, g in enumerate(generators)
                if isinstance(g, dict) and str(g.get("name", "")) > entry["name"]
            ),
            len(generators),
        )
        generators.insert(position, entry)
    _save_kustomization(path, yaml, data)


def _update_in_place(old: Any, new: CommentedMap) -> None:
    """Make mapping ``old`` equal to ``new`` without replacing it, so comments attached to it survive."""
    for key in [k for k in old if k not in new]:
        del old[key]
    for key, value in new.items():
        if isinstance(old.get(key), dict) and isinstance(value, dict):
            _update_in_place(old[key], value)
        elif old.get(key) != value or type(old.get(key)) is not type(value):
            old[key] = value


def apply_snapshot(repo: Path, env: str, snapshot: Snapshot) -> None:
    """Write the snapshot into environment ``env`` of the working tree at ``repo``."""
    write_files(repo, env, snapshot)
    update_kustomization(repo, env, snapshot)


def remove_snapshot(repo: Path, env: str, kind: str, artifact_id: str) -> None:
    """Take ``kind/artifact_id`` out of environment ``env``: its generator entry and its snapshot folder.

    The rest of the kustomization (comments, other entries) stays as it is; the lineage is not touched.
    """
    path, yaml, data = _load_kustomization(repo, env)
    generators = data.get("configMapGenerator") or []
    name = configmap_name(kind, artifact_id)
    for index in reversed(range(len(generators))):
        if isinstance(generators[index], dict) and generators[index].get("name") == name:
            del generators[index]
    _save_kustomization(path, yaml, data)
    folder = repo / env_artifact_dir(env, kind, artifact_id)
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder)
