"""The stderr and file layers' lines: one per event whatever the text, never through a link."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from opentelemetry.sdk.trace import TracerProvider

from azure_core_tracing_opentelemetry.diagnostics import EnvFilter
from azure_core_tracing_opentelemetry.diagnostics.line_layer import (
    LineLogHandler,
    LineSink,
    LineSpanProcessor,
)
from tests.opentelemetry.diagnostics.conftest import FORGING_TEXT, RAW_CONTROL, unescape

# The line format, with a target of no characters at all (a span without a scope name).
LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) +(?P<target>\S*) "
    r"trace_id=(?P<trace>[0-9a-f]{32}) span_id=(?P<span>[0-9a-f]{16}): (?P<text>.*)"
)


def parsed(output: str, events: int) -> list[re.Match[str]]:
    """The lines of ``output``, checked to be ``events`` whole lines free of raw controls."""
    assert output.endswith("\n") and output.count("\n") == events, output
    assert len(output.splitlines()) == events, output  # no VT, FF, NEL, U+2028… either
    found = []
    for line in output[:-1].split("\n"):
        assert RAW_CONTROL.search(line) is None, line
        match = LINE.fullmatch(line)
        assert match is not None, line
        found.append(match)
    return found


@given(message=FORGING_TEXT, span_name=FORGING_TEXT, target=FORGING_TEXT, field=FORGING_TEXT)
def test_any_text_is_one_line_per_event_in_the_stderr_and_file_layers(
    message: str, span_name: str, target: str, field: str
) -> None:
    """A message, traceback, span name, event name, target or field value of any text makes
    exactly one line per event in both layers, and un-escaping gives the text back."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "agent.log")
        file_sink = LineSink.open_file(path)
        stderr_sink = LineSink.stderr()
        everything = EnvFilter("trace")
        sdk = TracerProvider()
        handlers = []
        for sink in (stderr_sink, file_sink):
            sdk.add_span_processor(LineSpanProcessor(sink, everything))
            handlers.append(LineLogHandler(sink, everything))
        try:
            raise ValueError(message)
        except ValueError:
            exc_info = sys.exc_info()
        record = logging.LogRecord(target, logging.ERROR, __file__, 1, message, (), exc_info)
        record.detail = field  # an extra field: the line layers do not show it
        traceback = logging.Formatter().formatException(exc_info)
        scope = target or "agent"  # the SDK complains, on stderr too, of a tracer without a name
        stderr = io.StringIO()
        tracer = sdk.get_tracer(scope)
        with contextlib.redirect_stderr(stderr), tracer.start_as_current_span(span_name) as span:
            span.add_event(field, {"detail": field})
            for handler in handlers:
                handler.handle(record)
        sdk.shutdown()
        file_sink.close()
        with open(path, "rb") as file:
            written = file.read().decode("utf-8")  # strict: nothing that is not UTF-8
    for output in (stderr.getvalue(), written):
        started, logged, closed = parsed(output, 3)
        assert unescape(logged["target"]) == target
        assert unescape(started["target"]) == unescape(closed["target"]) == scope
        assert unescape(started["text"]) == f'span "{span_name}" started'
        assert unescape(logged["text"]) == f"{message}\n{traceback}"
        assert unescape(closed["text"]).startswith(f'span "{span_name}" closed: status=')


def test_a_forged_record_stays_inside_its_line_and_plain_text_is_unchanged(
    tmp_path: Path,
) -> None:
    """A line feed, ESC or U+2028 in a message is shown escaped on the one line, any space in
    the target too; text with none of them (nor a backslash) is written as it is."""
    sink = LineSink.open_file(str(tmp_path / "agent.log"))
    handler = LineLogHandler(sink, EnvFilter("info"))
    forged = "ok\n2024-05-01T12:00:00.000Z ERROR agent trace_id=0 span_id=0: forged\x1b[2J\u2028"
    plain = "user créé: azureuser | key=ssh-ed25519 AAAA 😀"
    records = [("agent", forged), ("agent.ssh", plain), ("a b\xa0c\u3000trace_id=0", plain)]
    for target, text in records:
        handler.handle(logging.LogRecord(target, logging.INFO, __file__, 1, text, (), None))
    sink.close()
    first, second, third = parsed((tmp_path / "agent.log").read_text(), 3)
    assert first["text"] == (
        "ok\\n2024-05-01T12:00:00.000Z ERROR agent trace_id=0 span_id=0: forged\\x1b[2J\\u2028"
    )
    assert (second["target"], second["text"]) == ("agent.ssh", plain)
    assert third["target"] == "a\\x20b\\xa0c\\u3000trace_id=0"


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_at_the_log_path_is_refused_never_followed(
    tmp_path: Path, dangling: bool
) -> None:
    """Opening the log file through a symbolic link fails, and nothing is created or written
    where it points."""
    target = tmp_path / "elsewhere"
    if not dangling:
        target.write_text("not ours\n")
    link = tmp_path / "agent.log"
    link.symlink_to(target)
    with pytest.raises(OSError) as raised:
        LineSink.open_file(str(link))
    assert raised.value.errno == errno.ELOOP
    assert raised.value.filename == str(link)
    assert "symbolic link" in str(raised.value.strerror)
    assert target.exists() is not dangling
    if not dangling:
        assert target.read_text() == "not ours\n"


def test_a_hard_link_planted_at_the_log_path_is_refused(tmp_path: Path) -> None:
    """A second name for another file (a hard link) is not written through, nor is that file's
    mode changed."""
    target = tmp_path / "shadow"
    target.write_text("not ours\n")
    target.chmod(0o644)
    link = tmp_path / "agent.log"
    os.link(target, link)
    with pytest.raises(OSError) as raised:
        LineSink.open_file(str(link))
    assert raised.value.errno == errno.EMLINK
    assert "hard link" in str(raised.value.strerror)
    assert target.read_text() == "not ours\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_fifo_at_the_log_path_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO with no reader would block the open forever (and one with a reader, every
    write): it is refused without waiting."""
    fifo = tmp_path / "agent.log"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        LineSink.open_file(str(fifo))


def test_an_existing_log_file_looser_than_0600_is_tightened(tmp_path: Path) -> None:
    """A log file others may read or write is made 0600 when the file layer opens it; a device
    keeps its mode, which belongs to the whole system."""
    null_mode = stat.S_IMODE(os.stat("/dev/null").st_mode)
    LineSink.open_file("/dev/null").close()
    assert stat.S_IMODE(os.stat("/dev/null").st_mode) == null_mode
    path = tmp_path / "agent.log"
    path.write_text("earlier\n")
    path.chmod(0o666)
    sink = LineSink.open_file(str(path))
    sink.write("later\n")
    sink.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "earlier\nlater\n"
