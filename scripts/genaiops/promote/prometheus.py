"""A minimal client for the Prometheus HTTP query API (``GET /api/v1/query``), as Prometheus,
Thanos, Mimir and VictoriaMetrics serve it. One instant query returns one number (or None: no data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from genaiops.errors import InfraError, UsageError


@dataclass
class PrometheusClient:
    """Instant queries against ``base_url`` (e.g. ``http://prometheus.monitoring:9090``)."""

    base_url: str
    timeout: float = 10.0
    bearer_token: str | None = None

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(f"Prometheus URL {self.base_url!r} must start with http:// or https://")

    def query(self, promql: str) -> float | None:
        """The value of an instant query; None when it returns no series (no traffic yet).

        A vector with several series is refused: the query must aggregate to one number.
        Network failures and non-success answers raise InfraError (retryable).
        """
        headers = {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else {}
        url = self.base_url.rstrip("/") + "/api/v1/query"
        import httpx  # here: only a watch with a Prometheus queries it (httpx takes ~0.3 s to import)

        try:
            response = httpx.get(url, params={"query": promql}, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise InfraError(
                f"Prometheus at {self.base_url} is unreachable: {type(exc).__name__}: {exc}"
            ) from None
        try:
            body: Any = response.json()
        except ValueError:
            raise InfraError(f"Prometheus answered HTTP {response.status_code} without JSON") from None
        if response.status_code != 200 or not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise InfraError(
                f"Prometheus query failed (HTTP {response.status_code}): {error or body!r}; query: {promql}"
            )
        return _value(body.get("data"), promql)


def _value(data: Any, promql: str) -> float | None:
    if not isinstance(data, dict):
        raise InfraError(f"Prometheus answer has no data for {promql}")
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        return _number(result, promql)
    if kind == "vector" and isinstance(result, list):
        if not result:
            return None
        if len(result) > 1:
            raise UsageError(
                f"the query returns {len(result)} series; aggregate it to one (sum, max): {promql}"
            )
        return _number(result[0].get("value") if isinstance(result[0], dict) else None, promql)
    raise UsageError(f"the query must return a scalar or an instant vector, not {kind!r}: {promql}")


def _number(sample: Any, promql: str) -> float | None:
    if not isinstance(sample, list) or len(sample) != 2:
        raise InfraError(f"malformed sample {sample!r} for {promql}")
    try:
        value = float(sample[1])
    except (TypeError, ValueError):
        raise InfraError(f"non-numeric sample {sample[1]!r} for {promql}") from None
    return None if math.isnan(value) else value
