"""Where the numbers that raise alarms are sent: CloudWatch in production, nowhere locally.

Alarms (``infra/alarms.yaml``) read a handful of gauges a worker sends every minute. Each
is a count or an age in seconds under a fixed name: nothing about a report, a call or a
caller can become a name or a dimension, and no value is ever a reference.

| sink              | embedded default        | production                          |
| ``MetricSink``    | ``HeldMetrics`` (memory) | ``CloudWatchMetrics`` (PutMetricData) |

Vendor errors become :class:`MetricsUnavailable` here, so no other module imports botocore.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError


class MetricsUnavailable(Exception):
    """The metrics service did not take the values."""


class MetricSink(Protocol):
    def put(self, values: Mapping[str, float]) -> None:
        """Send one reading of each named gauge."""


class HeldMetrics:
    """Keeps the latest reading of each gauge in memory (the embedded default; tests)."""

    def __init__(self) -> None:
        self.latest: dict[str, float] = {}
        self._lock = threading.Lock()

    def put(self, values: Mapping[str, float]) -> None:
        with self._lock:
            self.latest.update(values)


class CloudWatchMetrics:
    """Sends readings to CloudWatch under one namespace, e.g. ``IVR/production``."""

    def __init__(self, client: Any, namespace: str) -> None:
        self._client, self.namespace = client, namespace

    def put(self, values: Mapping[str, float]) -> None:
        data = [
            {"MetricName": name, "Value": float(value), "Unit": _unit(name)}
            for name, value in sorted(values.items())
        ]
        try:
            for start in range(0, len(data), 1000):  # PutMetricData takes 1,000 at most
                self._client.put_metric_data(
                    Namespace=self.namespace, MetricData=data[start : start + 1000]
                )
        except (BotoCoreError, ClientError) as error:
            raise MetricsUnavailable(type(error).__name__) from None


def _unit(name: str) -> str:
    return "Seconds" if name.endswith("Seconds") else "Count"
