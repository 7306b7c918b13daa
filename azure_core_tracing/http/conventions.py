"""The names HTTP spans give their attributes: one table, for both pipelines and the console.

By default the names of the tracing guide this project follows; OpenTelemetry's standard
switch ``OTEL_SEMCONV_STABILITY_OPT_IN`` (comma-separated) selects its stable HTTP names
(``http``) or both sets (``http/dup``, which wins over ``http``).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from typing import NamedTuple, Optional

from azure_core_tracing.factory import ERROR_TYPE

OPT_IN_VARIABLE = "OTEL_SEMCONV_STABILITY_OPT_IN"


class Attribute(enum.Enum):
    """What an HTTP span records, whatever it is called."""

    METHOD = "method"
    URL = "url"
    SERVER_ADDRESS = "server_address"
    SERVER_PORT = "server_port"
    USER_AGENT = "user_agent"
    CLIENT_REQUEST_ID = "client_request_id"
    RESEND_COUNT = "resend_count"
    STATUS_CODE = "status_code"
    SERVICE_REQUEST_ID = "service_request_id"
    ERROR_TYPE = "error_type"


# The table: each attribute's name in the guide's conventions and in OpenTelemetry's stable
# ones (None: that set has no such attribute).
NAMES: dict[Attribute, tuple[Optional[str], Optional[str]]] = {
    Attribute.METHOD: ("http.method", "http.request.method"),
    Attribute.URL: ("http.url", "url.full"),
    Attribute.SERVER_ADDRESS: (None, "server.address"),
    Attribute.SERVER_PORT: (None, "server.port"),
    Attribute.USER_AGENT: ("http.user_agent", "user_agent.original"),
    Attribute.CLIENT_REQUEST_ID: ("requestId", "az.client_request_id"),
    Attribute.RESEND_COUNT: (None, "http.request.resend_count"),
    Attribute.STATUS_CODE: ("http.status_code", "http.response.status_code"),
    Attribute.SERVICE_REQUEST_ID: ("serviceRequestId", "az.service_request_id"),
    Attribute.ERROR_TYPE: (None, ERROR_TYPE),
}


class Convention(enum.Enum):
    """Which names HTTP spans use."""

    DEFAULT = "default"  # the tracing guide's names
    STABLE = "http"  # OpenTelemetry's stable HTTP names only
    DUPLICATE = "http/dup"  # both

    def table(self) -> AttributeNames:
        """Every attribute's names in this convention, as fields (read on every try)."""
        return _TABLES[self]

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> Convention:
        """The convention ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for (unknown values ignored)."""
        value = (os.environ if environ is None else environ).get(OPT_IN_VARIABLE, "")
        tokens = {token.strip() for token in value.split(",")}
        if "http/dup" in tokens:
            return cls.DUPLICATE
        if "http" in tokens:
            return cls.STABLE
        return cls.DEFAULT


def _names(convention: Convention, attribute: Attribute) -> tuple[str, ...]:
    legacy, stable = NAMES[attribute]
    chosen = {
        Convention.DEFAULT: (legacy,),
        Convention.STABLE: (stable,),
        Convention.DUPLICATE: (legacy, stable),
    }[convention]
    return tuple(name for name in chosen if name is not None)


class AttributeNames(NamedTuple):
    """The names of each ``Attribute`` in one convention, one field per attribute."""

    method: tuple[str, ...]
    url: tuple[str, ...]
    server_address: tuple[str, ...]
    server_port: tuple[str, ...]
    user_agent: tuple[str, ...]
    client_request_id: tuple[str, ...]
    resend_count: tuple[str, ...]
    status_code: tuple[str, ...]
    service_request_id: tuple[str, ...]
    error_type: tuple[str, ...]


_TABLES = {
    convention: AttributeNames(
        **{attribute.value: _names(convention, attribute) for attribute in Attribute}
    )
    for convention in Convention
}

KEY_ATTRIBUTES = tuple(
    name
    for attribute in (
        Attribute.STATUS_CODE,
        Attribute.URL,
        Attribute.SERVICE_REQUEST_ID,
        Attribute.ERROR_TYPE,
    )
    for name in NAMES[attribute]
    if name is not None
)
"""The HTTP attributes a person reading a span tree wants, under every convention's names."""
