"""Record/replay cassettes, provenance and the synthetic flag; config parsing; backoff."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from genaiops.errors import ArtifactError, UsageError
from genaiops.llm.cassette import CassetteMiss, CassetteStore, model_slug
from genaiops.llm.config import ProviderConfig
from genaiops.llm.localserver import ReferenceModel, ReferenceServer
from genaiops.llm.provider import Provider, ProviderMode
from genaiops.llm.retry import Backoff, parse_retry_after
from genaiops.llm.types import ChatRequest


def _req(text: str, model: str = "genaiops/reference-chat", repeat: int = 0) -> ChatRequest:
    return ChatRequest(
        model,
        ({"role": "system", "content": "Be brief."}, {"role": "user", "content": text}),
        {"temperature": 0, "max_tokens": 64},
        repeat,
    )


def _record(server: ReferenceServer, folder: Path, texts: list[str]) -> list[Path]:
    config = ProviderConfig(base_url=server.base_url, max_retries=0)
    with Provider(config, mode=ProviderMode.RECORD, cassette_dir=folder) as provider:
        provider.chat_many([_req(t) for t in texts])
        return provider.save()


def test_record_then_replay_without_network(tmp_path: Path) -> None:
    folder = tmp_path / "eval" / "cassettes"
    with ReferenceServer() as server:
        written = _record(server, folder, ["alpha", "beta"])
    assert [p.name for p in written] == ["genaiops--reference-chat.jsonl"]
    header = json.loads(written[0].read_text(encoding="utf-8").splitlines()[0])
    assert header["synthetic"] is True and "reference server" in header["syntheticReason"]
    assert header["model"] == "genaiops/reference-chat" and header["endpoint"].startswith("http://127.0.0.1")
    # the server is gone: replay must not touch the network
    dead = ProviderConfig(base_url="http://127.0.0.1:9/v1", max_retries=0)
    with Provider(dead, mode=ProviderMode.REPLAY, cassette_dir=folder) as provider:
        answers = [provider.chat(_req(t)).content for t in ("beta", "alpha")]
        assert answers == ["beta", "alpha"]
        assert provider.calls == 0
        provenance = provider.provenance()
    assert provenance["synthetic"] is True
    assert provenance["cassettes"][0]["file"].endswith("genaiops--reference-chat.jsonl")


def test_replay_miss_names_the_request(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    with ReferenceServer() as server:
        _record(server, folder, ["alpha"])
    provider = Provider(ProviderConfig(), mode=ProviderMode.REPLAY, cassette_dir=folder)
    with provider, pytest.raises(CassetteMiss) as info:
        provider.chat(_req("gamma"))
    assert "'gamma'" in info.value.message
    assert "genaiops/reference-chat" in info.value.message
    assert info.value.rule_id == "eval/cassette-miss"
    assert info.value.exit_code == 1


def test_repeat_index_is_part_of_the_key(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    with ReferenceServer() as server:
        _record(server, folder, ["alpha"])
    with Provider(ProviderConfig(), mode=ProviderMode.REPLAY, cassette_dir=folder) as provider:
        provider.chat(_req("alpha", repeat=0))
        with pytest.raises(CassetteMiss, match="repeat 1"):
            provider.chat(_req("alpha", repeat=1))


def test_rerecording_unchanged_run_gives_identical_entries(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    with ReferenceServer() as server:
        first = _entries(_record(server, folder, ["b", "a"])[0])
        second = _entries(_record(server, folder, ["a", "b"])[0])
    assert first == second
    assert [e["request"]["messages"][1]["content"] for e in first] == [
        "b",
        "a",
    ]  # sorted by key, not call order


def _entries(path: Path) -> list[dict]:
    """Cassette entries without the measured latency (the one field that differs between recordings)."""
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    for entry in entries:
        entry["response"].pop("latency_s")
    return entries


def test_server_answers_from_a_cassette(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    request = _req("capital of France?")
    header = {
        "cassette": "genaiops.dev/cassette/v1",
        "model": request.model,
        "endpoint": "hand-written",
        "recordedAt": "2026-11-22T00:00:00+00:00",
        "genaiopsVersion": "0.1.0",
        "synthetic": True,
        "syntheticReason": "written by hand for the example",
    }
    entry = {
        "key": request.key,
        "request": request.identity(),
        "response": {"content": "Paris", "model": "m"},
    }
    (folder / "m.jsonl").write_text(json.dumps(header) + "\n" + json.dumps(entry) + "\n", encoding="utf-8")
    with (
        ReferenceServer(model=ReferenceModel().load(folder)) as server,
        Provider(ProviderConfig(base_url=server.base_url)) as provider,
    ):
        assert provider.chat(request).content == "Paris"
    store = CassetteStore(folder).load()
    assert store.lookup(request.key) == {"content": "Paris", "model": "m"}
    assert store.synthetic


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json\n", "not JSON"),
        ('{"cassette": "other"}\n', "header"),
        ('{"cassette": "genaiops.dev/cassette/v1", "synthetic": true}\n', "syntheticReason"),
        ('{"cassette": "genaiops.dev/cassette/v1"}\n{"key": 1}\n', "needs a string"),
        ("", "empty"),
    ],
)
def test_malformed_cassette_is_a_clear_finding(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(ArtifactError, match=message) as info:
        CassetteStore(tmp_path).load()
    assert info.value.rule_id == "eval/bad-cassette"


def test_model_slug_is_file_safe() -> None:
    assert model_slug("meta-llama/Llama-3.1-8B:instruct") == "meta-llama--llama-3.1-8b-instruct"
    assert model_slug("///") == "model"


def test_config_from_settings_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENAIOPS_LLM_BASE_URL", raising=False)
    settings = {
        "llm": {"baseUrl": "http://llm.internal/v1", "timeout": 30, "concurrency": 16},
        "environments": [{"name": "prod", "llm": {"baseUrl": "https://prod/v1", "apiKeyEnv": "PROD_KEY"}}],
    }
    staging = ProviderConfig.from_settings(settings, "staging")
    prod = ProviderConfig.from_settings(settings, "prod")
    assert (staging.base_url, staging.timeout_s, staging.concurrency) == ("http://llm.internal/v1", 30.0, 16)
    assert (prod.base_url, prod.api_key_env, prod.timeout_s) == ("https://prod/v1", "PROD_KEY", 30.0)
    monkeypatch.setenv("GENAIOPS_LLM_BASE_URL", "http://127.0.0.1:1234/v1")
    assert ProviderConfig.from_settings(settings, "prod").base_url == "http://127.0.0.1:1234/v1"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"llm": {"baseUrl": "ftp://x"}}, "http"),
        ({"llm": {"timeout": "soon"}}, "number"),
        ({"llm": {"concurrency": 0}}, "at least 1"),
        ({"llm": {"apiKey": "sk-literal"}}, "unknown llm setting"),
        ({"llm": ["x"]}, "mapping"),
    ],
)
def test_config_errors_are_usage_errors(
    settings: dict, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GENAIOPS_LLM_BASE_URL", raising=False)
    with pytest.raises(UsageError, match=message):
        ProviderConfig.from_settings(settings)


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    backoff = Backoff(base_s=1.0, max_s=4.0, max_retry_after_s=10.0, rng=random.Random(7))
    delays = [[backoff.delay(attempt) for _ in range(200)] for attempt in range(5)]
    assert all(0 <= d <= 1.0 for d in delays[0])
    assert all(0 <= d <= 4.0 for d in delays[4])
    assert max(delays[2]) > 2.0  # the ceiling grew from 1 to 4
    assert backoff.delay(0, retry_after=60) == 10.0
    assert backoff.delay(3, retry_after=2.5) == 2.5


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Sun, 22 Nov 2026 00:00:10 GMT", now=1795305600.0) == pytest.approx(10.0)
