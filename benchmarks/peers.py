"""The sync contenders: one service method ``get(url)`` each, built the way its users build it.

- ours: a client with a ``TracingContextFactory``, an ``HttpPipeline`` on ``RequestsTransport``
  (its own session, the default, whose environment handling is part of what is measured) and
  ``@distributed_trace``.
- azure-core: a ``PipelineClient`` with the policies a generated Azure SDK client has, its
  ``RequestsTransport`` (its own session too), azure-core's ``@distributed_trace`` and native
  OpenTelemetry tracing (``settings.tracing_enabled``).
- bare requests: ``session.get(url)``.
- the floor: plain OpenTelemetry code making our two spans, with our attribute names, and
  injecting the headers by hand, over bare requests.
- requests with ``opentelemetry-instrumentation-requests`` (its CLIENT span) under a hand-made
  API span.

Every session is answered by a ``CannedAdapter``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import requests
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import HttpPipeline, Request, RequestsTransport
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from benchmarks import otel
from benchmarks.canned import RETRY_STATUS, Answers, bare_session, mount
from benchmarks.harness import Contender, sync_contender, unavailable

NAMESPACE = "Bench.Service"
PACKAGE = "bench-service"
VERSION = "1.0.0"
HOST = "https://bench.example"
REQUEST_ID = "00000000-0000-4000-8000-000000000000"
MAX_TRIES = 4  # three retries, as ours and the floor; azure-core retries up to ten times

Get = Callable[[str], object]
"""A service call: ``get(url)``."""


def url_for(number: int) -> str:
    """A URL no other call has: a new path and a new query value (no cache can hit)."""
    return f"{HOST}/items/{number}?api-version=2024-01-01&marker={number}"


FIXED_URL = f"{HOST}/items/1?api-version=2024-01-01"


class OursClient:
    """A service client on this library."""

    def __init__(
        self,
        tracer_provider: Optional[trace.TracerProvider],
        statuses: Answers = (200,),
        *,
        retry_delay: float = 0.8,
    ) -> None:
        options = ClientOptions()
        options.retry.retry_delay = retry_delay
        if tracer_provider is not None:
            options.telemetry.tracing_provider = OpenTelemetryProvider.create(tracer_provider)
        self._tracing_factory = TracingContextFactory(
            options, NAMESPACE, VERSION, package_name=PACKAGE
        )
        transport = RequestsTransport()
        mount(transport.session, statuses)
        self._pipeline = HttpPipeline(
            options, tracing_factory=self._tracing_factory, transport=transport
        )

    @distributed_trace
    def get(self, url: str, *, context: Optional[Context] = None) -> int:
        """One service call: a GET of ``url``."""
        return self._pipeline.send(Request("GET", url), context).status_code


def azure_core_installed() -> bool:
    """Whether azure-core (the ``[bench]`` extra) can be imported."""
    try:
        import azure.core  # noqa: F401
    except ImportError:
        return False
    return True


def azure_policies(asynchronous: bool, retry_backoff: Optional[float]) -> list[Any]:
    """The policies of a generated Azure SDK client (its ``_configuration.py`` and client
    ``__init__``), in their order; ``retry_backoff`` 0 makes retries immediate."""
    from azure.core.pipeline import policies

    retry_kwargs = {} if retry_backoff is None else {"retry_backoff_factor": retry_backoff}
    retry = policies.AsyncRetryPolicy if asynchronous else policies.RetryPolicy
    redirect = policies.AsyncRedirectPolicy if asynchronous else policies.RedirectPolicy
    return [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker=f"{PACKAGE}/{VERSION}"),
        policies.ProxyPolicy(),
        policies.ContentDecodePolicy(),
        redirect(),
        retry(**retry_kwargs),
        policies.CustomHookPolicy(),
        policies.NetworkTraceLoggingPolicy(),
        policies.DistributedTracingPolicy(instrumentation_config=INSTRUMENTATION),
        policies.SensitiveHeaderCleanupPolicy(),
        policies.HttpLoggingPolicy(),
    ]


INSTRUMENTATION = {
    "library_name": PACKAGE,
    "library_version": VERSION,
    "attributes": {"az.namespace": NAMESPACE},
}


def azure_tracing(enabled: bool) -> Callable[[], None]:
    """A switch for azure-core's process-wide tracing setting: on, or back to its default."""
    from azure.core.settings import settings

    def switch() -> None:
        if enabled:
            settings.tracing_enabled = True
        else:
            settings.tracing_enabled.unset_value()

    return switch


def azure_client(statuses: Answers, retry_backoff: Optional[float]) -> Get:
    """azure-core's ``PipelineClient`` behind a decorated method, as an Azure SDK client."""
    from azure.core import PipelineClient
    from azure.core.pipeline.transport import RequestsTransport as AzureRequestsTransport
    from azure.core.rest import HttpRequest
    from azure.core.tracing.decorator import distributed_trace as azure_trace

    transport = AzureRequestsTransport()
    transport.open()  # makes its own session, as on the first send
    mount(transport.session, statuses)

    class AzureCoreClient:
        _instrumentation_config = INSTRUMENTATION

        def __init__(self) -> None:
            self._client: Any = PipelineClient(
                HOST, policies=azure_policies(False, retry_backoff), transport=transport
            )

        @azure_trace
        def get(self, url: str, **kwargs: Any) -> int:
            response = self._client.send_request(HttpRequest("GET", url), **kwargs)
            status: int = response.status_code
            return status

    return AzureCoreClient().get


def bare(statuses: Answers) -> Get:
    """``session.get(url)``, tried again at once after a 503, as the floor does."""
    session = bare_session(statuses)

    def get(url: str) -> int:
        for _ in range(MAX_TRIES):
            status = session.get(url).status_code
            if status != RETRY_STATUS:
                break
        return status

    return get


_USER_AGENT = requests.utils.default_user_agent()


def floor(statuses: Answers, sanitized: Callable[[str], str]) -> Get:
    """Plain OpenTelemetry: the API span and one CLIENT span per try with our attributes,
    ``traceparent`` injected by hand; ``sanitized(url)`` is the ``http.url`` value."""
    session = bare_session(statuses)
    tracer = otel.PROVIDER.get_tracer(PACKAGE, VERSION)
    api_attributes = {"az.namespace": NAMESPACE}

    def get(url: str) -> int:
        with tracer.start_as_current_span("FloorClient.get", attributes=api_attributes) as api:
            for number in range(MAX_TRIES):
                headers: dict[str, str] = {}
                with tracer.start_as_current_span(
                    f"HTTP GET #{number}",
                    kind=SpanKind.CLIENT,
                    attributes={
                        "az.namespace": NAMESPACE,
                        "http.method": "GET",
                        "http.url": sanitized(url),
                        "http.user_agent": _USER_AGENT,
                        "requestId": REQUEST_ID,
                    },
                ) as span:
                    propagate.inject(headers)
                    response = session.get(url, headers=headers)
                    status = response.status_code
                    span.set_attribute("http.status_code", status)
                    span.set_attribute("serviceRequestId", response.headers["x-ms-request-id"])
                    if status >= 400:
                        span.set_status(Status(StatusCode.ERROR))
                if status != RETRY_STATUS:
                    break
            api.set_status(Status(StatusCode.OK))
        return status

    return get


def instrumentation_installed() -> bool:
    """Whether ``opentelemetry-instrumentation-requests`` can be imported."""
    try:
        import opentelemetry.instrumentation.requests  # noqa: F401
    except ImportError:
        return False
    return True


def instrumented(statuses: Answers) -> tuple[Get, Callable[[], None], Callable[[], None]]:
    """requests with ``RequestsInstrumentor`` (its CLIENT span per try) under a hand-made API
    span; with the switches that instrument and uninstrument ``Session.send``, which it patches
    for the whole process (so it is on only during this contender's batches)."""
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    plain = bare(statuses)
    tracer = otel.PROVIDER.get_tracer(PACKAGE, VERSION)
    api_attributes = {"az.namespace": NAMESPACE}
    instrumentor = RequestsInstrumentor()

    def get(url: str) -> object:
        with tracer.start_as_current_span("InstrumentedClient.get", attributes=api_attributes):
            return plain(url)

    def on() -> None:
        instrumentor.instrument(tracer_provider=otel.PROVIDER)

    def off() -> None:
        instrumentor.uninstrument()

    return get, on, off


def as_is(url: str) -> str:
    """The ``http.url`` of a URL that holds only allowed query parameters: itself."""
    return url


def redacted_marker(url: str) -> str:
    """The ``http.url`` of ``url_for(n)``: its ``marker`` value redacted, as ours shows it."""
    return f"{url.rpartition('=')[0]}=REDACTED"


def calls(get: Get, distinct: bool, url: str = FIXED_URL) -> Callable[[], object]:
    """A call of ``get`` with ``url``, or with a new URL every time."""
    if not distinct:
        return lambda: get(url)
    counter = iter(range(1 << 62))
    return lambda: get(url_for(next(counter)))


TRACED = ("ours: traced", "azure-core: traced", "floor: traced", "instrumented: traced")
UNTRACED = ("bare requests", "ours: tracing off", "azure-core: tracing off")


def contenders(
    statuses: Answers, *, distinct: bool = False, url: str = FIXED_URL
) -> list[Contender]:
    """Every sync contender, traced and not, on canned ``statuses`` (cycled per session; None:
    the network answers ``url``).

    Retries are immediate on every side: ``Retry-After: 0`` on each 503, our ``retry_delay``
    0 and azure-core's ``retry_backoff_factor`` 0."""
    retrying = statuses is not None and tuple(statuses) != (200,)
    delay = 0.0 if retrying else ClientOptions().retry.retry_delay
    backoff = 0.0 if retrying else None
    sanitized = redacted_marker if distinct else as_is
    made: list[Contender] = [
        sync_contender("bare requests", calls(bare(statuses), distinct, url)),
        sync_contender(
            "ours: tracing off",
            calls(OursClient(None, statuses, retry_delay=delay).get, distinct, url),
        ),
        sync_contender(
            "ours: traced",
            calls(OursClient(otel.PROVIDER, statuses, retry_delay=delay).get, distinct, url),
        ),
        sync_contender("floor: traced", calls(floor(statuses, sanitized), distinct, url)),
    ]
    if azure_core_installed():
        made += [
            sync_contender(
                "azure-core: tracing off", calls(azure_client(statuses, backoff), distinct, url)
            ),
            sync_contender(
                "azure-core: traced",
                calls(azure_client(statuses, backoff), distinct, url),
                azure_tracing(True),
                azure_tracing(False),
            ),
        ]
    else:
        made += [unavailable("azure-core: tracing off"), unavailable("azure-core: traced")]
    if instrumentation_installed():
        get, on, off = instrumented(statuses)
        made.append(sync_contender("instrumented: traced", calls(get, distinct, url), on, off))
    else:
        made.append(unavailable("instrumented: traced"))
    return made
