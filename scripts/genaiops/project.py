"""The team repository genaiops works in: its root and its settings file ``genaiops.yaml``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from genaiops import trusted
from genaiops.errors import UsageError

SETTINGS_FILE = "genaiops.yaml"


@dataclass(frozen=True)
class Environment:
    """One deployment environment (an overlay under ``environments/``)."""

    name: str
    approval: bool = False
    """Promotions need a human approval (a branch and a merge request instead of a push)."""


@dataclass(frozen=True)
class Project:
    """A team repository and the answers it was rendered with."""

    root: Path
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def environments(self) -> list[Environment]:
        envs = self.settings.get("environments") or []
        return [
            Environment(str(e.get("name")), bool(e.get("approval", False)))
            for e in envs
            if isinstance(e, dict) and e.get("name")
        ]

    @property
    def kinds(self) -> list[str]:
        from genaiops.kinds import BY_NAME

        configured = self.settings.get("kinds")
        return [str(k) for k in configured] if isinstance(configured, list) else list(BY_NAME)

    def previous_environment(self, name: str) -> Environment | None:
        """The environment before ``name`` in the promotion chain (genaiops.yaml's order); None for the first.

        A version reaches an environment only once the one before it deploys it (genaiops.promote.order).
        """
        chain = self.environments
        index = [e.name for e in chain].index(self.environment(name).name)
        return chain[index - 1] if index > 0 else None

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments) or "none"
        raise UsageError(
            f"unknown environment {name!r} (known: {known})",
            hint=f"Environments are listed in {SETTINGS_FILE}.",
        )


def find_root(start: Path | None = None) -> Path:
    """The nearest ancestor of ``start`` holding genaiops.yaml or a .git folder, else ``start``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / SETTINGS_FILE).is_file():
            return candidate
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def load_project(root: Path | None = None) -> Project:
    """Load the project at ``root`` (or discovered from the working directory / $GENAIOPS_REPO)."""
    base = root or (Path(os.environ["GENAIOPS_REPO"]) if os.environ.get("GENAIOPS_REPO") else None)
    resolved = base.resolve() if base else find_root()
    if base is not None and not resolved.is_dir():
        raise UsageError(f"repository folder {base} does not exist")
    settings: dict[str, Any] = {}
    path = resolved / SETTINGS_FILE
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise UsageError(f"{SETTINGS_FILE} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise UsageError(f"{SETTINGS_FILE} must be a mapping")
        settings = loaded or {}
    # where requests and credentials go: from the trusted commit when one is set (a pull request's checks)
    return Project(root=resolved, settings=trusted.project_settings(resolved, settings))
