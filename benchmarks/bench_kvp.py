"""What the KVP layer costs: writer throughput, and a span's extra cost on the caller's thread.

1. Records per second into a real pool file: ``KvpWriter`` (queue, background thread, one
   locked write per batch) against a naive writer that opens the pool, takes the same two locks
   (``flock`` and ``lockf``), writes and closes it for every record, as an agent without a
   writer thread would. Both get the same (key, value) pairs and encode them with
   ``encode_kvp_record``. A third row, the floor, writes the same records already encoded, one
   locked write per batch: what the pool's page cache costs with no Python work at all.
2. Time per span on the caller's thread, OpenTelemetry SDK provider without processors against
   the same with ``KvpSpanProcessor`` (the writer thread running meanwhile, competing for the
   GIL), and with a filter that drops the span.

Rounds are paired and interleaved (the order turns round every round) so drifts hit all alike;
the tables give medians and the median of the per-round ratios or differences. Every pool is
removed (or emptied) after its run: a page cache left to grow by tens of MB per run makes later
runs pay for memory the virtual machine has not touched yet, whichever writer they are. No time
is asserted anywhere: the numbers are for people.

Run: ``python benchmarks/bench_kvp.py [--records N] [--spans N] [--rounds N] [--quick]``
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.sdk.trace import TracerProvider

from azure_core_tracing_opentelemetry.diagnostics import (
    EnvFilter,
    KvpSpanProcessor,
    KvpWriter,
    encode_kvp_record,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import RECORD_BYTES

VM_ID = "0a1b2c3d-0000-4000-8000-00000000abcd"
VALUE = (
    "Start: 2024-05-01T12:00:00.123Z | End: 2024-05-01T12:00:00.456Z | Status: OK | "
    "TraceId: 4bf92f3577b34da6a3ce929d0e0e4736 | SpanId: 00f067aa0ba902b7"
)
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
Timing = tuple[float, float]  # wall-clock seconds, CPU seconds (every thread of the process)


def _items(count: int) -> list[tuple[str, str]]:
    prefix = f"azure-core-tracing-0.1.0|{VM_ID}|INFO|my_agent.provision:step"
    return [(f"{prefix}|{index:08d}-0000-4000-8000-000000000000", VALUE) for index in range(count)]


_BATCH = 256  # records per locked write in the floor row, as the writer's batches


def _ours(path: Path, items: list[tuple[str, str]]) -> Timing:
    writer = KvpWriter(path, vm_id=VM_ID, boot_time=0.0, max_queue=len(items) + 1)
    writer.flush()  # the pool is prepared before the clock starts
    start, cpu = time.perf_counter(), time.process_time()
    for key, value in items:
        writer.write(key, value)
    writer.flush()
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    writer.shutdown()
    assert writer.written == len(items) and writer.dropped == 0
    _check_and_remove(path, len(items))
    return elapsed


def _naive(path: Path, items: list[tuple[str, str]]) -> Timing:
    start, cpu = time.perf_counter(), time.process_time()
    for key, value in items:
        data = encode_kvp_record(key, value)
        fd = os.open(path, _FLAGS, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            fcntl.lockf(fd, fcntl.LOCK_EX)
            os.write(fd, data)
        finally:
            os.close(fd)  # drops both locks, as the writer's close does
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    _check_and_remove(path, len(items))
    return elapsed


def _floor(path: Path, batches: list[bytes], records: int) -> Timing:
    start, cpu = time.perf_counter(), time.process_time()
    for data in batches:
        fd = os.open(path, _FLAGS, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            fcntl.lockf(fd, fcntl.LOCK_EX)
            os.write(fd, data)
        finally:
            os.close(fd)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    _check_and_remove(path, records)
    return elapsed


def _check_and_remove(path: Path, records: int) -> None:
    assert path.stat().st_size == records * RECORD_BYTES
    path.unlink()


def _paired(rounds: int, runs: list[Callable[[int], Timing]]) -> list[list[Timing]]:
    timings: list[list[Timing]] = [[] for _ in runs]
    for round_number in range(rounds):
        order = list(range(len(runs)))
        if round_number % 2:
            order.reverse()
        for index in order:
            gc.collect()
            timings[index].append(runs[index](round_number))
    return timings


def _median(values: list[float]) -> float:
    return statistics.median(values)


def throughput(records: int, rounds: int, folder: Path) -> None:
    items = _items(records)
    encoded = b"".join(encode_kvp_record(key, value) for key, value in items)
    step = _BATCH * RECORD_BYTES
    batches = [encoded[offset : offset + step] for offset in range(0, len(encoded), step)]

    def naive(n: int) -> Timing:
        return _naive(folder / f"naive-{n}", items)

    def ours(n: int) -> Timing:
        return _ours(folder / f"ours-{n}", items)

    def floor(n: int) -> Timing:
        return _floor(folder / f"floor-{n}", batches, records)

    rows = (
        "naive: open, flock, lockf, write, close per record",
        "ours: KvpWriter",
        f"floor: records pre-encoded, {_BATCH} per locked write",
    )
    timings = _paired(rounds, [naive, ours, floor])
    print(f"\nWriter throughput: {records} records of {len(VALUE)} bytes, {rounds} paired rounds")
    print(f"  {'writer':54} {'records/s':>10} {'ratio':>7} {'CPU µs/rec':>11} {'ratio':>7}")
    for name, mine in zip(rows, timings):
        wall = _median([t[0] / m[0] for m, t in zip(mine, timings[0])])
        cpu = _median([t[1] / m[1] for m, t in zip(mine, timings[0])])
        rate = records / _median([m[0] for m in mine])
        cpu_us = _median([m[1] for m in mine]) / records * 1e6
        print(f"  {name:54} {rate:10,.0f} {wall:6.2f}x {cpu_us:11.2f} {cpu:6.2f}x")
    print("  (ratios against: the naive writer; medians of the per-round ratios; CPU counts")
    print("   every thread, so it is the work done whatever else runs on the machine)")


def _span_loop(provider: TracerProvider, spans: int) -> float:
    tracer = provider.get_tracer("my_agent.provision")
    gc.disable()  # as timeit does: queued spans would otherwise make collections dearer
    try:
        start = time.perf_counter()
        for _ in range(spans):
            tracer.start_span("step").end()
        return (time.perf_counter() - start) / spans
    finally:
        gc.enable()


def _flush_and_empty(writer: KvpWriter, pool: Path) -> None:
    writer.flush()
    fd = os.open(pool, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the writer is idle, but a pool is emptied under lock
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def span_cost(spans: int, rounds: int, folder: Path) -> None:
    pool = folder / "spans"
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0, max_queue=spans + 1)
    plain = TracerProvider()
    with_kvp = TracerProvider()
    with_kvp.add_span_processor(KvpSpanProcessor(writer))
    filtered = TracerProvider()
    filtered.add_span_processor(KvpSpanProcessor(writer, EnvFilter("warn")))

    def held_back(n: int) -> Timing:
        # Another agent holds the pool's lock, so the writer thread waits in flock (no GIL)
        # and the clock sees the caller's thread alone: filter, queue append, SDK plumbing.
        other = os.open(pool, os.O_RDWR)
        fcntl.flock(other, fcntl.LOCK_EX)
        try:
            per_span = _span_loop(with_kvp, spans)
        finally:
            os.close(other)
        _flush_and_empty(writer, pool)
        return per_span, 0.0

    def alongside(n: int) -> Timing:
        per_span = _span_loop(with_kvp, spans)  # the writer thread renders and writes meanwhile
        _flush_and_empty(writer, pool)
        return per_span, 0.0

    def plain_run(n: int) -> Timing:
        return _span_loop(plain, spans), 0.0

    def filtered_run(n: int) -> Timing:
        return _span_loop(filtered, spans), 0.0

    results: dict[str, tuple[list[Timing], list[Timing]]] = {}
    for name, run in (
        ("+ KvpSpanProcessor: the caller's thread alone", held_back),
        ("+ KvpSpanProcessor: writer thread running too", alongside),
        ("+ KvpSpanProcessor: span dropped by the filter", filtered_run),
    ):
        base, ours = _paired(rounds, [plain_run, run])
        results[name] = base, ours
    assert writer.dropped == 0
    print(f"\nA span on the caller's thread: {spans} spans, {rounds} paired rounds per row")
    print(f"  {'provider (tracer.start_span(...).end())':50} {'µs/span':>9} {'extra µs':>9}")
    first_base = next(iter(results.values()))[0]
    print(f"  {'SDK provider, no processor':50} {_median([b[0] for b in first_base]) * 1e6:9.2f}")
    for name, (base, ours) in results.items():
        extra = _median([(o[0] - b[0]) * 1e6 for b, o in zip(base, ours)])
        print(f"  {name:50} {_median([o[0] for o in ours]) * 1e6:9.2f} {extra:9.2f}")
    print("  (extra: median of per-round differences against the provider with no processor,")
    print("   timed in the same round; 'running too' adds the writer's share of the GIL)")
    print(f"  ({writer.written} span records written by the writer thread)")
    writer.shutdown()
    with_kvp.shutdown()
    filtered.shutdown()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per throughput run")
    parser.add_argument("--spans", type=int, default=20_000, help="spans per timing run")
    parser.add_argument("--rounds", type=int, default=7, help="paired rounds of each")
    parser.add_argument("--quick", action="store_true", help="a few hundred of each, 3 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.spans, args.rounds = 300, 1000, 3
    with tempfile.TemporaryDirectory(prefix="bench-kvp-") as folder:
        throughput(args.records, args.rounds, Path(folder))
        span_cost(args.spans, args.rounds, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
