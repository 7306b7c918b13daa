"""Client options: telemetry, retry, redirect and logging settings a service client is built from.

Every field is checked when it is set, so a wrong value fails where it is written. A
pipeline or factory keeps a ``snapshot()``: a checked, read-only copy, so changing the
options afterwards changes nothing that was built from them.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, TypeVar, Union

from azure_core_tracing.allowed_names import (
    DEFAULT_ALLOWED_HEADERS,
    DEFAULT_ALLOWED_QUERY_PARAMETERS,
)
from azure_core_tracing.checks import (
    check_bool,
    check_count,
    check_names,
    check_seconds,
    check_status_codes,
    type_name,
)
from azure_core_tracing.propagation_headers import check_propagation_headers
from azure_core_tracing.tracing import TracerProvider, check_tracer_provider
from azure_core_tracing.transport_base import Transport

if TYPE_CHECKING:
    from azure_core_tracing.http.transport import AsyncHttpTransport, HttpTransport

MAX_APPLICATION_ID_LENGTH = 24
_APPLICATION_ID = re.compile(r"[\x21-\x7e\xa1-\xff]*")

_OptionsT = TypeVar("_OptionsT", bound="_Options")


def check_application_id(application_id: object) -> Optional[str]:
    """Return ``application_id`` if it is None or a short id without white space."""
    if application_id is None:
        return None
    if not isinstance(application_id, str):
        raise TypeError(f"application_id must be a str, got {type_name(application_id)}")
    if len(application_id) > MAX_APPLICATION_ID_LENGTH:
        raise ValueError(
            f"application_id must be at most {MAX_APPLICATION_ID_LENGTH} characters, "
            f"got {len(application_id)}: {application_id!r}"
        )
    if _APPLICATION_ID.fullmatch(application_id) is None:
        raise ValueError(
            "application_id must be printable Latin-1 text without white space (it leads the "
            f"User-Agent header): {application_id!r}"
        )
    return application_id


class _Options:
    """Checks each field as it is set (``_check``); ``snapshot()`` freezes a checked copy."""

    _frozen = False

    def _check(self, name: str, value: Any) -> Any:
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise dataclasses.FrozenInstanceError(
                f"cannot assign to {name!r}: these options are a snapshot that a pipeline or "
                "factory took; change the ClientOptions and build a new one"
            )
        object.__setattr__(self, name, self._check(name, value))

    def snapshot(self: _OptionsT) -> _OptionsT:
        """A checked, read-only copy (sets become frozensets, nested options snapshots)."""
        copy = object.__new__(type(self))
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            # Checked again: a set changed in place never went through __setattr__.
            value = self._check(item.name, getattr(self, item.name))
            if isinstance(value, set):
                value = frozenset(value)
            elif isinstance(value, _Options):
                value = value.snapshot()
            object.__setattr__(copy, item.name, value)
        object.__setattr__(copy, "_frozen", True)
        return copy


@dataclass
class TelemetryOptions(_Options):
    """Who is calling (``application_id``), which tracer provider traces this client,
    whether a public method called inside another's span is left out (``suppress_nested_spans``:
    its span is not made, and its HTTP spans go under the outer method's span), and which
    headers a propagator may write besides the built-in trace context and baggage headers
    (``propagation_headers``: names, any case; one ending in ``*`` is a prefix)."""

    application_id: Optional[str] = None
    tracing_provider: Optional[TracerProvider] = None
    suppress_nested_spans: bool = True
    propagation_headers: set[str] = field(default_factory=set)

    def _check(self, name: str, value: Any) -> Any:
        if name == "application_id":
            return check_application_id(value)
        if name == "tracing_provider":
            return check_tracer_provider(value, "tracing_provider")
        if name == "suppress_nested_spans":
            return check_bool(value, name)
        if name == "propagation_headers":
            return set(check_propagation_headers(value, name))
        return value


@dataclass
class RetryOptions(_Options):
    """How the retry policy retries: durations are float seconds.

    A ``Retry-After`` longer than ``max_retry_after`` is not waited for: the response is
    returned to the caller at once."""

    max_retries: int = 3
    retry_delay: float = 0.8
    max_retry_delay: float = 60.0
    max_retry_after: float = 60.0
    status_codes: set[int] = field(default_factory=lambda: {408, 429, 500, 502, 503, 504})

    def _check(self, name: str, value: Any) -> Any:
        if name == "max_retries":
            return check_count(value, name)
        if name in ("retry_delay", "max_retry_delay", "max_retry_after"):
            return check_seconds(value, name)
        if name == "status_codes":
            return set(check_status_codes(value, name))
        return value


@dataclass
class LogOptions(_Options):
    """Which header names and query parameter names may appear unredacted in the client's
    telemetry: its spans, its log lines, its transport errors and urllib3's lines during its
    calls."""

    allowed_headers: set[str] = field(default_factory=lambda: set(DEFAULT_ALLOWED_HEADERS))
    allowed_query_parameters: set[str] = field(
        default_factory=lambda: set(DEFAULT_ALLOWED_QUERY_PARAMETERS)
    )

    def _check(self, name: str, value: Any) -> Any:
        if name in ("allowed_headers", "allowed_query_parameters"):
            return set(check_names(value, name))
        return value


@dataclass
class RedirectOptions(_Options):
    """How many redirects (301, 302, 303, 307, 308) a call follows: ``max_redirects`` (0: none,
    the 3xx response is returned); one more is a ``TooManyRedirectsError``."""

    max_redirects: int = 30

    def _check(self, name: str, value: Any) -> Any:
        if name == "max_redirects":
            return check_count(value, name)
        return value


_NESTED = {
    "telemetry": TelemetryOptions,
    "retry": RetryOptions,
    "redirect": RedirectOptions,
    "log": LogOptions,
}


@dataclass
class ClientOptions(_Options):
    """Everything a service client is built from."""

    telemetry: TelemetryOptions = field(default_factory=TelemetryOptions)
    retry: RetryOptions = field(default_factory=RetryOptions)
    redirect: RedirectOptions = field(default_factory=RedirectOptions)
    log: LogOptions = field(default_factory=LogOptions)
    transport: Optional[Union[HttpTransport, AsyncHttpTransport]] = None
    """The transport of the client's pipeline: an ``HttpTransport`` for ``HttpPipeline``, an
    ``AsyncHttpTransport`` for ``AsyncHttpPipeline``; None for the default."""

    def _check(self, name: str, value: Any) -> Any:
        expected = _NESTED.get(name)
        if expected is not None and not isinstance(value, expected):
            raise TypeError(f"{name} must be a {expected.__name__}, got {type_name(value)}")
        if name == "transport" and value is not None and not isinstance(value, Transport):
            # Its kind (sync or async) is checked where a pipeline is built from these options.
            raise TypeError(
                "transport must be an HttpTransport or an AsyncHttpTransport, "
                f"got {type_name(value)}"
            )
        return value
