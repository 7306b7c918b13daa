"""S8: the same calls against a real server on 127.0.0.1 (keep-alive, in its own process), to
show how the costs of S1 and S2 compare with one local round trip."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks import otel, peers, targets
from benchmarks.harness import Row, Sizes, Table, measure

_NAMES = (
    "bare requests",
    "ours: tracing off",
    "ours: traced",
    "azure-core: tracing off",
    "azure-core: traced",
    "floor: traced",
)

S8 = Table(
    "S8 · scale: one call to a real server on 127.0.0.1 (SDK provider, no span processor)",
    (
        Row("bare requests, session.get(url)", "bare requests"),
        Row("ours: pipeline cost, over bare requests", "ours: tracing off", "bare requests"),
        Row(
            "azure-core: pipeline cost, over bare requests",
            "azure-core: tracing off",
            "bare requests",
        ),
        Row("ours: tracing cost, over ours untraced", "ours: traced", "ours: tracing off"),
        Row(
            "azure-core: tracing cost, over azure-core untraced",
            "azure-core: traced",
            "azure-core: tracing off",
        ),
        Row("floor: tracing cost, over bare requests", "floor: traced", "bare requests"),
    ),
    note="The same clients as S1 and S2 with requests' own HTTPAdapter, over one kept-alive "
    "connection each to a ThreadingHTTPServer in another process (so it has its own GIL). "
    "Cost: the median of per-round differences, paired in a round; no self-check here (the "
    "server is in another process), the same clients were checked in S2.",
)


@contextmanager
def local_server() -> Iterator[str]:
    """Start ``benchmarks.server`` in a child process; yield its base URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()


def run_s8(sizes: Sizes) -> targets.Figures:
    """S8: ours, azure-core and bare requests, traced and not, against a local server."""
    otel.install()
    with local_server() as base:
        url = f"{base}/items/1?api-version=2024-01-01"
        every = peers.contenders(None, url=url)
        contenders = [contender for contender in every if contender.name in _NAMES]
        samples = measure(contenders, sizes.rounds, sizes.scale_calls, warmup=20)
    setup = (
        f"{sizes.rounds} rounds × {sizes.scale_calls} calls per contender, the order turned "
        "every round."
    )
    print(S8.render(samples, setup))
    return {}
