"""Benchmarks of mocap-ae, run by ``python benchmarks/run.py``.

Each ``benchmarks/bench_NAME.py`` module exposes ``run(quick: bool) -> list[Row]``
and measures its own baseline in the same run, so every ratio compares two
numbers taken on the same machine under the same load. This package holds the
shared pieces: the :class:`Row` a benchmark returns and small timing helpers.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable


@dataclass
class Row:
    """One measured figure and how it compares with its baseline.

    Attributes:
        name: What was measured, e.g. ``csv load 10000x127, cached``.
        value: The figure, in ``unit``.
        unit: ``ms``, ``MB/s``, ``x``...
        baseline_value: The baseline's figure in the same unit, measured in the
            same run (None for a row that is itself the baseline or has none).
        ratio: How many times better than the baseline (> 1 is better): for
            times ``baseline / value``, for rates ``value / baseline``.
        note: What the baseline is, caveats, the data used.
    """

    name: str
    value: float
    unit: str
    baseline_value: float | None = None
    ratio: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 0) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls (after ``warmup`` untimed calls).

    The median rather than the minimum: the machines this runs on are shared,
    and the median is what a user waiting for a load would typically see.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_row(name: str, seconds: float, baseline_seconds: float | None = None, note: str = "") -> Row:
    """A timing row in milliseconds; ratio = speed-up over the baseline."""
    baseline_ms = baseline_seconds * 1e3 if baseline_seconds is not None else None
    ratio = baseline_seconds / seconds if baseline_seconds is not None and seconds > 0 else None
    return Row(name, seconds * 1e3, "ms", baseline_ms, ratio, note)


def rate_row(name: str, value: float, unit: str, baseline: float | None = None, note: str = "") -> Row:
    """A throughput row (higher is better); ratio = value / baseline."""
    ratio = value / baseline if baseline else None
    return Row(name, value, unit, baseline, ratio, note)
