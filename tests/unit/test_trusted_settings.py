"""A pull request's checks send credentials only where the base commit says: endpoint settings come from
$GENAIOPS_TRUSTED_REF, everything else from the change under test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from genaiops.errors import UsageError
from genaiops.llm.config import ProviderConfig
from genaiops.project import load_project
from genaiops.trusted import TRUSTED_REF_ENV, vector_store_key_env
from genaiops.validate.environment import _settings

RAG = "artifacts/rag/docs/rag.yaml"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _write(repo: Path, rel: str, data: dict) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def _project(llm: dict, env_llm: dict, threshold: float) -> dict:
    return {
        "llm": llm,
        "environments": [{"name": "dev", "llm": env_llm, "thresholds": {"exact_match": threshold}}],
    }


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A base commit with trusted endpoints, and a pull request's head that points them elsewhere."""
    repo = tmp_path / "team"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    trusted_llm = {"baseUrl": "https://llm.internal/v1", "apiKeyEnv": "LLM_KEY"}
    _write(repo, "genaiops.yaml", _project(trusted_llm, {"timeout": 30}, 0.5))
    _write(
        repo,
        "environments/dev/settings.yaml",
        {"llm": {"endpoint": "https://llm.internal/v1", "apiKeyEnv": "LLM_KEY"}, "thresholds": {"a": 1}},
    )
    _write(repo, RAG, {"vector_store": {"url": "https://qdrant.internal", "api_key_env": "QDRANT_KEY"}})
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    attacker = {"baseUrl": "https://attacker.example/v1", "apiKeyEnv": "AWS_SECRET_ACCESS_KEY"}
    _write(repo, "genaiops.yaml", _project(attacker, {"baseUrl": "https://attacker.example/v1"}, 0.1))
    _write(
        repo,
        "environments/dev/settings.yaml",
        {
            "llm": {"endpoint": "https://attacker.example/v1", "apiKeyEnv": "AWS_SECRET_ACCESS_KEY"},
            "vectorStore": {"url": "https://attacker.example"},
            "thresholds": {"a": 2},
        },
    )
    _git(repo, "commit", "-qam", "pull request")
    return repo, base


def test_without_a_trusted_commit_the_working_tree_decides(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repo
    monkeypatch.delenv(TRUSTED_REF_ENV, raising=False)
    monkeypatch.delenv("GENAIOPS_LLM_BASE_URL", raising=False)
    config = ProviderConfig.from_settings(load_project(root).settings, "dev")
    assert config.base_url == "https://attacker.example/v1"


def test_endpoints_and_key_variables_come_from_the_trusted_commit(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, base = repo
    monkeypatch.setenv(TRUSTED_REF_ENV, base)
    monkeypatch.delenv("GENAIOPS_LLM_BASE_URL", raising=False)
    project = load_project(root)
    config = ProviderConfig.from_settings(project.settings, "dev")
    assert (config.base_url, config.api_key_env, config.timeout_s) == (
        "https://llm.internal/v1",
        "LLM_KEY",
        30,
    )
    # the rest is the change under test
    assert project.settings["environments"][0]["thresholds"] == {"exact_match": 0.1}
    env = _settings(root, "dev")
    assert env["llm"] == {"endpoint": "https://llm.internal/v1", "apiKeyEnv": "LLM_KEY"}
    assert "vectorStore" not in env  # the base commit names none: the change's is dropped
    assert env["thresholds"] == {"a": 2}


def test_a_vector_store_key_goes_only_where_the_trusted_commit_sends_it(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, base = repo
    store = {"url": "https://qdrant.internal", "api_key_env": "QDRANT_KEY"}
    monkeypatch.delenv(TRUSTED_REF_ENV, raising=False)
    assert vector_store_key_env(root, RAG, store, "https://attacker.example") == "QDRANT_KEY"
    monkeypatch.setenv(TRUSTED_REF_ENV, base)
    assert vector_store_key_env(root, RAG, store, "https://qdrant.internal") == "QDRANT_KEY"
    assert vector_store_key_env(root, RAG, store, "https://attacker.example") is None
    renamed = {**store, "api_key_env": "AWS_SECRET_ACCESS_KEY"}
    assert vector_store_key_env(root, RAG, renamed, "https://qdrant.internal") is None
    # a RAG config the base commit does not have gets no key
    assert vector_store_key_env(root, "artifacts/rag/new/rag.yaml", store, "https://qdrant.internal") is None


@pytest.mark.parametrize("ref", ["0" * 40, "--output=/tmp/x", "no-such-branch"])
def test_a_trusted_commit_the_checkout_lacks_is_a_usage_error(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, ref: str
) -> None:
    root, _ = repo
    monkeypatch.setenv(TRUSTED_REF_ENV, ref)
    with pytest.raises(UsageError, match="is not a commit of the checkout"):
        load_project(root)
