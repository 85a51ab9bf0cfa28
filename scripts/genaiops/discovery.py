"""Finding artifacts: from paths on the command line, $ARTIFACT_PATH, or a git ref.

An artifact is a folder ``artifacts/<kind folder>/<id>/`` that holds its kind's manifest file.
Any path inside such a folder selects the artifact; a kind folder or ``artifacts/`` selects
everything below it; paths elsewhere in the repository are ignored.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from genaiops.errors import UsageError
from genaiops.kinds import ARTIFACT_ID_PATTERN, ARTIFACTS_DIR, BY_FOLDER, KINDS, Kind
from genaiops.safeio import display_path

IGNORED_NAMES = frozenset({".DS_Store", "__pycache__", ".ipynb_checkpoints"})


@dataclass(frozen=True)
class Artifact:
    """One artifact folder in the repository."""

    kind: Kind
    id: str
    repo: Path

    @property
    def relpath(self) -> str:
        return f"{ARTIFACTS_DIR}/{self.kind.folder}/{self.id}"

    @cached_property
    def root(self) -> Path:
        """The artifact's folder (made once: checks ask for it thousands of times in a large run)."""
        return self.repo / ARTIFACTS_DIR / self.kind.folder / self.id

    @cached_property
    def manifest_path(self) -> Path:
        return self.root / self.kind.manifest

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind.name, self.id)

    def rel(self, path: Path) -> str:
        """A path of this artifact's, relative to the repository (for findings)."""
        return display_path(path, self.repo)


def artifact_for_relpath(relpath: str) -> tuple[Kind, str] | None:
    """Map a repository-relative path to (kind, artifact id), or None if outside any artifact."""
    parts = PurePosixPath(relpath).parts
    if len(parts) < 3 or parts[0] != ARTIFACTS_DIR:
        return None
    kind = BY_FOLDER.get(parts[1])
    if kind is None or not ARTIFACT_ID_PATTERN.match(parts[2]):
        return None
    if len(parts) == 3 and "." in parts[2]:
        return None
    return kind, parts[2]


def _is_artifact_dir(path: Path, kind: Kind) -> bool:
    return path.is_dir() and (path / kind.manifest).exists()


def _all_in_kind(repo: Path, kind: Kind) -> list[Artifact]:
    base = repo / ARTIFACTS_DIR / kind.folder
    if not base.is_dir():
        return []
    found = []
    for child in sorted(base.iterdir()):
        if ARTIFACT_ID_PATTERN.match(child.name) and _is_artifact_dir(child, kind):
            found.append(Artifact(kind, child.name, repo))
    return found


def discover_all(repo: Path, kinds: list[str] | None = None) -> list[Artifact]:
    """Every artifact in the repository (optionally only of the given kinds)."""
    return [a for k in KINDS if kinds is None or k.name in kinds for a in _all_in_kind(repo, k)]


def resolve_paths(repo: Path, paths: list[str]) -> list[Artifact]:
    """Artifacts selected by ``paths`` (files or folders), deduplicated, in a stable order."""
    selected: dict[tuple[str, str], Artifact] = {}
    repo_resolved = repo.resolve()
    for raw in paths:
        candidate = Path(raw)
        absolute = candidate if candidate.is_absolute() else Path.cwd() / candidate
        # Judge containment on the lexical path: a symlink inside the repo is still "in" the repo
        # here, and its target is checked when its files are read.
        normalised = Path(os.path.normpath(absolute))
        if normalised != repo_resolved and repo_resolved not in normalised.parents:
            normalised_abs = Path(os.path.normpath(absolute.resolve())) if absolute.exists() else normalised
            if normalised_abs != repo_resolved and repo_resolved not in normalised_abs.parents:
                raise UsageError(
                    f"{raw} is outside the repository {repo_resolved}",
                    hint="Pass paths inside the repository, or run from inside it / use --repo.",
                )
            normalised = normalised_abs
        if not normalised.exists() and not normalised.is_symlink():
            raise UsageError(f"{raw} does not exist")
        rel = normalised.relative_to(repo_resolved).as_posix()
        for artifact in _artifacts_under(repo_resolved, rel):
            selected.setdefault(artifact.key, artifact)
    return sorted(selected.values(), key=lambda a: (a.kind.name, a.id))


def _artifacts_under(repo: Path, rel: str) -> list[Artifact]:
    parts = PurePosixPath(rel).parts if rel != "." else ()
    if not parts:
        return discover_all(repo)
    if parts[0] != ARTIFACTS_DIR:
        return []
    if len(parts) == 1:
        return discover_all(repo)
    kind = BY_FOLDER.get(parts[1])
    if kind is None:
        return []
    if len(parts) == 2:
        return _all_in_kind(repo, kind)
    located = artifact_for_relpath(rel)
    if located is None:
        return []
    artifact = Artifact(kind, located[1], repo)
    return [artifact] if artifact.root.is_dir() else []


def paths_from_env() -> list[str]:
    """Paths from $ARTIFACT_PATH (several may be separated by newlines or os.pathsep)."""
    value = os.environ.get("ARTIFACT_PATH", "")
    return [p for chunk in value.splitlines() for p in chunk.split(os.pathsep) if p.strip()]


def artifact_files(artifact: Artifact) -> list[Path]:
    """The artifact's files in a stable order, without editor/OS clutter; symlinks included as-is."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(artifact.root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES and not d.startswith("."))
        for name in sorted(filenames):
            if name not in IGNORED_NAMES:
                files.append(Path(dirpath) / name)
    return files


def digest(artifact: Artifact) -> str:
    """Content digest of the artifact folder: sha256 over each file's path and bytes.

    Symlinks contribute their target text, never the target's bytes, so a link out of the
    repository cannot leak content into the digest.
    """
    hasher = hashlib.sha256()
    for path in artifact_files(artifact):
        rel = path.relative_to(artifact.root).as_posix()
        hasher.update(rel.encode("utf-8") + b"\0")
        if path.is_symlink():
            hasher.update(b"link:" + os.readlink(path).encode("utf-8", "surrogateescape"))
        else:
            file_hash = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    file_hash.update(block)
            hasher.update(file_hash.digest())
        hasher.update(b"\0")
    return f"sha256:{hasher.hexdigest()}"
