"""What an environment deploys, as a repository tree the stages can check: ``--deployed`` on validate/eval.

Promotion writes each artifact's files to ``environments/<env>/artifacts/<kind>/<id>/`` (the snapshot Argo
CD syncs). Scheduled checks (the nightly drift eval, the RAG freshness validation) must look at exactly
that, not at the default branch's ``artifacts/`` folder, which may hold versions no environment runs. This
module builds a temporary repository whose ``artifacts/<folder>/<id>/`` are the environment's snapshots,
next to the shared files the stages read (``genaiops.yaml``, the model catalog and every non-kind folder
under ``artifacts/``, and ``environments/`` for baselines and lineage).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from genaiops.errors import UsageError
from genaiops.kinds import ARTIFACTS_DIR, BY_FOLDER, BY_NAME
from genaiops.lineage import ENVIRONMENTS_DIR

SHARED_FILES = ("genaiops.yaml",)


def snapshot_root(repo: Path, env: str) -> Path:
    """``environments/<env>/artifacts`` of ``repo``."""
    return repo / ENVIRONMENTS_DIR / env / ARTIFACTS_DIR


@contextmanager
def deployed_tree(repo: Path, env: str) -> Iterator[Path]:
    """A throw-away repository holding what ``env`` deploys in place of ``artifacts/<kind folders>``."""
    if not (repo / ENVIRONMENTS_DIR / env).is_dir():
        raise UsageError(f"environment {env!r} has no folder {ENVIRONMENTS_DIR}/{env} in {repo}")
    workdir = Path(tempfile.mkdtemp(prefix=f"genaiops-deployed-{env}-"))
    try:
        tree = workdir / "repo"
        tree.mkdir()
        for name in SHARED_FILES:
            if (repo / name).is_file():
                shutil.copy2(repo / name, tree / name)
        shutil.copytree(repo / ENVIRONMENTS_DIR, tree / ENVIRONMENTS_DIR, symlinks=True)
        artifacts = tree / ARTIFACTS_DIR
        artifacts.mkdir()
        for child in sorted((repo / ARTIFACTS_DIR).iterdir()) if (repo / ARTIFACTS_DIR).is_dir() else []:
            if child.name not in BY_FOLDER and child.is_dir() and not child.is_symlink():
                shutil.copytree(child, artifacts / child.name, symlinks=True)  # the catalog and the like
        for folder in BY_FOLDER:  # every kind's folder exists, empty when nothing of it is deployed
            (artifacts / folder).mkdir(exist_ok=True)
        snapshots = snapshot_root(repo, env)
        for kind_dir in sorted(snapshots.iterdir()) if snapshots.is_dir() else []:
            kind = BY_NAME.get(kind_dir.name)
            if kind is None or not kind_dir.is_dir():
                continue
            for artifact in sorted(kind_dir.iterdir()):
                if artifact.is_dir() and not artifact.is_symlink():
                    shutil.copytree(
                        artifact, artifacts / kind.folder / artifact.name, symlinks=True, dirs_exist_ok=True
                    )
        yield tree
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
