"""The e2e cluster's users: steady requests to each environment's serving gateway.

Runs in the pipeline image (Python's standard library only), mounted from a ConfigMap
(tests/e2e/infra/traffic.yaml). Every ``--interval`` seconds it posts one request to each ``--target``
(a gateway's ``/v1/generate`` URL), taking the ``--body`` values in turn (the served prompt's dataset
examples: most are answered, one is off-topic for the guardrail policy and is blocked), so the serving
pods' request metrics have series for Prometheus to scrape and the Rollouts' analyses measure real
traffic: the canary's pods get their share through the gateway Service, the model tier gets what the
gateway asks of it.

Each minute it prints a line per target: requests sent, answered (2xx), failed (HTTP status or no
connection), so a scenario's failure digest shows what the users saw. Before an environment exists its
requests fail on the connection; that is counted and the loop goes on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

REPORT_EVERY_S = 60.0


def send(url: str, body: bytes, timeout: float) -> str:
    """One request; its outcome as a short word (``ok``, an HTTP status, or ``unreachable``)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            reply.read()
            return "ok" if 200 <= reply.status < 300 else str(reply.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except (urllib.error.URLError, OSError):
        return "unreachable"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", required=True, help="a gateway's /v1/generate URL")
    parser.add_argument(
        "--body",
        action="append",
        required=True,
        help='a JSON request body, e.g. {"variables": {...}}; repeatable',
    )
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between rounds")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args(argv)
    try:
        bodies = [json.dumps(json.loads(body)).encode() for body in args.body]
    except ValueError as exc:
        parser.error(f"--body is not JSON: {exc}")
    counts = {target: Counter[str]() for target in args.target}
    reported = time.monotonic()
    for round_ in itertools.count():
        body = bodies[round_ % len(bodies)]
        started = time.monotonic()
        for target in args.target:
            counts[target][send(target, body, args.timeout)] += 1
        if started - reported >= REPORT_EVERY_S:
            for target, seen in counts.items():
                print(f"{target}: {dict(sorted(seen.items()))}", flush=True)
                seen.clear()
            reported = started
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
