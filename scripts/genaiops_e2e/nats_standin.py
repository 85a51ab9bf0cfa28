"""Stand-ins for the two JetStream side containers whose sources are not on the Go module proxy.

Argo Events runs every JetStream EventBus pod with three containers: ``nats-server`` (built here from its
pinned module), a config reloader (``natsio/nats-server-config-reloader``, from ``github.com/nats-io/nack``)
and a metrics exporter (``natsio/prometheus-nats-exporter``). The proxy serves neither of the last two, so
where no registry is reachable the e2e cluster runs this script in their place. It says so in its log and in
everything it serves; where registries are reachable the upstream images are used instead.

- ``reloader -pid FILE -config FILE...``: what the upstream reloader does, simply: send SIGHUP to the
  server's pid (the pod shares its process namespace) whenever a config file's content changes.
- ``metrics ... URL``: serves ``/metrics`` on :7777 with no NATS series, only a line saying it is a stand-in.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import signal
import sys
import time
from pathlib import Path

BANNER = "genaiops e2e stand-in for {role}: the upstream image is not on the Go module proxy"


def _option(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg.lstrip("-") == name]


def _digest(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def reloader(args: list[str]) -> None:
    pid_files, configs = _option(args, "pid"), _option(args, "config")
    seen = _digest(configs)
    while True:
        time.sleep(5)
        now = _digest(configs)
        if now == seen:
            continue
        seen = now
        for pid_file in pid_files:
            try:
                os.kill(int(Path(pid_file).read_text().strip()), signal.SIGHUP)
                print(f"config changed: sent SIGHUP to the server ({pid_file})", flush=True)
            except (OSError, ValueError) as exc:
                print(f"config changed, but the server could not be signalled: {exc}", flush=True)


class _Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"# {BANNER.format(role='prometheus-nats-exporter')}: no NATS metrics\n".encode()
        self.send_response(200 if self.path.startswith("/metrics") else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def metrics() -> None:
    port = int(os.environ.get("STANDIN_METRICS_PORT", "7777"))  # Argo Events' metrics port
    http.server.ThreadingHTTPServer(("", port), _Metrics).serve_forever()


def main(argv: list[str]) -> int:
    role = argv[0] if argv else ""
    if role not in ("reloader", "metrics"):
        print("usage: nats_standin.py reloader|metrics ARGS...", file=sys.stderr)
        return 2
    upstream = "nats-server-config-reloader" if role == "reloader" else "prometheus-nats-exporter"
    print(BANNER.format(role=upstream), flush=True)
    if role == "reloader":
        reloader(argv[1:])
    else:
        metrics()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
