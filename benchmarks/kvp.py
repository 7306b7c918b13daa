"""S6: what the KVP layer costs: writer throughput, and a span's extra cost on the caller's thread.

1. Records per second into a real pool file: ``KvpWriter`` (queue, background thread, one
   locked write per batch) against a naive writer that opens the pool, takes the same two locks
   (``flock`` and ``lockf``), writes and closes it for every record, as an agent without a
   writer thread would. Both get the same (key, value) pairs and encode them with
   ``encode_kvp_record``. A third row, the floor, writes the same records already encoded, one
   locked write per batch: what the pool's page cache costs with no Python work at all.
2. Time per span on the caller's thread, OpenTelemetry SDK provider without processors against
   the same with ``KvpSpanProcessor`` (the writer thread running meanwhile, competing for the
   GIL), and with a filter that drops the span.

Rounds are paired and interleaved (the order turns every round) so drifts hit all alike; the
tables give medians and the median of the per-round ratios or differences. Every pool is
removed (or emptied) after its run: a page cache left to grow by tens of MB per run makes later
runs pay for memory the virtual machine has not touched yet, whichever writer they are.
"""

from __future__ import annotations

import fcntl
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from opentelemetry.sdk.trace import TracerProvider

from azure_core_tracing_opentelemetry.diagnostics import (
    EnvFilter,
    KvpSpanProcessor,
    KvpWriter,
    encode_kvp_record,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import RECORD_BYTES
from benchmarks import targets
from benchmarks.harness import Sizes, markdown, median, turn

VM_ID = "0a1b2c3d-0000-4000-8000-00000000abcd"
VALUE = (
    "Start: 2024-05-01T12:00:00.123Z | End: 2024-05-01T12:00:00.456Z | Status: OK | "
    "TraceId: 4bf92f3577b34da6a3ce929d0e0e4736 | SpanId: 00f067aa0ba902b7"
)
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_BATCH = 256  # records per locked write in the floor row, as the writer's batches
Timing = tuple[float, float]  # wall-clock seconds, CPU seconds (every thread of the process)


def _items(count: int) -> list[tuple[str, str]]:
    prefix = f"azure-core-tracing-0.1.0|{VM_ID}|INFO|my_agent.provision:step"
    return [(f"{prefix}|{index:08d}-0000-4000-8000-000000000000", VALUE) for index in range(count)]


def _ours(path: Path, items: list[tuple[str, str]]) -> Timing:
    writer = KvpWriter(path, vm_id=VM_ID, boot_time=0.0, max_queue=len(items) + 1)
    writer.flush()  # the pool is prepared before the clock starts
    start, cpu = time.perf_counter(), time.process_time()
    for key, value in items:
        writer.write(key, value)
    writer.flush()
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    writer.shutdown()
    if writer.written != len(items) or writer.dropped:
        raise AssertionError(f"KvpWriter wrote {writer.written} and dropped {writer.dropped}")
    _check_and_remove(path, len(items))
    return elapsed


def _locked_write(path: Path, data: bytes) -> None:
    fd = os.open(path, _FLAGS, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        fcntl.lockf(fd, fcntl.LOCK_EX)
        os.write(fd, data)
    finally:
        os.close(fd)  # drops both locks, as the writer's close does


def _naive(path: Path, items: list[tuple[str, str]]) -> Timing:
    start, cpu = time.perf_counter(), time.process_time()
    for key, value in items:
        _locked_write(path, encode_kvp_record(key, value))
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    _check_and_remove(path, len(items))
    return elapsed


def _floor(path: Path, batches: list[bytes], records: int) -> Timing:
    start, cpu = time.perf_counter(), time.process_time()
    for data in batches:
        _locked_write(path, data)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    _check_and_remove(path, records)
    return elapsed


def _check_and_remove(path: Path, records: int) -> None:
    size = path.stat().st_size
    if size != records * RECORD_BYTES:
        raise AssertionError(f"{path.name}: {size} bytes, expected {records} records")
    path.unlink()


def _paired(rounds: int, runs: list[Callable[[int], Timing]]) -> list[list[Timing]]:
    timings: list[list[Timing]] = [[] for _ in runs]
    for round_number in range(rounds):
        for index in turn(round_number, len(runs)):
            gc.collect()
            timings[index].append(runs[index](round_number))
    return timings


def throughput(records: int, rounds: int, folder: Path) -> float:
    """Writer throughput: naive, ours, floor; returns ours ÷ naive (records/s)."""
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

    names = (
        "naive: open, flock, lockf, write, close per record",
        "ours: KvpWriter",
        f"floor: records pre-encoded, {_BATCH} per locked write",
    )
    timings = _paired(rounds, [naive, ours, floor])
    rows = []
    ratios = []
    for name, mine in zip(names, timings):
        wall = median([t[0] / m[0] for m, t in zip(mine, timings[0])])
        ratios.append(wall)
        cpu = median([t[1] / m[1] for m, t in zip(mine, timings[0])])
        rate = records / median([m[0] for m in mine])
        cpu_us = median([m[1] for m in mine]) / records * 1e6
        rows.append([name, f"{rate:,.0f}", f"{wall:.2f}×", f"{cpu_us:.2f}", f"{cpu:.2f}×"])
    print("### S6 · KVP writer throughput\n")
    print(
        f"{records} records of {len(VALUE)} bytes into a real pool file, {rounds} paired rounds, "
        "the order turned every round; each pool removed after its run.\n"
    )
    head = ["writer", "records/s", "÷ naive", "CPU µs/record", "÷ naive (CPU)"]
    print(markdown(head, rows))
    print(
        "Ratios: against the naive writer, medians of the per-round ratios (its time over "
        "the row's). CPU counts every thread, so it is the work done whatever else runs on the "
        "machine.\n"
    )
    return ratios[1]


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


def span_cost(spans: int, rounds: int, folder: Path) -> list[float]:
    """A span's cost on the caller's thread, with and without the KVP processor; returns the
    extra µs of each row with the processor."""
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
    if writer.dropped:
        raise AssertionError(f"the KVP writer dropped {writer.dropped} span records")
    first_base = next(iter(results.values()))[0]
    rows = [["SDK provider, no processor", f"{median([b[0] for b in first_base]) * 1e6:.2f}", "—"]]
    extras = []
    for name, (base, ours) in results.items():
        extra = median([(o[0] - b[0]) * 1e6 for b, o in zip(base, ours)])
        extras.append(extra)
        rows.append([name, f"{median([o[0] for o in ours]) * 1e6:.2f}", f"{extra:.2f}"])
    print("### S6 · a span on the caller's thread with the KVP processor\n")
    print(
        f"{spans} spans (tracer.start_span(...).end()) per run, {rounds} paired rounds per "
        "row, against the provider with no processor timed in the same round.\n"
    )
    print(markdown(["provider", "µs/span", "extra µs"], rows))
    print(
        "Extra: median of per-round differences against the provider with no processor; "
        "'running too' adds the writer's share of the GIL. "
        f"({writer.written} span records written by the writer thread.)\n"
    )
    writer.shutdown()
    with_kvp.shutdown()
    filtered.shutdown()
    return extras


def run_s6(sizes: Sizes) -> targets.Figures:
    """S6: KVP writer throughput and a span's extra cost."""
    with tempfile.TemporaryDirectory(prefix="bench-kvp-") as folder:
        by_naive = throughput(sizes.kvp_records, sizes.kvp_rounds, Path(folder))
        alone, alongside, _ = span_cost(sizes.kvp_spans, sizes.kvp_rounds, Path(folder))
    return {
        targets.figure("S6", targets.KVP_BY_NAIVE): by_naive,
        targets.figure("S6", targets.KVP_SPAN_ALONE): alone,
        targets.figure("S6", targets.KVP_SPAN_ALONGSIDE): alongside,
    }
