"""``genaiops watch``: the automated rollback trigger after a promotion.

For a bake period (default 20 minutes) it polls a Prometheus-compatible query API for the deployed
version's error rate and latency; when either breaches its threshold for ``--breaches`` consecutive
polls it rolls the artifact back (``genaiops rollback``) and exits 1. A clean bake exits 0; a
metrics backend that stays unreachable exits 3 (retryable), without rolling back on no evidence.

Queries are PromQL templates; ``{kind}``, ``{id}``, ``{version}``, ``{env}`` and ``{window}`` are
replaced (other braces are PromQL's own). The defaults read the serving layer's metrics
``genaiops_serving_requests_total{kind,artifact,version,outcome}`` and
``genaiops_serving_request_duration_seconds_bucket{kind,artifact,version,le}``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genaiops.commands import command_help
from genaiops.errors import InfraError, UsageError
from genaiops.gitops import private_clone
from genaiops.kinds import parse_artifact_ref
from genaiops.lineage import ENVIRONMENTS_DIR, current
from genaiops.project import load_project
from genaiops.promote.options import add_target_options
from genaiops.promote.rollback import rollback, summary, target_for

if TYPE_CHECKING:
    from genaiops.promote.prometheus import PrometheusClient

SELECTOR = 'kind="{kind}",artifact="{id}",version="{version}"'
DEFAULT_ERROR_QUERY = (
    f'sum(rate(genaiops_serving_requests_total{{{SELECTOR},outcome="error"}}[{{window}}]))'
    f" / sum(rate(genaiops_serving_requests_total{{{SELECTOR}}}[{{window}}]))"
)
DEFAULT_LATENCY_QUERY = (
    "1000 * histogram_quantile(0.99, sum by (le) "
    f"(rate(genaiops_serving_request_duration_seconds_bucket{{{SELECTOR}}}[{{window}}])))"
)
DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """``20m``, ``30s``, ``1h``, ``500ms`` or plain seconds -> seconds."""
    match = DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 20m, 30s, 1h)")
    return float(match.group(1)) * UNITS[match.group(2)]


@dataclass
class WatchConfig:
    """Thresholds and timing of one watch."""

    bake_seconds: float = 20 * 60
    interval_seconds: float = 30.0
    max_error_rate: float = 0.02
    max_latency_ms: float = 500.0
    window: str = "5m"
    breaches: int = 1
    """Consecutive breaching polls that trigger the rollback."""
    max_query_failures: int = 3
    """Consecutive failed polls after which the watch gives up (exit 3)."""
    error_query: str = DEFAULT_ERROR_QUERY
    latency_query: str = DEFAULT_LATENCY_QUERY


@dataclass
class WatchResult:
    """The outcome of a bake: healthy, or the breach that ended it."""

    healthy: bool
    reason: str
    samples: list[dict[str, Any]] = field(default_factory=list)


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``{name}`` placeholders without touching PromQL's own braces."""
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def watch(
    client: PrometheusClient,
    config: WatchConfig,
    values: dict[str, str],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchResult:
    """Poll until the bake period ends (healthy) or the thresholds are breached often enough."""
    queries = {
        "errorRate": render(config.error_query, values),
        "latencyMs": render(config.latency_query, values),
    }
    limits = {"errorRate": config.max_error_rate, "latencyMs": config.max_latency_ms}
    deadline = clock() + config.bake_seconds
    consecutive, failures = 0, 0
    samples: list[dict[str, Any]] = []
    while True:
        sample: dict[str, Any] = {}
        try:
            for name, promql in queries.items():
                sample[name] = client.query(promql)
            failures = 0
        except InfraError as exc:
            failures += 1
            if failures >= config.max_query_failures:
                raise InfraError(
                    f"the metrics backend failed {failures} times in a row: {exc.message}",
                    hint="Nothing was rolled back; the watch step is retried.",
                ) from None
            sample = {"error": exc.message}
        samples.append(sample)
        breached = [
            f"{name} {sample[name]:g} > {limits[name]:g}"
            for name in queries
            if sample.get(name) is not None and sample[name] > limits[name]
        ]
        consecutive = consecutive + 1 if breached else 0
        if consecutive >= config.breaches:
            return WatchResult(False, "; ".join(breached), samples)
        remaining = deadline - clock()
        if remaining <= 0:
            return WatchResult(True, f"no breach during the {config.bake_seconds:g}s bake period", samples)
        sleep(min(config.interval_seconds, remaining))


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "watch",
        help=command_help("watch"),
        description="Poll a Prometheus-compatible /api/v1/query for the bake period and run "
        "`genaiops rollback` "
        "when the error rate or latency breach their thresholds. See docs/promotion.md.",
    )
    p.add_argument("artifact", metavar="KIND/ID", help="e.g. prompt/support-answer")
    p.add_argument("--env", required=True, help="the environment (from genaiops.yaml)")
    p.add_argument("--prometheus", required=True, metavar="URL", help="base URL of the query API")
    p.add_argument(
        "--bake",
        type=parse_duration,
        default=20 * 60.0,
        metavar="DURATION",
        help="how long to watch (default 20m)",
    )
    p.add_argument(
        "--interval",
        type=parse_duration,
        default=30.0,
        metavar="DURATION",
        help="time between polls (default 30s)",
    )
    p.add_argument("--max-error-rate", type=float, default=0.02, help="error ratio threshold (default 0.02)")
    p.add_argument("--max-latency-ms", type=float, default=500.0, help="p99 latency threshold (default 500)")
    p.add_argument("--window", default="5m", help="rate window in the queries (default 5m)")
    p.add_argument(
        "--breaches", type=int, default=1, help="consecutive breaching polls that trigger (default 1)"
    )
    p.add_argument("--error-query", default=DEFAULT_ERROR_QUERY, help="PromQL template for the error rate")
    p.add_argument("--latency-query", default=DEFAULT_LATENCY_QUERY, help="PromQL template for latency in ms")
    p.add_argument(
        "--version",
        dest="watched_version",
        metavar="VERSION",
        help="the version to watch (default: the one deployed, from the lineage)",
    )
    p.add_argument(
        "--no-rollback", action="store_true", help="only report a breach (exit 1), do not roll back"
    )
    add_target_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    kind, artifact_id = parse_artifact_ref(args.artifact)
    if args.breaches < 1 or args.interval <= 0:
        raise UsageError("--breaches must be at least 1 and --interval positive")
    project = load_project(args.repo)
    env = project.environment(args.env)
    target = target_for(project, args.remote, args.branch)
    version = args.watched_version
    if version is None:
        with private_clone(target.remote, target.branch, checkout=[ENVIRONMENTS_DIR]) as clone:
            deployed = current(clone, env.name, kind, artifact_id)
        if deployed is None:
            raise UsageError(f"{kind}/{artifact_id} is not deployed in {env.name}: nothing to watch")
        version = deployed.version
    config = WatchConfig(
        bake_seconds=args.bake,
        interval_seconds=args.interval,
        max_error_rate=args.max_error_rate,
        max_latency_ms=args.max_latency_ms,
        window=args.window,
        breaches=args.breaches,
        error_query=args.error_query,
        latency_query=args.latency_query,
    )
    values = {"kind": kind, "id": artifact_id, "version": version, "env": env.name, "window": config.window}
    sys.stderr.write(f"watch: {kind}/{artifact_id} {version} in {env.name} for {config.bake_seconds:g}s\n")
    from genaiops.promote.prometheus import PrometheusClient  # httpx: slow to import, only needed here

    result = watch(PrometheusClient(args.prometheus), config, values)
    output: dict[str, Any] = {
        "healthy": result.healthy,
        "reason": result.reason,
        "version": version,
        "polls": len(result.samples),
        "last": result.samples[-1] if result.samples else None,
    }
    if result.healthy:
        sys.stderr.write(f"watch: healthy: {result.reason}\n")
        sys.stdout.write(json.dumps(output, indent=2) + "\n")
        return 0
    sys.stderr.write(f"watch: breach: {result.reason}\n")
    if not args.no_rollback:
        outcome, chosen = rollback(
            project,
            env.name,
            kind,
            artifact_id,
            remote=target.remote,
            branch=target.branch,
            approver=f"genaiops watch ({result.reason})",
        )
        output["rollback"] = summary(outcome, chosen)
        sys.stderr.write(f"watch: rolled back: {json.dumps(output['rollback'])}\n")
    sys.stdout.write(json.dumps(output, indent=2) + "\n")
    return 1
