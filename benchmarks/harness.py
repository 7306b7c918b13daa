"""Paired, interleaved timing and the Markdown tables: what every scenario shares.

A round times one batch of calls per contender, in an order that turns round by one place
every round, so a drift of the machine (another tenant, a frequency change) lands on every
contender alike. A cost is the median of per-round differences between two contenders timed in
the same round, which this noisy 2-core machine needs: differences within a round move far less
than the times themselves.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

MISSING = "not installed (pip install -e '.[bench]')"

Samples = dict[str, list[float]]
"""Per contender name, one value per round (µs per operation, or per whatever the table says)."""


def _nothing() -> None:
    return


@dataclass(frozen=True)
class Contender:
    """One thing timed: ``run(n)`` makes ``n`` calls and returns the nanoseconds they took;
    ``enter`` and ``leave`` run around every batch, untimed (a switch only this contender
    turns on); ``missing`` says why it cannot run at all; ``call`` is one call (an awaitable's
    maker for an async contender), for scenarios that drive calls their own way."""

    name: str
    run: Callable[[int], int] = field(repr=False)
    enter: Callable[[], None] = field(default=_nothing, repr=False)
    leave: Callable[[], None] = field(default=_nothing, repr=False)
    missing: Optional[str] = None
    call: Callable[[], Any] = field(default=_nothing, repr=False)


def sync_contender(
    name: str,
    call: Callable[[], object],
    enter: Callable[[], None] = _nothing,
    leave: Callable[[], None] = _nothing,
) -> Contender:
    """A contender timed as a loop of ``call()``."""
    return Contender(name, sync_batch(call), enter, leave, call=call)


def async_contender(
    name: str,
    loop: asyncio.AbstractEventLoop,
    call: Callable[[], Awaitable[object]],
    enter: Callable[[], None] = _nothing,
    leave: Callable[[], None] = _nothing,
) -> Contender:
    """A contender timed as a loop of ``await call()`` inside ``loop``."""
    return Contender(name, async_batch(loop, call), enter, leave, call=call)


def unavailable(name: str) -> Contender:
    """A contender whose package is not installed: its rows say so, it is never run."""

    def run(count: int) -> int:
        raise RuntimeError(f"{name} cannot run: {MISSING}")

    return Contender(name, run, missing=MISSING)


def sync_batch(call: Callable[[], object]) -> Callable[[int], int]:
    """``run`` for a contender that is one plain call."""

    def run(count: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(count):
            call()
        return time.perf_counter_ns() - start

    return run


def async_batch(
    loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[object]]
) -> Callable[[int], int]:
    """``run`` for a contender that is one awaited call; timed inside ``loop``, so starting the
    loop is not counted."""

    async def batch(count: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(count):
            await call()
        return time.perf_counter_ns() - start

    return lambda count: loop.run_until_complete(batch(count))


def turn(round_number: int, count: int) -> list[int]:
    """The order of ``count`` contenders in a round: turned by one place each round."""
    first = round_number % count if count else 0
    return [(first + index) % count for index in range(count)]


def timed_batch(contender: Contender, calls: int) -> int:
    """One batch: collected before, no collection during (as timeit), switches around it."""
    contender.enter()
    try:
        gc.collect()
        gc.disable()
        try:
            return contender.run(calls)
        finally:
            gc.enable()
    finally:
        contender.leave()


def measure(
    contenders: Sequence[Contender],
    rounds: int,
    calls: int,
    *,
    settle: Callable[[], None] = _nothing,
    warmup: int = 0,
) -> Samples:
    """µs per call of each available contender, one value per round; ``settle`` runs after
    every batch, untimed (flush and empty an exporter, say); ``warmup`` calls each first."""
    present = [contender for contender in contenders if contender.missing is None]
    for contender in present:
        if warmup:
            timed_batch(contender, warmup)
            settle()
    samples: Samples = {contender.name: [] for contender in present}
    for round_number in range(rounds):
        for index in turn(round_number, len(present)):
            contender = present[index]
            elapsed = timed_batch(contender, calls)
            settle()
            samples[contender.name].append(elapsed / calls / 1000)
    return samples


@dataclass(frozen=True)
class Sizes:
    """How much each scenario runs: rounds, and calls per batch."""

    rounds: int
    calls: int  # per batch, one try a call
    retry_calls: int  # per batch, three tries a call (S3)
    async_calls: int
    thread_calls: int  # per thread and round (S5, 8 threads)
    task_calls: int  # per task and round (S5, 50 tasks)
    kvp_records: int
    kvp_spans: int
    kvp_rounds: int
    memory_first: int
    memory_total: int
    scale_calls: int
    instruction_calls: int  # N: instructions are counted for N and 2N calls


FULL = Sizes(15, 200, 60, 200, 40, 8, 20_000, 20_000, 7, 10_000, 200_000, 100, 30)
QUICK = Sizes(3, 20, 6, 20, 5, 2, 300, 1_000, 3, 1_000, 10_000, 10, 10)


def median(values: Sequence[float]) -> float:
    """The median (of per-round values)."""
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The first and third quartiles: how far the rounds spread."""
    if len(values) < 2:
        return values[0], values[0]
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, high


def paired_differences(samples: Samples, name: str, baseline: str) -> list[float]:
    """``name`` minus ``baseline``, round by round (both timed in every round)."""
    return [mine - base for mine, base in zip(samples[name], samples[baseline])]


@dataclass(frozen=True)
class Row:
    """A table row: a contender's median; with a ``baseline``, its cost over that contender,
    divided by the references' costs unless ``compare`` is False (a cost over another base)."""

    label: str
    contender: str
    baseline: Optional[str] = None
    compare: bool = True


@dataclass(frozen=True)
class Table:
    """A scenario's table: rows, and the rows whose cost every other cost is divided by."""

    title: str
    rows: tuple[Row, ...]
    references: tuple[str, ...] = ()  # row labels
    unit: str = "µs/op"
    cost: str = "cost µs"
    note: str = ""
    digits: int = 1

    def row(self, label: str) -> Row:
        """The row labelled ``label``."""
        for row in self.rows:
            if row.label == label:
                return row
        raise KeyError(label)

    def costs(self, samples: Samples, label: str) -> Optional[list[float]]:
        """The per-round costs of row ``label``; None without a baseline or its samples."""
        row = self.row(label)
        if row.baseline is None or row.contender not in samples or row.baseline not in samples:
            return None
        return paired_differences(samples, row.contender, row.baseline)

    def ratio(self, samples: Samples, label: str, reference: str) -> Optional[float]:
        """Row ``label``'s median cost over row ``reference``'s; None when either is missing
        or the reference cost nothing measurable."""
        mine, theirs = self.costs(samples, label), self.costs(samples, reference)
        if mine is None or theirs is None or median(theirs) <= 0:
            return None
        return median(mine) / median(theirs)

    def render(self, samples: Samples, setup: str = "") -> str:
        """The Markdown table of ``samples`` (missing contenders say so in their row)."""
        spread = any(len(values) > 1 for values in samples.values())
        head = ["contender", self.unit, f"{self.cost} (IQR)" if spread else self.cost]
        head += [f"÷ {_short(label)}" for label in self.references]
        lines = [f"### {self.title}", ""]
        if setup:
            lines += [setup, ""]
        lines += [_line(head), _line(["---"] + ["---:"] * (len(head) - 1))]
        for row in self.rows:
            if row.contender not in samples or (
                row.baseline is not None and row.baseline not in samples
            ):
                lines.append(_line([row.label, MISSING] + [""] * (len(head) - 2)))
                continue
            cells = [row.label, self._number(median(samples[row.contender]))]
            cost = self.costs(samples, row.label)
            if cost is None:
                cells.append("—")
            elif len(cost) == 1:
                cells.append(self._number(cost[0]))
            else:
                low, high = quartiles(cost)
                cells.append(
                    f"{self._number(median(cost))} ({self._number(low)} to {self._number(high)})"
                )
            for reference in self.references:
                cells.append(self._ratio_cell(samples, row, reference))
            lines.append(_line(cells))
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def _number(self, value: float) -> str:
        return f"{value:,.{self.digits}f}"

    def _ratio_cell(self, samples: Samples, row: Row, reference: str) -> str:
        if not row.compare or self.costs(samples, row.label) is None:
            return "—"
        if self.costs(samples, reference) is None:
            return "—"
        ratio = self.ratio(samples, row.label, reference)
        return "n/a" if ratio is None else f"{ratio:.2f}×"  # n/a: the reference cost ≤ 0


def _short(label: str) -> str:
    return label.split(":", 1)[0]


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown(head: Sequence[str], rows: Sequence[Sequence[str]], aligned: int = 1) -> str:
    """A plain Markdown table: the first ``aligned`` columns left, the others right."""
    rule = ["---"] * aligned + ["---:"] * (len(head) - aligned)
    return "\n".join([_line(head), _line(rule)] + [_line(row) for row in rows]) + "\n"
