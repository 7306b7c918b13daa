from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Callable, Optional

import pytest
from opentelemetry.trace import Status, StatusCode

from azure_core_tracing import ClientOptions, Context, TracingContextFactory
from azure_core_tracing_opentelemetry.diagnostics import (
    PROVISIONING_REPORT_KEY,
    KvpLogHandler,
    Level,
    ProvisioningReport,
    TelemetryConfig,
    TracingLayers,
    read_kvp_pool,
    setup_layers,
)
from azure_core_tracing_opentelemetry.diagnostics.line_layer import (
    LineLogHandler,
    LineSink,
    format_line,
)
from tests.opentelemetry.diagnostics.conftest import DIAGNOSTICS_LOGGER, VM_ID
from tests.otlp_receiver import OtlpReceiver

LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) +(?P<target>\S+) "
    r"trace_id=(?P<trace>[0-9a-f]{32}) span_id=(?P<span>[0-9a-f]{16}): (?P<text>.*)"
)
Setup = Callable[..., TracingLayers]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """``setup_layers`` writing into ``tmp_path``, every result shut down after the test."""
    made: list[TracingLayers] = []

    def make(
        config: Optional[TelemetryConfig] = None,
        environ: Optional[Mapping[str, str]] = None,
        **kwargs: object,
    ) -> TracingLayers:
        config = config or TelemetryConfig(log_path=str(tmp_path / "agent.log"))
        kwargs.setdefault("kvp_pool_path", str(tmp_path / ".kvp_pool_1"))
        layers = setup_layers(
            config,
            vm_id=VM_ID,
            boot_time=0.0,
            environ=environ or {},
            **kwargs,  # type: ignore[arg-type]
        )
        made.append(layers)
        return layers

    yield make
    for layers in made:
        layers.shutdown()


def lines(path: Path) -> list[re.Match[str]]:
    found = []
    for line in path.read_text().splitlines():
        match = LINE.fullmatch(line)
        if match:
            found.append(match)
    return found


def test_all_four_layers_in_order_and_otlp_only_with_an_endpoint(
    setup: Setup, tmp_path: Path, otlp_receiver: OtlpReceiver
) -> None:
    assert setup().layers == ("stderr", "kvp", "file")
    layers = setup(environ={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": otlp_receiver.endpoint})
    assert layers.layers == ("stderr", "opentelemetry", "kvp", "file")
    ours = [
        h for h in logging.getLogger().handlers if isinstance(h, (LineLogHandler, KvpLogHandler))
    ]
    assert [type(h).__name__ for h in ours][-3:] == [
        "LineLogHandler",
        "KvpLogHandler",
        "LineLogHandler",
    ]
    layers.provider.get_tracer("agent").start_span("exported").end()
    layers.shutdown()
    assert [span.name for span in otlp_receiver.wait_for(1)] == ["exported"]


def test_the_general_otlp_endpoint_gets_the_traces_path(
    setup: Setup, otlp_receiver: OtlpReceiver
) -> None:
    base = otlp_receiver.endpoint.rsplit("/v1/traces", 1)[0]
    layers = setup(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": base + "/"})
    assert "opentelemetry" in layers.layers
    layers.provider.get_tracer("agent").start_span("via-base").end()
    layers.shutdown()
    assert [span.name for span in otlp_receiver.wait_for(1)] == ["via-base"]


def test_stderr_shows_errors_only_by_default(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = setup()
    tracer = layers.provider.get_tracer("agent")
    with tracer.start_as_current_span("provision") as span:
        logging.getLogger("agent.ssh").info("quiet")
        logging.getLogger("agent.ssh").error("no key for %s", "azureuser")
        span.set_status(Status(StatusCode.ERROR))
    text = capsys.readouterr().err.splitlines()
    err = [match for match in map(LINE.fullmatch, text) if match]
    assert len(err) == len(text) == 2, text
    context = span.get_span_context()
    assert [(m["level"], m["target"]) for m in err] == [("ERROR", "agent.ssh"), ("ERROR", "agent")]
    assert err[0]["text"] == "no key for azureuser"
    assert re.fullmatch(
        r'span "provision" closed: status=ERROR duration=\d+\.\d{3}ms', err[1]["text"]
    )
    assert all(m["trace"] == f"{context.trace_id:032x}" for m in err)
    assert all(m["span"] == f"{context.span_id:016x}" for m in err)


def test_azure_init_log_sets_stderr_and_file_levels(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layers = setup(environ={"AZURE_INIT_LOG": "debug,agent.noisy=off"})
    with layers.provider.get_tracer("agent").start_as_current_span("step"):
        logging.getLogger("agent").debug("details")
        logging.getLogger("agent.noisy").error("hidden")
    layers.shutdown()
    for text in (capsys.readouterr().err, (tmp_path / "agent.log").read_text()):
        found = [LINE.fullmatch(line) for line in text.splitlines()]
        assert [(m["level"], m["text"]) for m in found if m] == [
            ("INFO", 'span "step" started'),
            ("DEBUG", "details"),
            ("INFO", found[2]["text"] if found[2] else ""),
        ]
        assert found[2] and found[2]["text"].startswith('span "step" closed: status=UNSET')


def test_the_file_layer_writes_info_and_up_with_mode_0600(setup: Setup, tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        layers = setup()
    finally:
        os.umask(old)
    log = tmp_path / "agent.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    logger = logging.getLogger("agent")
    with layers.provider.get_tracer("agent").start_as_current_span("provision"):
        logger.debug("not in the file")
        logger.info("user created")
        try:
            raise OSError("disk gone")
        except OSError:
            logger.exception("mount failed")
    layers.shutdown()
    text = log.read_text()
    found = lines(log)
    assert len(found) == len(text.splitlines()) == 4  # the traceback is on its record's line
    assert [m["text"] for m in found][:2] == ['span "provision" started', "user created"]
    assert found[2]["text"].startswith("mount failed\\nTraceback (most recent call last):\\n")
    assert found[2]["text"].endswith("\\nOSError: disk gone")
    assert "not in the file" not in text


def test_the_log_files_missing_parents_are_made_0700_and_existing_ones_left_alone(
    setup: Setup, tmp_path: Path
) -> None:
    existing = tmp_path / "var"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    log = existing / "log" / "agent" / "agent.log"
    layers = setup(TelemetryConfig(log_path=str(log)))
    assert layers.layers == ("stderr", "kvp", "file")
    logging.getLogger("agent").warning("in a new directory")
    layers.shutdown()
    assert "in a new directory" in log.read_text()
    assert stat.S_IMODE((existing / "log").stat().st_mode) == 0o700
    assert stat.S_IMODE((existing / "log" / "agent").stat().st_mode) == 0o700
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_kvp_gets_spans_logs_and_health_reports_through_the_default_filter(
    setup: Setup, tmp_path: Path
) -> None:
    layers = setup(environ={"AZURE_INIT_LOG": "error"})
    logger = logging.getLogger("my_agent")
    with layers.provider.get_tracer("my_agent").start_as_current_span("provision"):
        logger.info("below the default KVP filter")
        logger.warning("disk slow")
        report = ProvisioningReport.success("MyAgent/1.0", VM_ID)
        logger.info("provisioning done", extra={"health_report": report})
    layers.shutdown()
    records = read_kvp_pool(tmp_path / ".kvp_pool_1")
    assert [r.key.split("|")[2:4] for r in records if r.key != PROVISIONING_REPORT_KEY] == [
        ["WARN", "my_agent:test_kvp_gets_spans_logs_and_health_reports_through_the_default_filter"]
    ]
    assert [r.value for r in records if r.key == PROVISIONING_REPORT_KEY] == [report.encode()]


def test_the_kvp_filter_follows_env_then_config(setup: Setup, tmp_path: Path) -> None:
    config = TelemetryConfig(kvp_filter="my_agent=info", log_path=str(tmp_path / "a.log"))
    layers = setup(config, environ={"AZURE_INIT_KVP_FILTER": "other=trace"})
    layers.provider.get_tracer("my_agent").start_span("hidden-by-env").end()
    layers.provider.get_tracer("other").start_span("shown").end()
    layers.shutdown()
    layers = setup(config)
    layers.provider.get_tracer("my_agent").start_span("shown-by-config").end()
    layers.shutdown()
    names = [r.key.split("|")[3] for r in read_kvp_pool(tmp_path / ".kvp_pool_1")]
    assert names == ["other:shown", "my_agent:shown-by-config"]


def test_kvp_diagnostics_false_writes_nothing(setup: Setup, tmp_path: Path) -> None:
    config = TelemetryConfig(kvp_diagnostics=False, log_path=str(tmp_path / "agent.log"))
    layers = setup(config, environ={"AZURE_INIT_KVP_FILTER": "trace"})
    assert layers.layers == ("stderr", "file") and layers.kvp_writer is None
    with layers.provider.get_tracer("agent").start_as_current_span("provision"):
        logging.getLogger("agent").error("would be a KVP record", extra={"health_report": "x"})
    layers.shutdown()
    assert not (tmp_path / ".kvp_pool_1").exists()
    assert "would be a KVP record" in (tmp_path / "agent.log").read_text()


def test_a_file_that_cannot_be_opened_leaves_the_file_layer_out_with_one_warning(
    setup: Setup, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("")
    config = TelemetryConfig(log_path=str(tmp_path / "a-file" / "logs" / "agent.log"))
    layers = setup(config)
    assert layers.layers == ("stderr", "kvp")
    layers.shutdown()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(DIAGNOSTICS_LOGGER)]
    assert messages == [f"file layer left out: cannot open {config.log_path}: Not a directory"]
    kvp = read_kvp_pool(tmp_path / ".kvp_pool_1")  # the KVP layer recorded it for the host
    assert any("file layer left out" in r.value for r in kvp)


def test_a_pool_that_cannot_be_opened_leaves_the_kvp_layer_out_with_one_warning(
    setup: Setup, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pool = tmp_path / "no-hyperv" / ".kvp_pool_1"
    layers = setup(kvp_pool_path=str(pool))
    assert layers.layers == ("stderr", "file") and layers.kvp_writer is None
    layers.shutdown()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(DIAGNOSTICS_LOGGER)]
    assert messages == [f"KVP layer left out: cannot open {pool}: No such file or directory"]
    assert "KVP layer left out" in (tmp_path / "agent.log").read_text()


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_at_the_log_path_leaves_the_file_layer_out_with_one_warning(
    setup: Setup, tmp_path: Path, caplog: pytest.LogCaptureFixture, dangling: bool
) -> None:
    """A live or dangling symbolic link at the log path is refused, never written or created
    through, and said once."""
    target = tmp_path / "shadow"
    if not dangling:
        target.write_text("root:x:0:0\n")
    link = tmp_path / "agent.log"
    link.symlink_to(target)
    layers = setup(TelemetryConfig(log_path=str(link)))
    assert layers.layers == ("stderr", "kvp")
    logging.getLogger("agent").error("would go through the link")
    layers.shutdown()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(DIAGNOSTICS_LOGGER)]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"file layer left out: cannot open {link}: ")
    assert "symbolic link" in messages[0]
    assert link.is_symlink()
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "root:x:0:0\n"


def test_a_symlink_planted_at_the_pool_path_leaves_the_kvp_layer_out_with_one_warning(
    setup: Setup, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """In a pool directory anyone may write to, a symbolic link another user put at the pool
    path is not followed: the KVP layer is left out and nothing is written where it points."""
    shared = tmp_path / "hyperv"
    shared.mkdir()
    shared.chmod(0o777)
    target = tmp_path / "shadow"
    target.write_text("root:x:0:0\n")
    link = shared / ".kvp_pool_1"
    link.symlink_to(target)
    if os.geteuid() == 0:
        os.lchown(link, 65534, 65534)  # nobody's link, as an unprivileged user would leave it
    layers = setup(kvp_pool_path=str(link))
    assert layers.layers == ("stderr", "file") and layers.kvp_writer is None
    layers.shutdown()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith(DIAGNOSTICS_LOGGER)]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"KVP layer left out: cannot open {link}: ")
    assert "symbolic link" in messages[0]
    assert target.read_text() == "root:x:0:0\n"


def test_a_vm_id_no_key_can_hold_is_refused_even_with_kvp_off(tmp_path: Path) -> None:
    """``setup_layers`` checks the VM id where it is given, whether or not KVP is on."""
    config = TelemetryConfig(kvp_diagnostics=False, log_path=str(tmp_path / "agent.log"))
    for vm_id in ("v" * 200, "vm\n2024-05-01T12:00:00.000Z ERROR", "\ud800"):
        with pytest.raises(ValueError, match="vm_id"):
            setup_layers(config, vm_id=vm_id, environ={})
    with pytest.raises(ValueError, match="event_prefix"):
        setup_layers(config, event_prefix="agent\x1b[2J", environ={})
    assert not (tmp_path / "agent.log").exists()


def test_warnings_made_while_setting_up_reach_the_layers_not_the_last_resort(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = TelemetryConfig(log_path=str(tmp_path / "agent.log"))
    layers = setup_layers(
        config,
        kvp_pool_path=str(tmp_path / "pool"),
        product_uuid_path=str(tmp_path / "no_product_uuid"),
        environ={"AZURE_INIT_KVP_FILTER": "info,bad=loud"},
    )
    layers.shutdown()
    assert capsys.readouterr().err == ""  # stderr shows errors only; nothing went around it
    text = (tmp_path / "agent.log").read_text()
    assert "VM id unreadable" in text and "ignoring the environment variable" in text
    kvp = [r.value for r in read_kvp_pool(tmp_path / "pool")]
    assert any("VM id unreadable" in value for value in kvp)
    with pytest.raises(ValueError, match="event_prefix"):
        setup_layers(config, event_prefix="a|b")


def test_shutdown_removes_what_setup_added_and_install_is_undone(setup: Setup) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.setLevel(logging.WARNING)
    try:
        layers = setup(environ={"AZURE_INIT_LOG": "debug"})
        assert root.level == logging.DEBUG and len(root.handlers) == len(handlers) + 3
        provider = layers.install()
        assert Context.application_context.get_tracer_provider() is provider
        factory = TracingContextFactory(ClientOptions(), "Contoso.Widgets", "1.0")
        with factory.create_span("Client.call") as scope:
            assert scope.span.is_recording
        layers.shutdown()
        layers.shutdown()  # twice: harmless
        assert root.handlers == handlers and root.level == logging.WARNING
        assert Context.application_context.get_tracer_provider() is None
    finally:
        root.setLevel(level)


def test_shutdown_keeps_a_provider_installed_since(setup: Setup) -> None:
    layers = setup()
    layers.install()
    other = setup()
    mine = other.install()
    layers.shutdown()
    assert Context.application_context.get_tracer_provider() is mine


def test_tracing_layers_is_a_context_manager(tmp_path: Path) -> None:
    config = TelemetryConfig(log_path=str(tmp_path / "agent.log"))
    with setup_layers(
        config, kvp_pool_path=str(tmp_path / "pool"), vm_id=VM_ID, environ={}
    ) as layers:
        layers.provider.get_tracer("agent").start_span("s").end()
        assert layers.kvp_writer is not None
    assert layers.kvp_writer.dropped == 0 and len(read_kvp_pool(tmp_path / "pool")) == 0
    with pytest.raises(TypeError, match="config must be a TelemetryConfig"):
        setup_layers({"kvp_diagnostics": False})  # type: ignore[arg-type]


def test_format_line() -> None:
    line = format_line(1714564800123, Level.WARN, "agent.ssh", 0xAB, 0xCD, "hello")
    ids = f"trace_id={0xAB:032x} span_id={0xCD:016x}"
    assert line == f"2024-05-01T12:00:00.123Z WARN  agent.ssh {ids}: hello\n"


def test_a_sink_that_cannot_write_warns_once_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = LineSink.open_file("/dev/full")  # the kernel's full disk: writes fail with ENOSPC
    sink.write("one\n")
    sink.write("two\n")
    sink.close()
    sink.close()
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith(DIAGNOSTICS_LOGGER)]
    assert len(warnings) == 1 and "No space left on device" in warnings[0]
