"""The stderr and file layers: one text line per span start, span close and log record.

``<time> <LEVEL> <target> trace_id=<32 hex> span_id=<16 hex>: <text>``, time in UTC with
milliseconds; the ids are the span's own for its start and close lines, and the current span's
for a log record (zeros outside any span). One event is one line: the text is escaped as
``escape.one_line`` says, so a log record's traceback is on its line, its line breaks written
``\\n``; the target as ``escape.one_field`` says (a space in it is ``\\x20``).
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
from typing import Callable, Optional, TextIO

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from azure_core_tracing_opentelemetry.diagnostics.escape import one_field, one_line
from azure_core_tracing_opentelemetry.diagnostics.files import open_for_append
from azure_core_tracing_opentelemetry.diagnostics.filter import EnvFilter, Level, span_target
from azure_core_tracing_opentelemetry.diagnostics.timestamps import ns_to_ms, utc_iso_ms

_log = logging.getLogger(__name__)
_LOG_FILE_MODE = 0o600


def format_line(
    epoch_ms: int, level: Level, target: str, trace_id: int, span_id: int, text: str
) -> str:
    """One line (with its newline) as the stderr and file layers write it, whatever the text."""
    # The target is a field between spaces: a space in it would shift the fields after it.
    return (
        f"{utc_iso_ms(epoch_ms)} {level.name:<5} {one_field(target)} "
        f"trace_id={trace_id:032x} span_id={span_id:016x}: {one_line(text)}\n"
    )


class LineSink:
    """Where lines go: a text stream looked up at each write, or a file opened for appending."""

    def __init__(self, stream: Callable[[], Optional[TextIO]], name: str) -> None:
        self._stream = stream
        self._fd: Optional[int] = None
        self._lock = threading.Lock()
        self._failed = False
        self.name = name
        """What the sink writes to, for messages."""

    @classmethod
    def stderr(cls) -> LineSink:
        """``sys.stderr`` as it is at each write (so redirections are honoured)."""
        return cls(lambda: sys.stderr, "stderr")

    @classmethod
    def open_file(cls, path: str) -> LineSink:
        """Append to ``path``, created with mode 0600 or tightened to it; an ``OSError`` if it
        cannot be opened, or is a symbolic link (never followed)."""
        sink = cls(lambda: None, path)
        sink._fd = open_for_append(path)
        _tighten(sink._fd, path)
        return sink

    def write(self, line: str) -> None:
        """Write ``line``; a failure is logged once and never raised."""
        try:
            if self._fd is not None:
                # One O_APPEND write per line: lines of several processes never interleave.
                os.write(self._fd, line.encode("utf-8", "backslashreplace"))
                return
            stream = self._stream()
            if stream is not None:
                with self._lock:
                    stream.write(line)
                    stream.flush()
        except (OSError, ValueError) as error:
            if not self._failed:
                self._failed = True  # first: the warning below may come back to this sink
                _log.warning("cannot write log lines to %s: %s", self.name, error)

    def close(self) -> None:
        """Close the file, if this sink has one."""
        fd, self._fd = self._fd, None
        if fd is not None:
            self._stream = lambda: None
            os.close(fd)


def _tighten(fd: int, path: str) -> None:
    """Make an existing log file that others may read or write 0600, as azure-init does."""
    info = os.fstat(fd)
    # Only a regular file: a device's mode (say /dev/null's) belongs to the whole system.
    if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & ~_LOG_FILE_MODE:
        try:
            os.fchmod(fd, _LOG_FILE_MODE)
        except OSError as error:  # not its owner: log lines still go in
            _log.warning("cannot make %s mode 0600: %s", path, error.strerror)


class LineSpanProcessor(SpanProcessor):
    """Writes a line when a span starts and when it ends, if ``filter`` lets its level pass."""

    def __init__(self, sink: LineSink, filter: EnvFilter) -> None:
        self._sink = sink
        self._filter = filter

    def on_start(self, span: Span, parent_context: Optional[otel_context.Context] = None) -> None:
        self._filter.span_started(span, parent_context)
        target = span_target(span)
        if self._filter.enabled(target, Level.INFO, span):
            ids = span.get_span_context()
            text = f'span "{span.name}" started'
            self._sink.write(
                format_line(
                    ns_to_ms(span.start_time or 0),
                    Level.INFO,
                    target,
                    ids.trace_id,
                    ids.span_id,
                    text,
                )
            )

    def on_end(self, span: ReadableSpan) -> None:
        target = span_target(span)
        status = span.status.status_code
        level = Level.ERROR if status is StatusCode.ERROR else Level.INFO
        if self._filter.enabled(target, level, span) and span.context is not None:
            duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
            text = f'span "{span.name}" closed: status={status.name} duration={duration_ms:.3f}ms'
            self._sink.write(
                format_line(
                    ns_to_ms(span.end_time or 0),
                    level,
                    target,
                    span.context.trace_id,
                    span.context.span_id,
                    text,
                )
            )


class LineLogHandler(logging.Handler):
    """Writes ``logging`` records that ``filter`` lets pass, with the current span's ids."""

    def __init__(self, sink: LineSink, filter: EnvFilter) -> None:
        super().__init__()
        self._sink = sink
        self._directives = filter  # not self.filter: that is logging.Filterer's method
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = Level.from_logging(record.levelno)
            current = otel_trace.get_current_span(otel_context.get_current())
            if not self._directives.enabled(record.name, level, current):
                return
            ids = current.get_span_context()
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + self._formatter.formatException(record.exc_info)
            elif record.exc_text:
                text += "\n" + record.exc_text
            if record.stack_info:
                text += "\n" + record.stack_info
            line = format_line(
                int(record.created * 1000), level, record.name, ids.trace_id, ids.span_id, text
            )
            self._sink.write(line)
        except Exception:
            self.handleError(record)
