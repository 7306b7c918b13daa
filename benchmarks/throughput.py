"""S5: traced calls per second with many callers at once: 8 threads sharing one client, and
50 asyncio tasks sharing one async client (canned answers, as in S2 and S4)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Sequence
from typing import Callable, Optional

from benchmarks import otel, peers, peers_async, selfcheck, targets
from benchmarks.canned import canned_aiohttp
from benchmarks.harness import Contender, Samples, Sizes, markdown, measure, median, quartiles

THREADS = 8
TASKS = 50
_TRACED = ("ours: traced", "azure-core: traced", "floor: traced")


def threaded(call: Callable[[], object], threads: int) -> Callable[[int], int]:
    """``run`` for ``threads`` threads sharing ``call``: ``count`` calls in all, timed from the
    moment all are released to the moment the last one ends."""

    def run(count: int) -> int:
        each = max(1, count // threads)
        barrier = threading.Barrier(threads + 1)

        def work() -> None:
            barrier.wait()
            for _ in range(each):
                call()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        barrier.wait()
        start = time.perf_counter_ns()
        for worker in workers:
            worker.join()
        return (time.perf_counter_ns() - start) * count // (each * threads)

    return run


def gathered(
    loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[object]], tasks: int
) -> Callable[[int], int]:
    """``run`` for ``tasks`` asyncio tasks sharing ``call``: ``count`` calls in all."""

    async def task(each: int) -> None:
        for _ in range(each):
            await call()

    async def batch(count: int) -> int:
        each = max(1, count // tasks)
        start = time.perf_counter_ns()
        await asyncio.gather(*(task(each) for _ in range(tasks)))
        return (time.perf_counter_ns() - start) * count // (each * tasks)

    return lambda count: loop.run_until_complete(batch(count))


def _ours_by_azure(samples: Samples) -> Optional[float]:
    if "ours: traced" not in samples or "azure-core: traced" not in samples:
        return None
    ours = median([1e6 / value for value in samples["ours: traced"]])
    return ours / median([1e6 / value for value in samples["azure-core: traced"]])


def _table(title: str, setup: str, samples: Samples, names: Sequence[str]) -> str:
    rows = []
    rates = {name: [1e6 / value for value in samples[name]] for name in samples}
    azure = rates.get("azure-core: traced")
    for name in names:
        if name not in rates:
            rows.append([name, "not installed (pip install -e '.[bench]')", "", ""])
            continue
        low, high = quartiles(rates[name])
        ratio = f"{median(rates[name]) / median(azure):.2f}×" if azure else "—"
        rows.append([name, f"{median(rates[name]):,.0f}", f"{low:,.0f} to {high:,.0f}", ratio])
    head = ["contender", "calls/s", "IQR", "÷ azure-core"]
    note = (
        "calls/s: calls in a round over its wall time, median of the rounds; ratio: of the "
        f"medians. Every contender traced, on {otel.BATCH} (flushed and emptied between "
        "rounds), so the exporter's thread competes as it would."
    )
    return f"### {title}\n\n{setup}\n\n{markdown(head, rows)}\n{note}\n"


def _sync(sizes: Sizes) -> Optional[float]:
    every = {contender.name: contender for contender in peers.contenders((200,))}
    single = [every[name] for name in _TRACED]
    print(selfcheck.check(single, dict.fromkeys(_TRACED, 1)))
    calls = THREADS * sizes.thread_calls
    contenders = [
        c if c.missing else Contender(c.name, threaded(c.call, THREADS), c.enter, c.leave)
        for c in single
    ]
    with otel.configured(otel.BATCH) as configured:
        samples = measure(contenders, sizes.rounds, calls, settle=configured.settle)
    setup = (
        f"{sizes.rounds} rounds; in each, {THREADS} threads share one client and make "
        f"{sizes.thread_calls} calls each ({calls} in all), the order turned every round."
    )
    print(_table("S5 · throughput, 8 threads, traced calls", setup, samples, _TRACED))
    return _ours_by_azure(samples)


def _async(sizes: Sizes) -> Optional[float]:
    loop = asyncio.new_event_loop()
    try:
        with canned_aiohttp():
            every, closers = peers_async.contenders(loop)
            try:
                by_name = {contender.name: contender for contender in every}
                single = [by_name[name] for name in _TRACED]
                print(selfcheck.check(single, dict.fromkeys(_TRACED, 1)))
                calls = TASKS * sizes.task_calls
                contenders = [_each_task(loop, c) for c in single]
                with otel.configured(otel.BATCH) as configured:
                    samples = measure(contenders, sizes.rounds, calls, settle=configured.settle)
            finally:
                for close in closers:
                    loop.run_until_complete(close())
    finally:
        loop.close()
    setup = (
        f"{sizes.rounds} rounds; in each, {TASKS} asyncio tasks share one client and make "
        f"{sizes.task_calls} calls each ({calls} in all), the order turned every round; "
        "aiohttp canned as in S4."
    )
    print(_table("S5 · throughput, 50 asyncio tasks, traced calls", setup, samples, _TRACED))
    return _ours_by_azure(samples)


def _each_task(loop: asyncio.AbstractEventLoop, contender: Contender) -> Contender:
    if contender.missing is not None:
        return contender
    return Contender(
        contender.name, gathered(loop, contender.call, TASKS), contender.enter, contender.leave
    )


def run_s5(sizes: Sizes) -> targets.Figures:
    """S5: calls per second, 8 threads and 50 tasks."""
    otel.install()
    figures: targets.Figures = {}
    for what, ratio in ((targets.THREADS, _sync(sizes)), (targets.TASKS, _async(sizes))):
        if ratio is not None:
            figures[targets.figure("S5", what)] = ratio
    return figures
