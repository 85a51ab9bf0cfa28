"""`genaiops watch` against a local HTTP server that speaks the Prometheus query API (real sockets)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from genaiops.errors import InfraError, UsageError
from genaiops.promote.prometheus import PrometheusClient
from genaiops.promote.watch import WatchConfig, parse_duration, render, watch
from tests.unit.promote_support import World, git, make_world


class MetricsServer(ThreadingHTTPServer):
    """Answers /api/v1/query with the next value of a per-metric script (the last value repeats)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts: dict[str, list[float | None]] = {"error": [0.0], "latency": [100.0]}
        self.queries: list[str] = []
        self.fail = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_value(self, metric: str) -> float | None:
        script = self.scripts[metric]
        return script.pop(0) if len(script) > 1 else script[0]


class _Handler(BaseHTTPRequestHandler):
    server: MetricsServer

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        if parsed.path != "/api/v1/query":
            self._send(404, {"status": "error", "error": "not found"})
            return
        if self.server.fail:
            self._send(503, {"status": "error", "errorType": "unavailable", "error": "overloaded"})
            return
        query = parse_qs(parsed.query)["query"][0]
        self.server.queries.append(query)
        value = self.server.next_value("latency" if "duration" in query else "error")
        result = [] if value is None else [{"metric": {}, "value": [1700000000.0, str(value)]}]
        self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def metrics() -> Iterator[MetricsServer]:
    server = MetricsServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any) -> World:
    """dev deploys prompt/greeter 1.0.0 and then 2.0.0 (the version being watched)."""
    monkeypatch.setenv("REPORT_PATH", str(tmp_path / "command-report.json"))
    world = make_world(tmp_path)
    for version in ("1.0.0", "2.0.0"):
        artifact = world.write_artifact("prompt", "greeter", version, text=version)
        world.write_reports([artifact])
        result = run_cli(
            "promote",
            "--env",
            "dev",
            "--repo",
            str(world.repo),
            "--reports",
            str(world.reports),
            str(artifact.root),
        )
        assert result.code == 0, result.stderr
    return world


def _watch(run_cli: Any, world: World, metrics: MetricsServer, *extra: str, bake: str = "0.6s") -> Any:
    """Run `genaiops watch`; a test that expects a breach passes a long bake, because watch stops at the
    breach and a short bake could end before a slow (loaded) machine reaches the scripted breach."""
    return run_cli(
        "watch",
        "--env",
        "dev",
        "--repo",
        str(world.repo),
        "--prometheus",
        metrics.url,
        "--bake",
        bake,
        "--interval",
        "0.1s",
        *extra,
        "prompt/greeter",
        report=False,
    )


def test_clean_bake_exits_0_without_rollback(world: World, metrics: MetricsServer, run_cli: Any) -> None:
    head = git(world.remote, "rev-parse", "main").strip()
    result = _watch(run_cli, world, metrics)
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["healthy"] and out["version"] == "2.0.0" and out["polls"] >= 1
    assert git(world.remote, "rev-parse", "main").strip() == head
    assert any('version="2.0.0"' in q and 'artifact="greeter"' in q and "[5m]" in q for q in metrics.queries)


def test_error_rate_breach_rolls_back(world: World, metrics: MetricsServer, run_cli: Any) -> None:
    metrics.scripts["error"] = [0.001, 0.001, 0.2]
    result = _watch(run_cli, world, metrics, "--max-error-rate", "0.05", bake="60s")
    assert result.code == 1
    out = json.loads(result.stdout)
    assert not out["healthy"] and out["reason"] == "errorRate 0.2 > 0.05"
    assert out["rollback"]["to"]["version"] == "1.0.0"
    assert (
        git(world.remote, "log", "-1", "--format=%s", "main").strip()
        == "roll back prompt/greeter 1.0.0 in dev"
    )


def test_latency_breach_needs_consecutive_polls(world: World, metrics: MetricsServer, run_cli: Any) -> None:
    metrics.scripts["latency"] = [900.0, 100.0, 900.0, 100.0]  # two isolated spikes: no rollback
    head = git(world.remote, "rev-parse", "main").strip()
    result = _watch(run_cli, world, metrics, "--breaches", "2", "--no-rollback")
    assert result.code == 0, result.stdout
    metrics.scripts["latency"] = [900.0, 950.0]
    breached = _watch(run_cli, world, metrics, "--breaches", "2", "--no-rollback", bake="60s")
    assert breached.code == 1 and "latencyMs 950 > 500" in json.loads(breached.stdout)["reason"]
    assert git(world.remote, "rev-parse", "main").strip() == head  # --no-rollback


def test_unreachable_metrics_exit_3_and_do_not_roll_back(
    world: World, metrics: MetricsServer, run_cli: Any
) -> None:
    metrics.fail = True
    head = git(world.remote, "rev-parse", "main").strip()
    result = _watch(run_cli, world, metrics, bake="60s")  # exits 3 after consecutive failures
    assert result.code == 3
    assert "metrics backend failed 3 times" in result.stderr
    assert git(world.remote, "rev-parse", "main").strip() == head


def test_no_data_is_not_a_breach(metrics: MetricsServer) -> None:
    metrics.scripts["error"] = [None]
    ticks = iter(range(100))
    result = watch(
        PrometheusClient(metrics.url),
        WatchConfig(bake_seconds=3, interval_seconds=1),
        {"kind": "prompt", "id": "x", "version": "1", "env": "dev", "window": "1m"},
        clock=lambda: float(next(ticks)),
        sleep=lambda _s: None,
    )
    assert result.healthy and result.samples[0]["errorRate"] is None
    assert len(result.samples) == 3  # polls at t=0, 1, 2; the bake ends at t=3


def test_client_refuses_unaggregated_queries_and_bad_urls(metrics: MetricsServer) -> None:
    with pytest.raises(UsageError):
        PrometheusClient("ftp://example")
    with pytest.raises(InfraError, match="unreachable"):
        PrometheusClient("http://127.0.0.1:9", timeout=1).query("up")
    metrics.fail = True
    with pytest.raises(InfraError, match="HTTP 503"):
        PrometheusClient(metrics.url).query("up")


def test_durations_and_templates() -> None:
    assert parse_duration("20m") == 1200 and parse_duration("1.5s") == 1.5 and parse_duration("90") == 90
    with pytest.raises(Exception, match="not a duration"):
        parse_duration("soon")
    assert render('rate(x{a="{id}"}[{window}])', {"id": "p", "window": "5m"}) == 'rate(x{a="p"}[5m])'
