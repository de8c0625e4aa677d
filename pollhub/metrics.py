"""Counters, gauges and histograms, rendered in the Prometheus text format at ``/metrics``.

Deliberately tiny: pollhub needs a dozen metrics and no dependency for them.
Updates are thread-safe (one lock per metric; they are rare next to the work
they count).
"""

from __future__ import annotations

import bisect
import threading
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, TypeVar

Labels = Tuple[Tuple[str, str], ...]


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in pairs)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(pairs, escaped)) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))


class Metric:
    kind = "untyped"

    def __init__(self, name: str, help: str) -> None:
        self.name = name
        self.help = help
        self._lock = threading.Lock()

    def samples(self) -> Iterable[str]:
        raise NotImplementedError

    def render(self) -> str:
        head = f"# HELP {self.name} {self.help}\n# TYPE {self.name} {self.kind}\n"
        return head + "".join(line + "\n" for line in self.samples())


class Counter(Metric):
    """A count that only grows, optionally split by one label."""

    kind = "counter"

    def __init__(self, name: str, help: str, label: str = "", values: Sequence[str] = ()) -> None:
        super().__init__(name, help)
        self.label = label
        self._values: Dict[str, float] = {v: 0 for v in values} if label else {"": 0}

    def inc(self, amount: float = 1, label: str = "") -> None:
        with self._lock:
            self._values[label] = self._values.get(label, 0) + amount

    def value(self, label: str = "") -> float:
        with self._lock:
            return self._values.get(label, 0)

    def samples(self) -> Iterable[str]:
        with self._lock:
            items = sorted(self._values.items())
        for label, value in items:
            labels: Labels = ((self.label, label),) if self.label else ()
            yield f"{self.name}{_labels(labels)} {_number(value)}"


class Gauge(Metric):
    """A value read when the metrics are scraped."""

    kind = "gauge"

    def __init__(self, name: str, help: str, read: Callable[[], float]) -> None:
        super().__init__(name, help)
        self.read = read

    def samples(self) -> Iterable[str]:
        yield f"{self.name} {_number(self.read())}"


class Info(Metric):
    """A gauge of 1 whose labels carry facts, e.g. ``pollhub_node_info{node="1a2b3c4d",...} 1``."""

    kind = "gauge"

    def __init__(self, name: str, help: str, labels: Dict[str, str]) -> None:
        super().__init__(name, help)
        self.labels: Labels = tuple(labels.items())

    def samples(self) -> Iterable[str]:
        yield f"{self.name}{_labels(self.labels)} 1"


class CounterFunc(Gauge):
    """A count that only grows, read when the metrics are scraped."""

    kind = "counter"


class Histogram(Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help: str, buckets: Sequence[float]) -> None:
        super().__init__(name, help)
        self.bounds = sorted(buckets)
        self._counts = [0] * (len(self.bounds) + 1)
        self._sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.bounds, value)] += 1
            self._sum += value

    def samples(self) -> Iterable[str]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        running = 0
        for bound, count in zip(self.bounds + [float("inf")], counts):
            running += count
            yield f"{self.name}_bucket{_labels((('le', _number(bound)),))} {running}"
        yield f"{self.name}_sum {_number(total)}"
        yield f"{self.name}_count {running}"


M = TypeVar("M", bound=Metric)


class Registry:
    """The metrics of one server, in the order they were added."""

    def __init__(self) -> None:
        self.metrics: List[Metric] = []

    def add(self, metric: M) -> M:
        self.metrics.append(metric)
        return metric

    def render(self) -> str:
        return "".join(metric.render() for metric in self.metrics)


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
