"""S1 to S3: one sync service call, tracing off and on, one try and three, every contender
answered by the same canned ``requests`` adapter."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks import otel, peers, selfcheck, targets
from benchmarks.canned import RETRY_STATUS, bare_session
from benchmarks.harness import Contender, Row, Sizes, Table, measure, sync_contender

_CANNED = "canned answers from a requests adapter mounted on each session (no socket)"
_WARMUP = 20


def _setup(sizes: Sizes, calls: int, what: str) -> str:
    return (
        f"{sizes.rounds} rounds × {calls} calls per contender, the order turned every round; "
        f"{what}."
    )


def _picked(contenders: Sequence[Contender], names: Sequence[str]) -> list[Contender]:
    by_name = {contender.name: contender for contender in contenders}
    return [by_name[name] for name in names]


S1_OURS = "ours: HttpPipeline, over bare requests"
S1_AZURE = "azure-core: PipelineClient, over bare requests"
S1 = Table(
    "S1 · tracing off: what a pipeline adds to a request",
    (
        Row("floor: bare requests, session.get(url)", "bare requests"),
        Row(
            "requests' own environment scan (bare − trust_env False)",
            "bare requests",
            "requests, trust_env False",
            compare=False,
        ),
        Row(S1_OURS, "ours: tracing off", "bare requests"),
        Row(S1_AZURE, "azure-core: tracing off", "bare requests"),
        Row(
            "ours: HttpPipeline, over requests with trust_env False",
            "ours: tracing off",
            "requests, trust_env False",
            compare=False,
        ),
    ),
    references=(S1_AZURE,),
    cost="pipeline cost µs",
    note=(
        "Cost: the median of per-round differences against the row's base, timed in the same "
        "round; ratio: of the median costs. Both pipelines run their default policies and "
        "transports (own sessions, environment read) behind a decorated client method; "
        "azure-core's are a generated client's (request id, headers, user agent, proxy, "
        "content decode, redirect, retry, custom hook, logging, tracing, header cleanup, HTTP "
        "logging). requests reads proxies and CA settings from os.environ on every call "
        "(merge_environment_settings); ours keeps the answers per origin while os.environ is "
        "unchanged, so it can cost less than bare requests: the last row is its cost over "
        "requests without that scan."
    ),
)


def s1_contenders() -> list[Contender]:
    """S1's contenders: both pipelines untraced, bare requests with and without its
    environment scan."""
    every = peers.contenders((200,))
    no_environment = bare_session()
    no_environment.trust_env = False
    return [
        *_picked(every, ("bare requests", "ours: tracing off", "azure-core: tracing off")),
        sync_contender(
            "requests, trust_env False",
            lambda: no_environment.get(peers.FIXED_URL).status_code,
        ),
    ]


def run_s1(sizes: Sizes) -> targets.Figures:
    """S1: tracing off, ours vs azure-core vs bare requests."""
    otel.install()
    contenders = s1_contenders()
    print(selfcheck.check(contenders, {}))
    samples = measure(contenders, sizes.rounds, sizes.calls, warmup=_WARMUP)
    print(S1.render(samples, _setup(sizes, sizes.calls, _CANNED)))
    figures = targets.cost("S1", targets.PIPELINE_US, S1, samples, S1_OURS)
    ratio = S1.ratio(samples, S1_OURS, S1_AZURE)
    if ratio is not None:
        figures[targets.figure("S1", targets.PIPELINE_BY_AZURE)] = ratio
    return figures


FLOOR = "floor: hand-wired OpenTelemetry, the same spans, bare requests"
OURS = "ours: HttpPipeline + @distributed_trace"
AZURE = "azure-core: native OpenTelemetry tracing (DistributedTracingPolicy)"


def traced_table(key: str, title: str, configuration: str, note: str) -> Table:
    """The table of a traced scenario: tracing cost of each contender over its untraced self."""
    return Table(
        f"{key} · {title} ({configuration})",
        (
            Row("bare requests (untraced)", "bare requests"),
            Row("ours: tracing off", "ours: tracing off"),
            Row("azure-core: tracing off", "azure-core: tracing off"),
            Row(FLOOR, "floor: traced", "bare requests"),
            Row(OURS, "ours: traced", "ours: tracing off"),
            Row(AZURE, "azure-core: traced", "azure-core: tracing off"),
            Row(
                "instrumented: requests + opentelemetry-instrumentation-requests, API span by hand",
                "instrumented: traced",
                "bare requests",
            ),
        ),
        references=(FLOOR, AZURE),
        cost="tracing cost µs",
        note=note,
    )


TRACED_NOTE = (
    "Tracing cost: traced − untraced of the same contender, paired in a round (the floor's "
    "and the instrumented row's untraced self is bare requests); ratios: of the median costs. "
    "One OpenTelemetry SDK provider serves every contender. The floor makes ours' spans (an "
    "INTERNAL API span with az.namespace; a CLIENT span `HTTP GET #n` per try with "
    "az.namespace, http.method, http.url, http.user_agent, requestId, http.status_code, "
    "serviceRequestId, ERROR at 400 and above) and injects traceparent by hand; a self-check "
    "compared their kinds, attribute names and statuses before timing. azure-core's native "
    "tracing makes its own spans (stable HTTP attribute names); the instrumented row has the "
    "instrumentor's CLIENT span, switched on only for its own batches."
)


def _traced(
    key: str,
    title: str,
    sizes: Sizes,
    statuses: Sequence[int],
    calls: int,
    *,
    distinct: bool,
    configurations: Sequence[str],
    note: str,
) -> targets.Figures:
    otel.install()
    figures: targets.Figures = {}
    contenders = peers.contenders(statuses, distinct=distinct)
    tries = len(statuses)
    print(selfcheck.check(contenders, {name: tries for name in peers.TRACED}))
    what = _CANNED if tries == 1 else f"{_CANNED}, {', '.join(map(str, statuses))} per call"
    if distinct:
        what += "; every call a new URL (new path, new query value: no cache hit)"
    for configuration in configurations:
        with otel.configured(configuration) as configured:
            samples = measure(
                contenders, sizes.rounds, calls, settle=configured.settle, warmup=_WARMUP
            )
        table = traced_table(key, title, configuration, note)
        print(table.render(samples, _setup(sizes, calls, what)))
        scenario = f"{key} ({configuration})"
        figures.update(targets.ratios(scenario, table, samples, OURS, FLOOR, AZURE))
    return figures


S2_TITLE = "one traced call, one HTTP try"
S3_TITLE = "one traced call, three HTTP tries (503, 503, 200)"
S3_STATUSES = (RETRY_STATUS, RETRY_STATUS, 200)


def run_s2(sizes: Sizes) -> targets.Figures:
    """S2: one traced call, one try; both processor configurations, then distinct URLs."""
    figures = _traced(
        "S2",
        S2_TITLE,
        sizes,
        (200,),
        sizes.calls,
        distinct=False,
        configurations=otel.CONFIGURATIONS,
        note=TRACED_NOTE,
    )
    return figures | _traced(
        "S2u",
        "one traced call, one HTTP try, a new URL every call",
        sizes,
        (200,),
        sizes.calls,
        distinct=True,
        configurations=(otel.NO_PROCESSOR,),
        note=TRACED_NOTE
        + " Every contender builds the URL alike; the floor's http.url redacts the marker "
        "value with an f-string, as ours' sanitizer shows it.",
    )


def run_s3(sizes: Sizes) -> targets.Figures:
    """S3: one traced call, three tries (503, 503, 200)."""
    return _traced(
        "S3",
        S3_TITLE,
        sizes,
        S3_STATUSES,
        sizes.retry_calls,
        distinct=False,
        configurations=otel.CONFIGURATIONS,
        note=TRACED_NOTE
        + " Retries are immediate on every side: each 503 says Retry-After: 0, ours has "
        "retry_delay 0 and azure-core retry_backoff_factor 0; the floor and bare requests try "
        "again at once after a 503.",
    )
