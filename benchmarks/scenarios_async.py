"""S4: S1 and S2 on the async pipelines, every contender answered by a canned
``aiohttp.ClientSession.request`` in one event loop."""

from __future__ import annotations

import asyncio

from benchmarks import otel, peers_async, selfcheck, targets
from benchmarks.canned import canned_aiohttp
from benchmarks.harness import Row, Sizes, Table, measure

_WARMUP = 20
_CANNED = (
    "aiohttp.ClientSession.request answers a canned 200 (no socket, no aiohttp HTTP work), so "
    "both transports run their default configuration (own session, environment read)"
)
_FLOOR = "floor: hand-wired OpenTelemetry, the same spans, bare aiohttp"
_OURS = "ours: AsyncHttpPipeline + @distributed_trace"
_AZURE = "azure-core: native OpenTelemetry tracing (DistributedTracingPolicy)"

S4_OFF = Table(
    "S4 · async, tracing off: what a pipeline adds to a request",
    (
        Row("floor: bare aiohttp, session.request + read", "bare aiohttp"),
        Row("ours: AsyncHttpPipeline, over bare aiohttp", "ours: tracing off", "bare aiohttp"),
        Row(
            "azure-core: AsyncPipelineClient, over bare aiohttp",
            "azure-core: tracing off",
            "bare aiohttp",
        ),
    ),
    references=("azure-core: AsyncPipelineClient, over bare aiohttp",),
    cost="pipeline cost µs",
    note="Cost: the median of per-round differences against bare aiohttp, timed in the same "
    "round; ratio: of the median costs. Policies as in S1 (azure-core's async twins).",
)


def _traced(configuration: str) -> Table:
    return Table(
        f"S4 · async, one traced call, one HTTP try ({configuration})",
        (
            Row(_FLOOR, "floor: traced", "bare aiohttp"),
            Row(_OURS, "ours: traced", "ours: tracing off"),
            Row(_AZURE, "azure-core: traced", "azure-core: tracing off"),
        ),
        references=(_FLOOR, _AZURE),
        cost="tracing cost µs",
        note="Tracing cost: traced − untraced of the same contender (the floor's is bare "
        "aiohttp), paired in a round; ratios: of the median costs. Spans as in S2.",
    )


def run_s4(sizes: Sizes) -> targets.Figures:
    """S4: the async pipelines, tracing off and on."""
    otel.install()
    figures: targets.Figures = {}
    loop = asyncio.new_event_loop()
    try:
        with canned_aiohttp():
            contenders, closers = peers_async.contenders(loop)
            try:
                traced = {"ours: traced": 1, "floor: traced": 1, "azure-core: traced": 1}
                print(selfcheck.check(contenders, traced))
                setup = (
                    f"{sizes.rounds} rounds × {sizes.async_calls} awaited calls per contender in "
                    f"one event loop, the order turned every round; {_CANNED}."
                )
                untraced = [c for c in contenders if c.name not in traced]
                samples = measure(untraced, sizes.rounds, sizes.async_calls, warmup=_WARMUP)
                print(S4_OFF.render(samples, setup))
                for configuration in otel.CONFIGURATIONS:
                    with otel.configured(configuration) as configured:
                        samples = measure(
                            contenders,
                            sizes.rounds,
                            sizes.async_calls,
                            settle=configured.settle,
                            warmup=_WARMUP,
                        )
                    table = _traced(configuration)
                    print(table.render(samples, setup))
                    scenario = f"S4 ({configuration})"
                    figures |= targets.ratios(scenario, table, samples, _OURS, _FLOOR, _AZURE)
            finally:
                for close in closers:
                    loop.run_until_complete(close())
    finally:
        loop.close()
    return figures
