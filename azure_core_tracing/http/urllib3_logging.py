"""Redaction of urllib3's own log records, once a ``RequestsTransport`` has been built.

At DEBUG, urllib3 logs every request line (``"GET /path?sig=... HTTP/1.1"``) and every retry
with its URL; at WARNING, the URL and the rest of a response's header block it could not
parse. A filter on its loggers passes those records through a sanitizer (URLs, and those
header lines by its header allow-list) before any handler sees them; records of every other
logger are left alone.

urllib3's loggers are the process's, shared by every client, but urllib3 logs on the thread
that sends, while the transport's ``send`` runs: a ``RequestsTransport`` marks that stretch
(``enter_call`` and ``leave_call``, a context variable, so threads and tasks never see each
other's), and the records logged in it are redacted by the calling client's rules (its
``LogOptions``, the sanitizer its pipeline put in the call's context). Any other record (urllib3
used directly, a transport used without a pipeline, a streamed body read after ``send``
returned) is redacted by the default allow-lists.
"""

from __future__ import annotations

import ast
import contextvars
import logging
import re
import threading
from typing import Optional

from azure_core_tracing.context import Context
from azure_core_tracing.http.sanitizer import HttpSanitizer

# Every urllib3 logger that writes a URL or a request target.
_LOGGER_NAMES = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)
_TARGET = re.compile(r"(?<![^\s\"'(])/\S*")  # a request target: a word that starts with '/'
# urllib3's HeaderParsingError ends with the rest of the header block it could not parse,
# repr'd (str or bytes); anything else after the words is redacted whole.
_UNPARSED_MARK = "unparsed data: "
_UNPARSED = re.compile(
    _UNPARSED_MARK + r"""(?:(b?'(?:[^'\\\n]|\\.)*'|b?"(?:[^"\\\n]|\\.)*")|[^\n]*)"""
)
# While a call is sent: its context, which holds the calling client's sanitizer (looked up
# only when urllib3 logs), and whether its URL may hide user info in its path (urllib3's
# lines show only the target, too little to tell, so every target in them is then redacted
# whole). One value, set and reset once per call.
_Call = tuple[Optional[Context], bool]
_CALL: contextvars.ContextVar[_Call] = contextvars.ContextVar(
    "azure_core_tracing_urllib3_call", default=(None, False)
)


def enter_call(context: Context, hiding_targets: bool) -> contextvars.Token[_Call]:
    """Redact urllib3's records in this context by the sanitizer of the call ``context``
    belongs to (and, if ``hiding_targets``, every request target whole) until
    ``leave_call``."""
    return _CALL.set((context, hiding_targets))


def leave_call(token: contextvars.Token[_Call]) -> None:
    """Back to the rules before ``enter_call``: the defaults, outside any call."""
    _CALL.reset(token)


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted: nothing of it is shown
            message = f"(a urllib3 record that could not be formatted: {record.msg!r:.80})"
        context, hiding = _CALL.get()
        sanitizer = HttpSanitizer.from_context(context)
        message = sanitizer.sanitize_text(_without_header_values(message, sanitizer))
        if hiding:
            message = _TARGET.sub("/REDACTED", message)
        record.msg = message
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = sanitizer.sanitize_text(_without_header_values(text, sanitizer))
            record.exc_info = None
        return True


def _without_header_values(text: str, sanitizer: HttpSanitizer) -> str:
    """``text`` with the header lines urllib3 could not parse redacted by ``sanitizer``."""
    if _UNPARSED_MARK not in text:
        return text

    def redacted(found: re.Match[str]) -> str:
        try:
            data = ast.literal_eval(found.group(1)) if found.group(1) else None
        except (ValueError, SyntaxError):
            data = None
        if isinstance(data, bytes):
            lines = sanitizer.sanitize_header_lines(data.decode("latin-1"))
            return _UNPARSED_MARK + repr(lines.encode("latin-1"))
        if isinstance(data, str):
            return _UNPARSED_MARK + repr(sanitizer.sanitize_header_lines(data))
        return _UNPARSED_MARK + "REDACTED"

    return _UNPARSED.sub(redacted, text)


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
