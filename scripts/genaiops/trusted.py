"""Endpoint and credential settings from a trusted commit, never from the change under test.

A pull request's checks run its code on its files, but where they send the pipeline's credentials must
not be its choice: a pull request that points ``llm.baseUrl`` at its own server, or names another
variable as ``apiKeyEnv``, would otherwise receive a secret. With ``$GENAIOPS_TRUSTED_REF`` set (the
pull-request pipeline sets it to the base commit), these settings are read from that commit instead of
the working tree:

- ``genaiops.yaml``: the top-level ``llm``, ``embedding`` and ``endpoints`` mappings, and each
  environment's ``llm`` (an environment the trusted commit does not list gets none);
- ``environments/<env>/settings.yaml``: its ``llm``, ``embedding`` and ``vectorStore`` mappings
  (validate's endpoints and API-key variables);
- a RAG config's ``vector_store``: its API key (``api_key_env``) is used only when the trusted commit's
  version of the same file names the same variable and the request goes to a URL the trusted commit
  names (that file's ``url`` or an environment's ``vectorStore.url``); a changed or new store is still
  checked, without the key.

Everything else (thresholds, artifacts, datasets) is read from the change, as it must be to check it.
An unset or empty variable changes nothing (pushes to the default branch are trusted: they were merged).
A trusted commit the checkout does not have is a usage error, never a silent fallback to the change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from genaiops.errors import UsageError

TRUSTED_REF_ENV = "GENAIOPS_TRUSTED_REF"
PROJECT_ENDPOINT_KEYS = ("llm", "embedding", "endpoints")
"""genaiops.yaml keys that say where requests (and their credentials) go."""
ENVIRONMENT_ENDPOINT_KEYS = ("llm", "embedding", "vectorStore")
"""The same in environments/<env>/settings.yaml."""


def trusted_ref() -> str | None:
    """The trusted commit ($GENAIOPS_TRUSTED_REF), or None when settings come from the working tree."""
    return os.environ.get(TRUSTED_REF_ENV, "").strip() or None


def _trusted_mapping(root: Path, ref: str, rel: str) -> dict[str, Any]:
    """``rel`` at the trusted commit as a mapping ({} when the file does not exist there)."""
    from genaiops.gitutil import git, has_commit, show_at

    if not has_commit(root, ref):
        raise UsageError(
            f"${TRUSTED_REF_ENV} {ref!r} is not a commit of the checkout at {root}",
            hint="The pull-request pipeline sets it to the base commit; fetch it into the checkout.",
        )
    listed = git(root, "ls-tree", "--name-only", "--end-of-options", ref, "--", rel, check=False)
    if not listed.strip():
        return {}
    try:
        data = yaml.safe_load(show_at(root, ref, rel))
    except yaml.YAMLError as exc:
        raise UsageError(f"{rel} at the trusted commit {ref} is not valid YAML: {exc}") from None
    return data if isinstance(data, dict) else {}


def project_settings(root: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """genaiops.yaml ``settings`` with its endpoint settings taken from the trusted commit."""
    ref = trusted_ref()
    if ref is None:
        return settings
    trusted = _trusted_mapping(root, ref, "genaiops.yaml")
    merged = {k: v for k, v in settings.items() if k not in PROJECT_ENDPOINT_KEYS}
    merged.update({k: trusted[k] for k in PROJECT_ENDPOINT_KEYS if k in trusted})
    trusted_envs = {
        e.get("name"): e for e in trusted.get("environments") or [] if isinstance(e, dict) and e.get("name")
    }
    environments = settings.get("environments")
    if isinstance(environments, list):
        merged["environments"] = [_environment(item, trusted_envs) for item in environments]
    return merged


def _environment(item: Any, trusted_envs: dict[Any, dict[str, Any]]) -> Any:
    if not isinstance(item, dict):
        return item
    clean = {k: v for k, v in item.items() if k != "llm"}
    trusted_llm = trusted_envs.get(item.get("name"), {}).get("llm")
    if trusted_llm is not None:
        clean["llm"] = trusted_llm
    return clean


def environment_settings(root: Path, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """``environments/<name>/settings.yaml`` ``data`` with its endpoint settings from the trusted commit."""
    ref = trusted_ref()
    if ref is None:
        return data
    trusted = _trusted_mapping(root, ref, f"environments/{name}/settings.yaml")
    clean = {k: v for k, v in data.items() if k not in ENVIRONMENT_ENDPOINT_KEYS}
    clean.update({k: trusted[k] for k in ENVIRONMENT_ENDPOINT_KEYS if k in trusted})
    return clean


def vector_store_key_env(root: Path, manifest_rel: str, store: dict[str, Any], url: str) -> str | None:
    """The RAG config's ``vector_store.api_key_env`` for a request to ``url``, or None when a trusted
    commit says the key may not go there: its version of the file names another variable, or neither
    it nor the environment's (trusted) ``vectorStore.url`` is ``url``."""
    name = store.get("api_key_env")
    name = name if isinstance(name, str) and name else None
    ref = trusted_ref()
    if ref is None or name is None:
        return name
    trusted = _trusted_mapping(root, ref, manifest_rel).get("vector_store")
    trusted = trusted if isinstance(trusted, dict) else {}
    if trusted.get("api_key_env") != name:
        return None
    return name if url in trusted_store_urls(root, trusted) else None


def trusted_store_urls(root: Path, trusted_store: dict[str, Any]) -> set[str]:
    """Where a vector-store key may go: the trusted RAG config's URL and every environment's trusted
    ``vectorStore.url``."""
    ref = trusted_ref() or "HEAD"
    urls = {str(trusted_store.get("url") or "").strip()}
    settings = _trusted_mapping(root, ref, "genaiops.yaml")
    for env in settings.get("environments") or []:
        name = env.get("name") if isinstance(env, dict) else None
        if isinstance(name, str) and name:
            section = _trusted_mapping(root, ref, f"environments/{name}/settings.yaml").get("vectorStore")
            if isinstance(section, dict) and isinstance(section.get("url"), str):
                urls.add(section["url"].strip())
    return urls - {""}
