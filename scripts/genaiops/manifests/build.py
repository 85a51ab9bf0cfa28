"""Find the kustomizations Argo CD would build and build them with the pinned kustomize.

Argo CD renders an Application's path with ``kustomize build`` when it holds a kustomization
file. Every folder under the searched roots that holds one is a build root, except those whose
kustomization is a ``kind: Component`` (components only make sense inside an overlay).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from genaiops.errors import UsageError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIP_DIRS = frozenset({".git", ".cache", ".tools", ".venv", "node_modules", "__pycache__"})
_BUILD_TIMEOUT = 300
_CHECKOUT = Path(__file__).resolve().parents[3]
"""The repository this package runs from (scripts/genaiops/manifests/build.py -> root)."""


def find_tool(name: str, repo: Path) -> str:
    """``$<NAME>_BIN``, ``$GENAIOPS_TOOLS_DIR/bin``, ``<repo>/.tools/bin``, this checkout's
    ``.tools/bin``, then PATH; a clear usage error otherwise."""
    candidates = [os.environ.get(f"{name.upper()}_BIN", "")]
    if os.environ.get("GENAIOPS_TOOLS_DIR"):
        candidates.append(str(Path(os.environ["GENAIOPS_TOOLS_DIR"]) / "bin" / name))
    candidates += [
        str(repo / ".tools" / "bin" / name),
        str(_CHECKOUT / ".tools" / "bin" / name),
        shutil.which(name) or "",
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate
    raise UsageError(
        f"{name} is not installed",
        hint=f"Run scripts/install-tools.sh (pinned versions into .tools/bin) or set ${name.upper()}_BIN.",
    )


def kustomization_file(folder: Path) -> Path | None:
    """The kustomization file of ``folder``, if it has one."""
    for name in KUSTOMIZATION_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def load_kustomization(path: Path) -> dict[str, object]:
    """Parse a kustomization file; anything but a mapping is an empty one (kustomize will complain)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def is_component(folder: Path) -> bool:
    """True when ``folder``'s kustomization is a kustomize Component."""
    path = kustomization_file(folder)
    return path is not None and load_kustomization(path).get("kind") == "Component"


def find_roots(repo: Path, search: list[str]) -> list[Path]:
    """Every buildable kustomization folder under the ``search`` folders of ``repo``, sorted."""
    roots: list[Path] = []
    for top in search:
        base = repo / top
        if not base.is_dir():
            continue
        for current, dirs, _files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            folder = Path(current)
            if kustomization_file(folder) is not None and not is_component(folder):
                roots.append(folder)
    return sorted(set(roots))


@dataclass
class BuildResult:
    """The output of one ``kustomize build``."""

    root: Path
    rel: str
    output: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def build(kustomize: str, root: Path, repo: Path) -> BuildResult:
    """Run ``kustomize build`` on ``root`` as Argo CD does (default build options)."""
    rel = root.relative_to(repo).as_posix() if root.is_relative_to(repo) else root.as_posix()
    try:
        proc = subprocess.run(
            [kustomize, "build", str(root)],
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return BuildResult(root, rel, error=f"kustomize build timed out after {_BUILD_TIMEOUT}s")
    if proc.returncode != 0:
        message = proc.stderr.strip().replace(str(repo) + os.sep, "") or f"exit {proc.returncode}"
        return BuildResult(root, rel, error=message)
    return BuildResult(root, rel, output=proc.stdout)
