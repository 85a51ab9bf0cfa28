"""The e2e harness cache and log: entries appear only when complete, stale scratch goes, no secret prints."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from genaiops_e2e import cache, proc


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GENAIOPS_E2E_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_an_entry_is_built_once_and_reused() -> None:
    calls: list[Path] = []

    def build(out: Path) -> None:
        calls.append(out)
        (out / "bin").write_text("built")

    first = cache.entry("tools", "v1", build)
    second = cache.entry("tools", "v1", build)
    assert first == second
    assert (first / "bin").read_text() == "built"
    assert len(calls) == 1


def test_an_interrupted_build_leaves_no_entry_and_is_redone() -> None:
    def broken(out: Path) -> None:
        (out / "half").write_text("x")
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError):
        cache.entry("tools", "v1", broken)
    assert not (cache.cache_root() / "tools" / "v1").exists()
    assert not list((cache.cache_root() / "tools").iterdir())

    done = cache.entry("tools", "v1", lambda out: (out / "ok").write_text("y"))
    assert sorted(p.name for p in done.iterdir()) == ["ok"]


def test_scratch_sweeps_only_stale_folders_and_removes_its_own() -> None:
    parent = cache.cache_root() / ".scratch"
    parent.mkdir()
    stale = parent / "node-killed"
    stale.mkdir()
    (stale / "images.tar").write_bytes(b"0" * 16)
    old = time.time() - cache.STALE_SCRATCH_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = parent / "node-running"
    fresh.mkdir()

    with cache.scratch("node-") as folder:
        assert folder.parent == parent
        (folder / "images.tar").write_bytes(b"1")
        assert not stale.exists()
        assert fresh.exists()
    assert not folder.exists()


def test_content_key_changes_with_file_contents(tmp_path: Path) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text("FROM scratch\n")
    before = cache.content_key("image", files=[f])
    assert before == cache.content_key("image", files=[f])
    f.write_text("FROM scratch\nCOPY x /\n")
    assert cache.content_key("image", files=[f]) != before


def test_secrets_are_redacted_from_logs_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    proc.SECRETS.add("s3cr3t-token")
    try:
        proc.log("pushing with s3cr3t-token")
        err = proc.HarnessError("git push https://u:s3cr3t-token@host failed")
    finally:
        proc.SECRETS.discard("s3cr3t-token")
    assert "s3cr3t-token" not in capsys.readouterr().err
    assert "s3cr3t-token" not in str(err)
    assert "***" in str(err)
