"""The compiled-code cache: generated once, reused, keyed by what the code is made from, never trusted
from a folder others can write to, and never a failure when it cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaiops.codecache import cached_code

SOURCE = "def first(x):\n    return x + 1\n\n\ndef second():\n    return 0\n"


def _counting(calls: list[int], source: str = SOURCE):  # type: ignore[no-untyped-def]
    def generate() -> str:
        calls.append(1)
        return source

    return generate


def _run(code, entry: str, arg: int) -> int:  # type: ignore[no-untyped-def]
    namespace: dict[str, object] = {}
    exec(code, namespace)
    return namespace[entry](arg)  # type: ignore[operator]


def test_generated_once_then_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENAIOPS_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[int] = []
    code, entry = cached_code("demo", "key-1", _counting(calls))
    assert entry == "first" and _run(code, entry, 1) == 2
    again, _ = cached_code("demo", "key-1", _counting(calls))
    assert calls == [1] and _run(again, entry, 41) == 42
    assert (tmp_path / "cache/code").stat().st_mode & 0o777 == 0o700
    other, _ = cached_code("demo", "key-2", _counting(calls, SOURCE.replace("x + 1", "x + 2")))
    assert calls == [1, 1] and _run(other, "first", 1) == 3, "another key is another entry"


def test_a_folder_others_can_write_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GENAIOPS_CACHE_DIR", str(cache))
    calls: list[int] = []
    cached_code("demo", "k", _counting(calls))
    (cache / "code").chmod(0o777)
    cached_code("demo", "k", _counting(calls))
    assert calls == [1, 1]


def test_garbage_or_an_unwritable_cache_only_costs_the_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("GENAIOPS_CACHE_DIR", str(cache))
    calls: list[int] = []
    cached_code("demo", "k", _counting(calls))
    for entry in (cache / "code").iterdir():
        entry.write_bytes(b"\x00garbage")
    code, entry_name = cached_code("demo", "k", _counting(calls))
    assert calls == [1, 1] and _run(code, entry_name, 0) == 1
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("GENAIOPS_CACHE_DIR", str(blocker / "cache"))
    code, entry_name = cached_code("demo", "k", _counting(calls))
    assert calls == [1, 1, 1] and _run(code, entry_name, 0) == 1
