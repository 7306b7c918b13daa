"""S7: does memory grow with traced calls? The resident set after a first stretch of traced
calls through ours, and after many more, every call with a new URL (so a cache that grew
without bound would show), spans exported by a ``BatchSpanProcessor`` to an exporter that
drops them."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable

from benchmarks import otel, peers, targets
from benchmarks.harness import Sizes, markdown

_MIB = 1024 * 1024


def resident_bytes() -> int:
    """This process's resident set size, from ``/proc/self/statm``."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _client() -> Callable[[], object]:
    return peers.calls(peers.OursClient(otel.own_provider()).get, distinct=True)


def run_s7(sizes: Sizes) -> targets.Figures:
    """S7: resident memory after ``memory_first`` and after ``memory_total`` traced calls."""
    call = _client()
    readings = []
    done = 0
    started = time.perf_counter()
    for target in (sizes.memory_first, sizes.memory_total):
        for _ in range(target - done):
            call()
        done = target
        gc.collect()
        readings.append((done, resident_bytes()))
    elapsed = time.perf_counter() - started
    first = readings[0][1]
    rows = [
        [f"{count:,}", f"{rss / _MIB:.1f}", f"{(rss - first) / _MIB:+.1f}" if index else "—"]
        for index, (count, rss) in enumerate(readings)
    ]
    print("### S7 · memory after many traced calls (ours)\n")
    print(
        f"{sizes.memory_total:,} traced calls in {elapsed:.0f} s, one API span and one HTTP span "
        "each, every call a new URL; an own SDK provider with a BatchSpanProcessor and an "
        "exporter that drops the spans; canned 200 from a requests adapter.\n"
    )
    print(markdown(["traced calls", "resident MiB", "growth MiB"], rows))
    growth = (readings[-1][1] - first) / _MIB
    per_call = (readings[-1][1] - first) / (sizes.memory_total - sizes.memory_first)
    print(
        f"Growth after the first {sizes.memory_first:,} calls: {growth:+.1f} MiB "
        f"({per_call:.1f} bytes a call); resident size read from /proc/self/statm after "
        "gc.collect().\n"
    )
    return {targets.figure("S7", targets.MEMORY_GROWTH): growth}
