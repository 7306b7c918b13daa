"""Redaction of urllib3's own log records, once a ``RequestsTransport`` has been built.

At DEBUG, urllib3 logs every request line (``"GET /path?sig=... HTTP/1.1"``) and every retry
with its URL. A filter on its loggers passes those records through the sanitizer before any
handler sees them; records of every other logger are left alone.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from azure_core_tracing.http.sanitizer import DEFAULT_SANITIZER

# Every urllib3 logger that writes a URL or a request target.
_LOGGER_NAMES = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)
_TARGET = re.compile(r"(?<![^\s\"'(])/\S*")  # a request target: a word that starts with '/'
# Set while a request whose URL may hide user info in its path is sent: urllib3's lines
# show only the target, too little to tell, so every target in them is redacted.
_HIDING = contextvars.ContextVar("azure_core_tracing_urllib3_hiding", default=False)


@contextmanager
def hiding_targets() -> Iterator[None]:
    """Redact every request target urllib3 logs in this context, whole."""
    token = _HIDING.set(True)
    try:
        yield
    finally:
        _HIDING.reset(token)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted: nothing of it is shown
            message = f"(a urllib3 record that could not be formatted: {record.msg!r:.80})"
        message = DEFAULT_SANITIZER.sanitize_text(message)
        if _HIDING.get():
            message = _TARGET.sub("/REDACTED", message)
        record.msg = message
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = DEFAULT_SANITIZER.sanitize_text(text)
            record.exc_info = None
        return True


_FILTER = _RedactingFilter()
_lock = threading.Lock()


def install() -> None:
    """Redact urllib3's records from now on (calling it again does nothing).

    Installed when the first ``RequestsTransport`` is built and never removed: a closed
    transport can still send (requests reopens its pools), and a pool shared by several
    clients outlives any one of them, so a count of users would stop redacting too early."""
    with _lock:
        for name in _LOGGER_NAMES:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
