from __future__ import annotations

import fcntl
import gc
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode

from azure_core_tracing import ClientOptions, Context, TelemetryOptions, TracingContextFactory
from azure_core_tracing.http import HttpPipeline, Request, TransportError
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from azure_core_tracing_opentelemetry.diagnostics import (
    DEFAULT_EVENT_PREFIX,
    KEY_MAX_BYTES,
    PROVISIONING_REPORT_KEY,
    EnvFilter,
    KvpLogHandler,
    KvpRecord,
    KvpSpanProcessor,
    KvpWriter,
    ProvisioningReport,
    read_kvp_pool,
)
from tests.local_server import refused_url
from tests.opentelemetry.diagnostics.conftest import (
    FORGING_TEXT,
    RAW_CONTROL,
    VM_ID,
    KvpSdk,
    kvp_sdk,
    unescape,
    written,
)

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
START = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
START_NS = int(START.timestamp()) * 10**9 + 123_456_789
END_NS = START_NS + 1_333_000_000  # 12:00:01.456…


def key_pattern(level: str, name: str) -> str:
    return rf"{re.escape(DEFAULT_EVENT_PREFIX)}\|{VM_ID}\|{level}\|{re.escape(name)}\|{UUID4}"


def only(records: list[KvpRecord]) -> KvpRecord:
    assert len(records) == 1, records
    return records[0]


def test_a_finished_span_is_one_record_with_the_exact_value(kvp: KvpSdk) -> None:
    span = kvp.sdk.get_tracer("my_agent.provision").start_span("configure_ssh", start_time=START_NS)
    span.set_status(Status(StatusCode.OK))
    span.end(end_time=END_NS)
    record = only(kvp.records())
    assert re.fullmatch(key_pattern("INFO", "my_agent.provision:configure_ssh"), record.key)
    context = span.get_span_context()
    assert record.value == (
        "Start: 2024-05-01T12:00:00.123Z | End: 2024-05-01T12:00:01.456Z | Status: OK | "
        f"TraceId: {context.trace_id:032x} | SpanId: {context.span_id:016x}"
    )


def test_a_long_span_name_is_cut_between_characters_inside_a_key_the_host_reads(
    kvp: KvpSdk,
) -> None:
    for name in ("€" * 200, "a|b" * 100):
        kvp.sdk.get_tracer("agent").start_span(name).end()
    for record in kvp.records():
        head, record_id = record.key.rsplit("|", 1)
        assert len(record.key.encode()) <= KEY_MAX_BYTES and re.fullmatch(UUID4, record_id)
        assert head.startswith(f"{DEFAULT_EVENT_PREFIX}|{VM_ID}|INFO|agent:")
        assert head.endswith("…") and head.count("|") == 3  # a "|" in a name is no field
        assert len(record.key.encode()) >= KEY_MAX_BYTES - 3  # filled, not cut short


def test_a_span_with_status_error_is_an_error_record(kvp: KvpSdk) -> None:
    span = kvp.sdk.get_tracer("agent").start_span("fail")
    span.set_status(Status(StatusCode.ERROR, "boom"))
    span.end()
    record = only(kvp.records())
    assert re.fullmatch(key_pattern("ERROR", "agent:fail"), record.key)
    assert "| Status: ERROR |" in record.value and "boom" not in record.value


def test_an_event_is_a_record_tied_to_its_span(kvp: KvpSdk) -> None:
    span = kvp.sdk.get_tracer("agent").start_span("provision")
    span.add_event(
        "Configuring SSH keys",
        {"user": "azureuser", "key_count": 2, "ok": True, "ids": (1, 2)},
        timestamp=START_NS,
    )
    span.end()
    event, closed = kvp.records()
    context = span.get_span_context()
    ids = f"TraceId: {context.trace_id:032x} | SpanId: {context.span_id:016x}"
    assert re.fullmatch(key_pattern("INFO", "agent:Configuring SSH keys"), event.key)
    assert event.value == (
        "Time: 2024-05-01T12:00:00.123Z | Event: message=Configuring SSH keys, user=azureuser, "
        f"key_count=2, ok=true, ids=[1, 2] | {ids}"
    )
    assert closed.value.startswith("Start: ") and closed.value.endswith(ids)


def test_an_events_level_is_info_error_for_exceptions_or_its_own(kvp: KvpSdk) -> None:
    span = kvp.sdk.get_tracer("agent").start_span("steps")
    span.add_event("plain")
    span.record_exception(KeyError("missing"))
    span.add_event("declared", {"level": "warning"})
    span.add_event("declared exception", {"level": "debug"})
    span.add_event("bad level", {"level": "loud"})
    span.add_event("off is not a level for an event", {"level": "off"})
    span.end()
    levels = [record.key.split("|")[2] for record in kvp.records()]
    assert levels == ["INFO", "ERROR", "WARN", "DEBUG", "INFO", "INFO", "INFO"]
    declared = kvp.records()[2]
    assert "level=" not in declared.value  # the level went into the key


def test_a_health_report_event_is_the_provisioning_report_whatever_the_filter(
    writer: KvpWriter, pool: Path
) -> None:
    made = kvp_sdk(writer, pool, "off")
    report = ProvisioningReport.success("MyAgent/1.0", VM_ID)
    span = made.sdk.get_tracer("agent").start_span("report")
    span.add_event("Provisioning report", {"health_report": report.encode()})
    span.add_event("filtered out")
    span.end()
    assert [(r.key, r.value) for r in made.records()] == [
        (PROVISIONING_REPORT_KEY, report.encode())
    ]
    made.sdk.shutdown()


def test_a_health_report_too_long_for_the_host_is_cut_between_characters(
    kvp: KvpSdk, caplog: pytest.LogCaptureFixture
) -> None:
    # A report given as text (a ProvisioningReport of more than 1022 bytes cannot be made).
    report = "result=error|reason=" + "€" * 600
    span = kvp.sdk.get_tracer("agent").start_span("report")
    span.add_event("report", {"health_report": report})
    span.end()
    [record] = [r for r in kvp.records() if r.key == PROVISIONING_REPORT_KEY]
    assert report.startswith(record.value) and len(record.value.encode()) <= 1022
    assert "cut to the 1022" in caplog.text


def test_the_filter_applies_to_the_scope_name_and_level(writer: KvpWriter, pool: Path) -> None:
    made = kvp_sdk(writer, pool, "warn,my_agent=info,my_agent::noisy=off")
    for scope in ("other", "my_agent.ssh", "my_agent.noisy.deep"):
        span = made.sdk.get_tracer(scope).start_span("ok")
        span.add_event("warned", {"level": "warn"})
        span.end()
        failed = made.sdk.get_tracer(scope).start_span("failed")
        failed.set_status(Status(StatusCode.ERROR))
        failed.end()
    names = [record.key.split("|")[3] for record in made.records()]
    assert names == [
        "other:warned",
        "other:failed",
        "my_agent.ssh:warned",
        "my_agent.ssh:ok",
        "my_agent.ssh:failed",
    ]
    made.sdk.shutdown()


def test_log_records_are_events_tied_to_the_current_span(
    kvp: KvpSdk, kvp_logger: logging.Logger
) -> None:
    tracer = kvp.sdk.get_tracer("agent")
    kvp_logger.warning("outside %s", "any span")
    with tracer.start_as_current_span("provision") as span:
        kvp_logger.info("inside, user %s", "azureuser", extra={"step": "ssh", "tries": 2})
    outside, inside, closed = kvp.records()
    context = span.get_span_context()
    assert re.fullmatch(
        key_pattern(
            "WARN", "provisioning.test:test_log_records_are_events_tied_to_the_current_span"
        ),
        outside.key,
    )
    assert re.fullmatch(
        r"Time: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \| Event: message=outside any span \| "
        r"TraceId: 0{32} \| SpanId: 0{16}",
        outside.value,
    )
    assert inside.key.split("|")[2] == "INFO"
    assert inside.value.endswith(
        "| Event: message=inside, user azureuser, step=ssh, tries=2 | "
        f"TraceId: {context.trace_id:032x} | SpanId: {context.span_id:016x}"
    )
    assert closed.value.startswith("Start: ")


def test_a_log_records_value_has_its_own_time(writer: KvpWriter, pool: Path) -> None:
    handler = KvpLogHandler(writer)
    record = logging.LogRecord("agent.disk", logging.ERROR, __file__, 1, "disk %s", ("full",), None)
    record.created = START.timestamp()
    record.funcName = "mount"
    handler.handle(record)
    [kvp] = written(writer, pool)
    assert re.fullmatch(key_pattern("ERROR", "agent.disk:mount"), kvp.key)
    assert kvp.value == (
        "Time: 2024-05-01T12:00:00.123Z | Event: message=disk full | "
        f"TraceId: {0:032x} | SpanId: {0:016x}"
    )


def test_log_levels_in_keys(kvp: KvpSdk, kvp_logger: logging.Logger) -> None:
    for level in (5, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        kvp_logger.log(level, "x")
    assert [r.key.split("|")[2] for r in kvp.records()] == [
        "TRACE",
        "DEBUG",
        "INFO",
        "WARN",
        "ERROR",
        "ERROR",
    ]


def test_a_logged_exception_adds_its_type_and_message(
    kvp: KvpSdk, kvp_logger: logging.Logger
) -> None:
    try:
        raise ValueError("bad disk")
    except ValueError:
        kvp_logger.exception("mount failed")
    assert kvp.records()[0].value.split(" | ")[1] == (
        "Event: message=mount failed, exception=ValueError: bad disk"
    )


def test_a_health_report_logged_passes_the_filter_and_accepts_the_report_object(
    writer: KvpWriter, pool: Path
) -> None:
    logger = logging.getLogger("provisioning.filtered")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = KvpLogHandler(writer, EnvFilter("off"))
    logger.addHandler(handler)
    try:
        report = ProvisioningReport.error("no network", "MyAgent/1.0", VM_ID, step="dhcp")
        logger.info("provisioning failed", extra={"health_report": report})
        logger.error("filtered out")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    assert writer.flush(5.0)
    [record] = written(writer, pool)
    assert (record.key, record.value) == (PROVISIONING_REPORT_KEY, report.encode())


def test_a_log_record_with_bad_arguments_does_not_raise(
    kvp: KvpSdk, capsys: pytest.CaptureFixture[str]
) -> None:
    record = logging.LogRecord("agent", logging.ERROR, __file__, 1, "two %s %s", ("one",), None)
    KvpLogHandler(kvp.writer).handle(record)  # logging's own report, then it returns
    assert "Logging error" in capsys.readouterr().err
    assert kvp.records() == []


def test_spans_from_azure_service_clients_carry_no_url_secrets(kvp: KvpSdk) -> None:
    options = ClientOptions(
        telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider.create(kvp.sdk))
    )
    options.retry.max_retries = 0
    factory = TracingContextFactory(options, "Contoso.Widgets", "1.0", package_name="contoso")
    pipeline = HttpPipeline(options, "contoso", "1.0", service_name="Contoso.Widgets")
    url = refused_url("/widgets?sig=TOPSECRET&api-version=1") + "#frag"
    with pytest.raises(TransportError), factory.create_span("Client.get", None) as scope:
        pipeline.send(Request("GET", url), scope.context)
    records = kvp.records()
    assert {r.key.split("|")[3] for r in records} >= {"contoso:HTTP GET #0", "contoso:Client.get"}
    assert any(r.key.split("|")[2] == "ERROR" for r in records)
    text = "\n".join(f"{r.key} {r.value}" for r in records)
    assert "TOPSECRET" not in text and "frag" not in text


def test_the_callers_thread_only_queues(pool: Path, kvp_logger: logging.Logger) -> None:
    # While another agent holds the pool's lock, spans and log records still return at once.
    fd = os.open(pool, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    made = kvp_sdk(writer, pool)
    handler = KvpLogHandler(writer)
    kvp_logger.addHandler(handler)
    done = threading.Event()

    def work() -> None:
        for _ in range(100):
            made.sdk.get_tracer("agent").start_span("s").end()
            kvp_logger.info("x")
        done.set()

    threading.Thread(target=work).start()
    assert done.wait(10.0)
    os.close(fd)
    kvp_logger.removeHandler(handler)
    assert len(made.records()) >= 200
    made.sdk.shutdown()
    writer.shutdown(5.0)


def test_processor_and_handler_check_their_arguments(writer: KvpWriter) -> None:
    with pytest.raises(TypeError, match="writer must be a KvpWriter"):
        KvpSpanProcessor(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="filter must be an EnvFilter"):
        KvpSpanProcessor(writer, "info")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="writer must be a KvpWriter"):
        KvpLogHandler(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="filter must be an EnvFilter"):
        KvpLogHandler(writer, "info")  # type: ignore[arg-type]


def test_force_flush_waits_for_the_writer(kvp: KvpSdk) -> None:
    kvp.sdk.get_tracer("agent").start_span("s").end()
    assert kvp.sdk.force_flush(5000)
    assert len(kvp.records()) == 1


def test_application_context_is_untouched(kvp: KvpSdk) -> None:
    assert Context.application_context.get_tracer_provider() is None


@given(message=FORGING_TEXT, name=FORGING_TEXT, target=FORGING_TEXT, field=FORGING_TEXT)
def test_any_text_leaves_no_raw_control_or_line_separator_in_a_record(
    tmp_path_factory: pytest.TempPathFactory,
    message: str,
    name: str,
    target: str,
    field: str,
) -> None:
    """A message, span or event name, target or field value of any text is escaped in every
    key and value, and un-escaping a value gives the text back."""
    pool = tmp_path_factory.mktemp("forging") / ".kvp_pool_1"
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    sdk = TracerProvider()
    sdk.add_span_processor(KvpSpanProcessor(writer))
    try:
        raise ValueError(message)
    except ValueError:
        record = logging.LogRecord(target, logging.ERROR, __file__, 1, message, (), sys.exc_info())
    record.detail = field
    with sdk.get_tracer(target or "agent").start_as_current_span(name) as span:
        span.add_event(name, {"detail": field})
        KvpLogHandler(writer).handle(record)
    sdk.shutdown()
    assert writer.shutdown(5.0) and writer.dropped == 0
    event, logged, closed = read_kvp_pool(pool)  # in the order they happened
    for kvp_record in (event, logged, closed):
        assert RAW_CONTROL.search(kvp_record.key) is None, kvp_record.key
        assert RAW_CONTROL.search(kvp_record.value) is None, kvp_record.value
    assert (
        f"| Event: message={message}, detail={field}, exception=ValueError: {message} | "
        in unescape(logged.value)
    )
    assert f"| Event: message={name}, detail={field} | " in unescape(event.value)
    assert closed.value.startswith("Start: ")


# --- events are written when they happen ---------------------------------------------------


def wait_for_records(pool: Path, count: int, within: float) -> list[KvpRecord]:
    """The pool's records once it holds ``count`` (or what it holds after ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        records = read_kvp_pool(pool) if pool.exists() else []
        if len(records) >= count or time.monotonic() > deadline:
            return list(records)
        time.sleep(0.005)


def test_a_span_event_is_in_the_pool_while_its_span_is_still_open(pool: Path) -> None:
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0, max_delay=0.05)
    made = kvp_sdk(writer, pool)
    span = made.sdk.get_tracer("agent").start_span("provision")
    span.add_event("Configuring SSH keys", {"user": "azureuser"}, timestamp=START_NS)
    span.record_exception(KeyError("missing"))
    [event, error] = wait_for_records(pool, 2, within=5.0)  # no flush: the writer's own timer
    context = span.get_span_context()
    ids = f"TraceId: {context.trace_id:032x} | SpanId: {context.span_id:016x}"
    assert event.value == (
        f"Time: 2024-05-01T12:00:00.123Z | Event: message=Configuring SSH keys, user=azureuser "
        f"| {ids}"
    )
    assert error.key.split("|")[2:4] == ["ERROR", "agent:exception"]
    span.end()
    records = made.records()
    assert records[:2] == [event, error]  # each event once: not again when the span ends
    assert len(records) == 3 and records[2].value.startswith("Start: ")
    made.sdk.shutdown()
    writer.shutdown(5.0)


def test_events_reach_the_pool_within_max_delay(pool: Path) -> None:
    """The writer's timer, not a flush: an event is there well within ``max_delay`` (the
    writer waits half of it for more), and a long ``max_delay`` holds it back meanwhile."""
    assert KvpWriter.__init__.__kwdefaults__["max_delay"] == 0.1  # type: ignore[index]
    for max_delay, held_back in ((0.1, False), (20.0, True)):
        pool.unlink(missing_ok=True)
        writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0, max_delay=max_delay)
        assert writer.max_delay == max_delay
        assert writer.flush(5.0)  # the pool is prepared; the next entry starts the timer
        made = kvp_sdk(writer, pool)
        span = made.sdk.get_tracer("agent").start_span("open")
        queued = time.monotonic()
        span.add_event("now")
        records = wait_for_records(pool, 1, within=0.5)
        took = time.monotonic() - queued
        if held_back:
            assert records == []
        else:
            assert len(records) == 1 and took < 0.1, took
        made.sdk.shutdown()
        writer.shutdown(5.0)
        assert len(read_kvp_pool(pool)) == 1


def test_max_delay_must_be_a_positive_number_of_seconds_up_to_a_minute(pool: Path) -> None:
    for bad in (0, -0.1, float("nan"), float("inf"), 60.5):
        with pytest.raises(ValueError, match=r"max_delay must be 0 < max_delay <= 60 seconds"):
            KvpWriter(pool, vm_id=VM_ID, max_delay=bad)
    for wrong in ("0.1", None, True):
        with pytest.raises(TypeError, match="max_delay must be a number of seconds"):
            KvpWriter(pool, vm_id=VM_ID, max_delay=wrong)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exit_timeout must be 0 <= exit_timeout <= 3600"):
        KvpWriter(pool, vm_id=VM_ID, exit_timeout=-1)
    assert not pool.exists()  # refused before the writer thread started
    KvpWriter(pool, vm_id=VM_ID, max_delay=60, exit_timeout=0).shutdown(5.0)


def test_live_events_keep_the_filter_and_health_reports(writer: KvpWriter, pool: Path) -> None:
    made = kvp_sdk(writer, pool, "warn")
    report = ProvisioningReport.success("MyAgent/1.0", VM_ID)
    span = made.sdk.get_tracer("agent").start_span("quiet")  # an INFO span: filtered out
    span.add_event("dropped")
    span.add_event("kept", {"level": "warn"})
    span.add_event("report", {"health_report": report.encode()})
    assert [(r.key.split("|")[3:4] or [r.key]) for r in made.records()] == [
        ["agent:kept"],
        [PROVISIONING_REPORT_KEY],
    ]
    span.end()
    assert len(made.records()) == 2  # the span's own record filtered out, nothing repeated
    made.sdk.shutdown()


def test_an_event_on_an_ended_span_is_not_written(kvp: KvpSdk) -> None:
    span = kvp.sdk.get_tracer("agent").start_span("s")
    span.end()
    span.add_event("late")  # the SDK refuses it (with its own warning)
    assert [r.key.split("|")[3] for r in kvp.records()] == ["agent:s"]


def test_each_kvp_processor_writes_each_live_event_once(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    writers = [KvpWriter(path, vm_id=VM_ID, boot_time=0.0) for path in (first, second)]
    sdk = TracerProvider()
    for writer in writers:
        sdk.add_span_processor(KvpSpanProcessor(writer))
    span = sdk.get_tracer("agent").start_span("s")
    span.add_event("once")
    span.end()
    sdk.shutdown()
    for writer, path in zip(writers, (first, second)):
        assert writer.shutdown(5.0)
        assert [r.key.split("|")[3] for r in read_kvp_pool(path)] == ["agent:once", "agent:s"]


def test_events_of_a_span_started_before_the_processor_are_written_when_it_ends(
    writer: KvpWriter, pool: Path
) -> None:
    sdk = TracerProvider()
    span = sdk.get_tracer("agent").start_span("older")  # no KVP processor saw it start
    sdk.add_span_processor(KvpSpanProcessor(writer))
    span.add_event("late processor")
    assert writer.flush(5.0) and not pool.stat().st_size
    span.end()
    assert [r.key.split("|")[3] for r in written(writer, pool)] == [
        "agent:late processor",
        "agent:older",
    ]
    sdk.shutdown()


def test_live_events_add_no_reference_cycle(kvp: KvpSdk) -> None:
    # A span freed by reference counting alone, at once: no collector pass for every span.
    gc.disable()
    try:
        span = kvp.sdk.get_tracer("agent").start_span("s")
        span.add_event("e")
        span.end()
        freed = weakref.ref(span)
        del span
        assert freed() is None
    finally:
        gc.enable()


def test_a_process_killed_inside_an_open_span_keeps_every_event_logged_before(
    tmp_path: Path,
) -> None:
    """SIGKILL inside a span that never ends: the events and log records made more than
    ``max_delay`` before are in the pool, whichever way they were made."""
    pool, log = tmp_path / ".kvp_pool_1", tmp_path / "agent.log"
    script = f"""
        import logging, sys, time
        from azure_core_tracing import ClientOptions, TracingContextFactory
        from azure_core_tracing_opentelemetry.diagnostics import TelemetryConfig, setup_layers

        layers = setup_layers(
            TelemetryConfig(log_path=sys.argv[2]), kvp_pool_path=sys.argv[1], vm_id="{VM_ID}",
            boot_time=0.0, environ={{"AZURE_INIT_KVP_FILTER": "info"}},
        )
        layers.install()  # Azure service clients' spans go to the layers' provider
        factory = TracingContextFactory(ClientOptions(), "Contoso.Widgets", "1.0",
                                        package_name="contoso")
        tracer = layers.provider.get_tracer("agent")
        with tracer.start_as_current_span("provision") as span:
            span.add_event("sdk event")
            logging.getLogger("agent").warning("logged")
            scope = factory.create_span("Client.call")
            scope.span.add_event("library event", {{"step": 1}})
            scope.span.add_event(ValueError("library exception"))
            time.sleep(0.3)  # three times max_delay
            print("ready", flush=True)
            time.sleep(60)
    """
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(pool), str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    records = read_kvp_pool(pool)
    names = [r.key.split("|")[3] for r in records]
    assert names == [
        "agent:sdk event",
        "agent:<module>",  # the log record: logger and function
        "contoso:library event",
        "contoso:exception",
    ]
    assert "message=logged" in records[1].value and "step=1" in records[2].value
    assert "library exception" in records[3].value
    assert not any(r.value.startswith("Start: ") for r in records)  # no span ended
