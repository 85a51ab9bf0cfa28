"""The JetStream side-container stand-in: it says what it is, and its reloader really signals the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from genaiops_e2e import nats_standin

SCRIPT = Path(nats_standin.__file__)


def test_the_reloader_signals_the_server_when_its_config_changes(tmp_path: Path) -> None:
    config = tmp_path / "nats-js.conf"
    config.write_text("port: 4222\n")
    marker = tmp_path / "hup"
    # the "server": writes a file on SIGHUP (what nats-server does is reload its config)
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, pathlib, time\n"
            f"signal.signal(signal.SIGHUP, lambda *_: pathlib.Path({str(marker)!r}).write_text('hup'))\n"
            "while True: time.sleep(0.1)\n",
        ]
    )
    pid = tmp_path / "nats.pid"
    pid.write_text(str(server.pid))
    reloader = subprocess.Popen(
        [sys.executable, str(SCRIPT), "reloader", "-pid", str(pid), "-config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reloader.stdout is not None
        assert "stand-in for nats-server-config-reloader" in reloader.stdout.readline()
        time.sleep(1)
        assert not marker.exists()
        config.write_text("port: 4222\nmax_payload: 2MB\n")
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.read_text() == "hup"
    finally:
        reloader.kill()
        server.send_signal(signal.SIGKILL)
        reloader.wait()
        server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_metrics_stand_in_says_it_serves_no_metrics() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "metrics"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "STANDIN_METRICS_PORT": str(port)},
    )
    try:
        assert proc.stdout is not None
        assert "stand-in for prometheus-nats-exporter" in proc.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert "stand-in" in body and "no NATS metrics" in body
    finally:
        proc.kill()
        proc.wait()


def test_an_unknown_role_is_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "exporter"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "usage" in proc.stderr
