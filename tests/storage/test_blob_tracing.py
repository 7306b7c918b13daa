"""The trace of the Blob Storage sample client against the real Azurite, through the real
OpenTelemetry SDK: one API span per call, one HTTP span per try under it, each try sending its
own ``traceparent``, ``serviceRequestId`` the ``x-ms-request-id`` Azurite answered with, and
no secret (the account key, a Shared Key signature, a SAS signature) anywhere in a span.

The recording proxy in front of Azurite (``tests/storage/fault_proxy.py``) says what went
over the wire each way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from azure_core_tracing.exceptions import ResourceNotFoundError
from tests.azurite import ACCOUNT_KEY, ACCOUNT_NAME
from tests.opentelemetry.conftest import Otel
from tests.storage.conftest import Blob, sas_credential, unique_container
from tests.storage.fault_proxy import FaultProxy


def _children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    found = [
        s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]
    return sorted(found, key=lambda s: s.start_time or 0)


def _texts(spans: list[ReadableSpan]) -> Iterator[str]:
    """Every string a span holds: name, attribute values, event attributes, status."""
    for span in spans:
        yield span.name
        yield span.status.description or ""
        for value in (span.attributes or {}).values():
            yield str(value)
        for event in span.events:
            yield event.name
            for value in (event.attributes or {}).values():
                yield str(value)


# Each operation, its method, and its arguments after the container's name.
OPERATIONS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("create_container", "PUT", ()),
    ("upload_blob", "PUT", ("b.txt", b"hello")),
    ("get_blob_properties", "HEAD", ("b.txt",)),
    ("download_blob", "GET", ("b.txt",)),
    ("delete_blob", "DELETE", ("b.txt",)),
    ("delete_container", "DELETE", ()),
]


@pytest.mark.parametrize("credential", ["shared key", "sas"])
def test_each_call_is_an_api_span_over_its_http_span(
    make_blob: Any, proxy: FaultProxy, otel: Otel, kind: str, credential: str
) -> None:
    sas = sas_credential() if credential == "sas" else None
    client: Blob = make_blob(proxy.url(f"/{ACCOUNT_NAME}"), sas)
    name = unique_container()
    for operation, _, arguments in OPERATIONS:
        getattr(client, operation)(name, *arguments)
    spans = otel.spans()
    roots = sorted((s for s in spans if s.parent is None), key=lambda s: s.start_time or 0)
    client_name = "BlobStorageClient" if kind == "sync" else "AsyncBlobStorageClient"
    assert [s.name for s in roots] == [f"{client_name}.{op}" for op, _, _ in OPERATIONS]
    exchanges = proxy.forwarded()
    assert len(exchanges) == len(OPERATIONS)
    for root, (_, method, _), exchange in zip(roots, OPERATIONS, exchanges):
        assert root.kind == SpanKind.INTERNAL
        assert root.status.status_code == StatusCode.OK
        assert (root.attributes or {})["az.namespace"] == "Microsoft.Storage"
        (http,) = _children(spans, root)
        attributes = http.attributes or {}
        assert http.name == f"HTTP {method} #0" and http.kind == SpanKind.CLIENT
        assert attributes["serviceRequestId"] == exchange.response_headers["x-ms-request-id"]
        assert http.context is not None
        assert exchange.request_headers["traceparent"].split("-")[2] == (
            f"{http.context.span_id:016x}"
        )
        assert exchange.request_headers["traceparent"].split("-")[1] == (
            f"{http.context.trace_id:032x}"
        )
    _assert_no_secret(spans, exchanges)


def _assert_no_secret(spans: list[ReadableSpan], exchanges: list[Any]) -> None:
    secrets = {ACCOUNT_KEY, quote(ACCOUNT_KEY, safe="")}
    for exchange in exchanges:
        authorization = exchange.request_headers.get("authorization")
        if authorization:
            secrets.add(authorization.rpartition(":")[2])  # the Shared Key signature
        query = exchange.path.partition("?")[2]
        for pair in query.split("&"):
            if pair.startswith("sig="):
                secrets.add(pair[4:])
    for text in _texts(spans):
        assert "sig=" not in text.replace("sig=REDACTED", "")
        assert "SharedKey" not in text
        for secret in secrets:
            assert secret not in text


def test_the_storage_query_parameters_show_and_the_rest_is_redacted(
    make_blob: Any, proxy: FaultProxy, otel: Otel
) -> None:
    client: Blob = make_blob(proxy.url(f"/{ACCOUNT_NAME}"), sas_credential())
    client.create_container(unique_container())
    (http,) = [s for s in otel.spans() if s.name.startswith("HTTP")]
    url = str((http.attributes or {})["http.url"])
    assert "restype=container" in url
    assert "sig=REDACTED" in url and "sv=REDACTED" in url


def test_a_storage_error_marks_both_spans_and_names_the_error_type(
    blob: Blob, container: str, otel: Otel
) -> None:
    with pytest.raises(ResourceNotFoundError):
        blob.download_blob(container, "missing")
    spans = otel.spans()
    (root,) = [s for s in spans if s.parent is None]
    (http,) = _children(spans, root)
    assert root.status.status_code == StatusCode.ERROR
    assert (root.attributes or {})["error.type"] == (
        "azure_core_tracing.exceptions.ResourceNotFoundError"
    )
    assert [e.name for e in root.events] == ["exception"]
    assert http.status.status_code == StatusCode.ERROR
    assert (http.attributes or {})["http.status_code"] == 404
