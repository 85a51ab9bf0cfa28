"""Prometheus metrics of the serving workload, per artifact version (docs/serving.md#metrics).

The names and labels are the contract with ``genaiops watch`` (docs/promotion.md section 7) and with the
Argo Rollouts AnalysisTemplates under environments/base/: ``genaiops_serving_requests_total{kind,
artifact,version,outcome}`` and ``genaiops_serving_request_duration_seconds_bucket{kind,artifact,version,
le}``. Every series also carries ``revision`` (the pod's ``rollouts-pod-template-hash``, from
``$GENAIOPS_REVISION``) so a canary analysis can tell the canary's pods from the control's.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

OUTCOMES = ("ok", "blocked", "rejected", "error")
"""ok: answered; blocked: a guardrail said BLOCK; rejected: the request was invalid (4xx, the caller's
fault); error: the server or its upstream failed (5xx) - the error rate the analyses watch."""
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServingMetrics:
    """One registry per server (tests run several in one process)."""

    def __init__(self, revision: str = "") -> None:
        self.revision = revision
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "genaiops_serving_requests",
            "Requests served, per artifact version and outcome.",
            ("kind", "artifact", "version", "outcome", "revision"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "genaiops_serving_request_duration_seconds",
            "Time to answer a request, per artifact version.",
            ("kind", "artifact", "version", "revision"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "genaiops_serving_guardrail_verdicts",
            "Guardrail verdicts (ALLOW, FLAG, BLOCK), per policy version.",
            ("artifact", "version", "verdict", "revision"),
            registry=self.registry,
        )
        self.loaded = Gauge(
            "genaiops_serving_artifact_loaded",
            "1 when the artifact is mounted and valid, else 0.",
            ("kind", "artifact", "version", "revision"),
            registry=self.registry,
        )

    def observe(self, artifacts: list[tuple[str, str, str]], outcome: str, seconds: float) -> None:
        """Count one request for each (kind, id, version) that took part in it."""
        for kind, ident, version in artifacts:
            self.requests.labels(kind, ident, version, outcome, self.revision).inc()
            self.duration.labels(kind, ident, version, self.revision).observe(seconds)

    def verdict(self, ident: str, version: str, verdict: str) -> None:
        self.verdicts.labels(ident, version, verdict, self.revision).inc()

    def set_loaded(self, kind: str, ident: str, version: str, ok: bool) -> None:
        """Record the artifact's state; a loaded one gets its request series for every outcome, and its
        latency histogram, at 0.

        A series appears only once created, and a rate over a missing series is no data rather than
        0: without this, a revision that never failed has no ``outcome="error"`` series, and every
        error-rate analysis of it would be Inconclusive instead of measuring 0 errors; and the first
        requests of a new revision would be missing from the rate of its latency buckets.
        """
        self.loaded.labels(kind, ident, version, self.revision).set(1 if ok else 0)
        if ok:
            for outcome in OUTCOMES:
                self.requests.labels(kind, ident, version, outcome, self.revision)
            self.duration.labels(kind, ident, version, self.revision)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
