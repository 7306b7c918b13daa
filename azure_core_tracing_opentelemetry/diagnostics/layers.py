"""``setup_layers``: stderr, OpenTelemetry, KVP and file layers on one OpenTelemetry SDK provider.

Each layer is a span processor on the provider (span start and close lines, span records) and,
except OpenTelemetry, a ``logging`` handler on the root logger (log records), added in the
order stderr, OpenTelemetry, KVP, file. Each filters on its own, and each can fail alone: a
layer that cannot start is left out and named in one WARNING, logged once the others are up.
With the KVP layer up, the KVP queue is also flushed on SIGTERM and on an uncaught exception
(``exit_hooks.py``), as it is at exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Optional

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from azure_core_tracing import Context
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from azure_core_tracing_opentelemetry.diagnostics.config import (
    TelemetryConfig,
    kvp_filter_for,
    log_filters_for,
)
from azure_core_tracing_opentelemetry.diagnostics.exit_hooks import ExitHooks
from azure_core_tracing_opentelemetry.diagnostics.files import create_parent_dirs, open_for_append
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import (
    DEFAULT_EVENT_PREFIX,
    PRODUCT_UUID_PATH,
    check_event_prefix,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_layer import KvpLogHandler, KvpSpanProcessor
from azure_core_tracing_opentelemetry.diagnostics.kvp_writer import (
    DEFAULT_EXIT_TIMEOUT,
    DEFAULT_KVP_POOL_PATH,
    DEFAULT_MAX_DELAY,
    KvpWriter,
    check_exit_timeout,
    check_max_delay,
    check_vm_id,
)
from azure_core_tracing_opentelemetry.diagnostics.line_layer import (
    LineLogHandler,
    LineSink,
    LineSpanProcessor,
)

OTLP_ENDPOINT_ENVS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PACKAGE_LOGGER = "azure_core_tracing_opentelemetry.diagnostics"
_log = logging.getLogger(__name__)


class TracingLayers:
    """The provider the layers hang on, the layers that started, and how to stop them all."""

    def __init__(
        self,
        provider: TracerProvider,
        layers: tuple[str, ...],
        kvp_writer: Optional[KvpWriter],
        handlers: list[logging.Handler],
        sinks: list[LineSink],
        root_levels: tuple[int, int],
        exit_hooks: Optional[ExitHooks] = None,
    ) -> None:
        self.provider = provider
        """The OpenTelemetry SDK provider; get tracers from it, or ``install()`` it."""
        self.layers = layers
        """The layers that started, in order: some of stderr, opentelemetry, kvp, file."""
        self.kvp_writer = kvp_writer
        """The KVP writer, when the KVP layer started."""
        self._handlers = handlers
        self._sinks = sinks
        self._root_levels = root_levels
        self._exit_hooks = exit_hooks
        self._installed: Optional[OpenTelemetryProvider] = None
        self._closed = False

    def install(self) -> OpenTelemetryProvider:
        """Make this the application-wide tracer provider of every Azure service client."""
        if self._installed is None:
            self._installed = OpenTelemetryProvider.create(self.provider)
        Context.application_context.set_tracer_provider(self._installed)
        return self._installed

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flush and stop every layer, remove the logging handlers and exit hooks, undo
        ``install()``."""
        if self._closed:
            return
        self._closed = True
        if self._exit_hooks is not None:
            self._exit_hooks.remove()
        root = logging.getLogger()
        for handler in self._handlers:
            root.removeHandler(handler)
        saved, ours = self._root_levels
        if root.level == ours:
            root.setLevel(saved)
        self.provider.shutdown()
        if self.kvp_writer is not None:
            self.kvp_writer.shutdown(timeout)
        for sink in self._sinks:
            sink.close()
        if (
            self._installed is not None
            and Context.application_context.get_tracer_provider() is self._installed
        ):
            Context.application_context.set_tracer_provider(None)

    def __enter__(self) -> TracingLayers:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.shutdown()


def setup_layers(
    config: Optional[TelemetryConfig] = None,
    *,
    kvp_pool_path: str = DEFAULT_KVP_POOL_PATH,
    event_prefix: str = DEFAULT_EVENT_PREFIX,
    vm_id: Optional[str] = None,
    product_uuid_path: str = PRODUCT_UUID_PATH,
    boot_time: Optional[float] = None,
    resource: Optional[Resource] = None,
    environ: Optional[Mapping[str, str]] = None,
    kvp_max_delay: float = DEFAULT_MAX_DELAY,
    exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
    flush_on_sigterm: bool = True,
) -> TracingLayers:
    """Build the provider and the layers that can start; ``environ`` defaults to ``os.environ``.

    Filters: ``AZURE_INIT_LOG`` for stderr (default ``error``) and the file (default ``info``);
    ``AZURE_INIT_KVP_FILTER``, then ``config.kvp_filter``, then the default for KVP. KVP events
    reach the pool within ``kvp_max_delay`` seconds; the queue is flushed (waiting at most
    ``exit_timeout`` seconds) at exit, on an uncaught exception and, if ``flush_on_sigterm``
    and set up from the main thread, on SIGTERM.
    """
    config = TelemetryConfig() if config is None else config
    if not isinstance(config, TelemetryConfig):
        raise TypeError(f"config must be a TelemetryConfig or None, got {type(config).__name__}")
    check_event_prefix(event_prefix)
    if vm_id is not None:  # checked whether or not the KVP layer is on, and before any starts
        check_vm_id(vm_id, event_prefix)
    timing = _KvpTiming(
        check_max_delay(kvp_max_delay, "kvp_max_delay"), check_exit_timeout(exit_timeout)
    )
    if not isinstance(flush_on_sigterm, bool):
        raise TypeError(f"flush_on_sigterm must be a bool, got {type(flush_on_sigterm).__name__}")
    env = os.environ if environ is None else environ
    with _held_back_logs() as held:
        built = _build(
            config,
            env,
            kvp_pool_path,
            event_prefix,
            vm_id,
            product_uuid_path,
            boot_time,
            resource,
            timing,
        )
    layers = built.finish(flush_on_sigterm)
    for record in held:  # an unreadable VM id, an ignored filter: now the layers record them
        logging.getLogger(record.name).handle(record)
    return layers


def _build(
    config: TelemetryConfig,
    env: Mapping[str, str],
    kvp_pool_path: str,
    event_prefix: str,
    vm_id: Optional[str],
    product_uuid_path: str,
    boot_time: Optional[float],
    resource: Optional[Resource],
    timing: _KvpTiming,
) -> _Layers:
    stderr_filter, file_filter = log_filters_for(env)
    built = _Layers(TracerProvider() if resource is None else TracerProvider(resource=resource))

    stderr = LineSink.stderr()
    built.add(
        "stderr", LineSpanProcessor(stderr, stderr_filter), LineLogHandler(stderr, stderr_filter)
    )
    built.levels.append(stderr_filter.most_verbose.logging_level)

    if any(env.get(name, "").strip() for name in OTLP_ENDPOINT_ENVS):
        try:
            built.add("opentelemetry", BatchSpanProcessor(_otlp_exporter(env)), None)
        except Exception as error:  # an exporter package missing or refusing its settings
            built.problems.append(f"OpenTelemetry (OTLP) layer left out: {type(error).__name__}")

    if config.kvp_diagnostics:
        kvp_filter = kvp_filter_for(config, env)
        try:
            os.close(open_for_append(kvp_pool_path))  # what the writer will need
            built.writer = KvpWriter(
                kvp_pool_path,
                event_prefix=event_prefix,
                vm_id=vm_id,
                product_uuid_path=product_uuid_path,
                boot_time=boot_time,
                max_delay=timing.max_delay,
                exit_timeout=timing.exit_timeout,
            )
        except OSError as error:
            built.problems.append(
                f"KVP layer left out: cannot open {kvp_pool_path}: {error.strerror}"
            )
        else:
            processor = KvpSpanProcessor(built.writer, kvp_filter)
            built.add("kvp", processor, KvpLogHandler(built.writer, kvp_filter))
            # A health report passes any filter, but logging drops it first if root is above INFO.
            built.levels.extend([kvp_filter.most_verbose.logging_level, logging.INFO])
    else:
        _log.info("KVP diagnostics are off (kvp_diagnostics = false)")

    try:
        create_parent_dirs(config.log_path)
        sink = LineSink.open_file(config.log_path)
    except OSError as error:
        built.problems.append(
            f"file layer left out: cannot open {config.log_path}: {error.strerror}"
        )
    else:
        built.sinks.append(sink)
        built.add("file", LineSpanProcessor(sink, file_filter), LineLogHandler(sink, file_filter))
        built.levels.append(file_filter.most_verbose.logging_level)
    return built


@contextlib.contextmanager
def _held_back_logs() -> Iterator[list[logging.LogRecord]]:
    """Keep this package's log records until the layers that should record them exist."""
    held: list[logging.LogRecord] = []
    package = logging.getLogger(_PACKAGE_LOGGER)
    holder = _Holder(held)
    propagate = package.propagate
    package.addHandler(holder)
    package.propagate = False
    try:
        yield held
    finally:
        package.removeHandler(holder)
        package.propagate = propagate


class _Holder(logging.Handler):
    def __init__(self, held: list[logging.LogRecord]) -> None:
        super().__init__()
        self._held = held

    def emit(self, record: logging.LogRecord) -> None:
        self._held.append(record)


@dataclass(frozen=True)
class _KvpTiming:
    max_delay: float
    exit_timeout: float


class _Layers:
    """What ``setup_layers`` has built so far."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.names: list[str] = []
        self.handlers: list[logging.Handler] = []
        self.sinks: list[LineSink] = []
        self.levels: list[int] = []  # the most verbose logging level each layer wants
        self.problems: list[str] = []
        self.writer: Optional[KvpWriter] = None

    def add(self, name: str, processor: SpanProcessor, handler: Optional[logging.Handler]) -> None:
        self.provider.add_span_processor(processor)
        self.names.append(name)
        if handler is not None:
            self.handlers.append(handler)

    def finish(self, flush_on_sigterm: bool) -> TracingLayers:
        root = logging.getLogger()
        saved = root.level
        needed = min(self.levels)
        if saved != logging.NOTSET and needed < saved:
            root.setLevel(needed)
        for handler in self.handlers:
            root.addHandler(handler)
        for problem in self.problems:  # now every layer that started can record it
            _log.warning(problem)
        hooks = None
        if self.writer is not None:
            writer = self.writer
            hooks = ExitHooks(lambda: writer.flush(writer.exit_timeout))
            hooks.install(sigterm=flush_on_sigterm)  # after the handlers: a warning is recorded
        return TracingLayers(
            self.provider,
            tuple(self.names),
            self.writer,
            self.handlers,
            self.sinks,
            (saved, root.level),
            hooks,
        )


def _otlp_exporter(env: Mapping[str, str]) -> SpanExporter:
    # Imported here: the exporters pull in protobuf (and gRPC), which most runs never need.
    # The endpoint is read from ``env`` rather than left to the exporter, which reads only
    # os.environ: the layers take an injected environment (a provisioning agent's, a test's).
    traces = env.get(OTLP_ENDPOINT_ENVS[0], "").strip()
    base = env.get(OTLP_ENDPOINT_ENVS[1], "").strip()
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", ""
    )
    if protocol.strip() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter(endpoint=traces or base)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    # OTLP/HTTP: a signal-specific endpoint is used as it is; the general one gets the path.
    return OTLPSpanExporter(endpoint=traces or base.rstrip("/") + "/v1/traces")
