"""Small helpers the test modules share."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from azure_core_tracing import ClientOptions, TelemetryOptions, TracerProvider


def wrong(value: object) -> Any:
    """``value`` as a caller that ignores the annotations would pass it."""
    return value


def options_for(provider: Optional[TracerProvider]) -> ClientOptions:
    """Client options traced by ``provider`` (None: untraced), retrying without a real wait."""
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    options.retry.retry_delay = 0.001
    return options


def exception_texts(error: BaseException) -> list[str]:
    """Everything a user or a logging tool can print of an exception and its chain."""
    texts = ["".join(traceback.format_exception(type(error), error, error.__traceback__))]
    seen: set[int] = set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or current.__context__
    return texts


class EveryRecord(logging.Handler):
    """Keeps every record it is given, formatted (``name message``, with its traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))

    def of(self, logger: str) -> list[str]:
        """The texts of ``logger``'s records."""
        return [text for text in self.texts if text.startswith(logger)]


@contextmanager
def every_record_at_debug() -> Iterator[EveryRecord]:
    """Every record of every logger, at DEBUG, while the block runs."""
    handler = EveryRecord()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
