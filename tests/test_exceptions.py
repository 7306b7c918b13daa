"""The error model: ``HttpResponseError`` read from real responses of every error body format,
``map_error``, the API span of a call that raises, and what the messages never show."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from typing import Literal, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azure_core_tracing import ClientOptions, Context, SpanStatus, TracingContextFactory
from azure_core_tracing.decorator import distributed_trace
from azure_core_tracing.exceptions import (
    MAX_ERROR_CODE,
    MAX_ERROR_MESSAGE,
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ResourceNotModifiedError,
    ServiceRequestError,
    map_error,
)
from azure_core_tracing.http import AsyncHttpPipeline, HttpPipeline, RawResponse, Request
from tests.local_server import LocalServer, Reply
from tests.recording import RecordingTracerProvider

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
SECRET = "s3cr3t-value"

ERROR_MAP: dict[int, type[HttpResponseError]] = {
    304: ResourceNotModifiedError,
    401: ClientAuthenticationError,
    403: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    412: ResourceModifiedError,
}


class _Client:
    """An SDK author's client: ``map_error``, then ``HttpResponseError`` for any other failure."""

    def __init__(self, options: Optional[ClientOptions] = None) -> None:
        options = options or ClientOptions()
        options.retry.max_retries = 0
        self._tracing_factory = TracingContextFactory(options, "Contoso.Widgets", "1.0.0")
        self.sync = HttpPipeline(options, tracing_factory=self._tracing_factory)
        self.aio = AsyncHttpPipeline(options, tracing_factory=self._tracing_factory)

    @distributed_trace
    def get(self, request: Request, *, context: Optional[Context] = None) -> RawResponse:
        response = self.sync.send(request, context)
        return _checked(response)

    @distributed_trace
    async def get_async(
        self, request: Request, *, context: Optional[Context] = None
    ) -> RawResponse:
        response = await self.aio.send(request, context)
        if not request.stream:
            await response.read()
        return _checked(response)


def _checked(response: RawResponse) -> RawResponse:
    map_error(response.status_code, response, ERROR_MAP)
    if response.status_code >= 400:
        raise HttpResponseError(response=response)
    return response


def _raised(kind: Kind, request: Request) -> HttpResponseError:
    client = _Client()
    try:
        if kind == "sync":
            client.get(request)
        else:
            asyncio.run(_async_get(client, request))
    except HttpResponseError as error:
        return error
    finally:
        client.sync.close()
    raise AssertionError("no HttpResponseError")


async def _async_get(client: _Client, request: Request) -> None:
    try:
        await client.get_async(request)
    finally:
        await client.aio.close()


def _secret_free(error: BaseException) -> None:
    for text in (str(error), repr(error), repr(error.args)):
        assert SECRET not in text, text


STORAGE_XML = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>ContainerNotFound</Code>'
    b"<Message>The specified container does not exist.\nRequestId:7d1f</Message>"
    b"<AuthenticationErrorDetail>" + SECRET.encode() + b"</AuthenticationErrorDetail></Error>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<Error><Code>&lol2;</Code><Message>&lol2;</Message></Error>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<Error><Code>&x;</Code></Error>"
)

# (status, headers, body, expected type, error_code, message)
CASES = {
    "header-code-and-xml": (
        404,
        {"x-ms-error-code": "ContainerNotFound"},
        STORAGE_XML,
        ResourceNotFoundError,
        "ContainerNotFound",
        "(ContainerNotFound) The specified container does not exist.\\nRequestId:7d1f. "
        "Status: 404 (Not Found)",
    ),
    "header-code-only": (
        409,
        {"x-ms-error-code": "WidgetExists"},
        b"",
        ResourceExistsError,
        "WidgetExists",
        "(WidgetExists) Status: 409 (Conflict)",
    ),
    "json": (
        409,
        {"Content-Type": "application/json"},
        json.dumps(
            {"error": {"code": "Conflict", "message": "Widget w1 exists.", "key": SECRET}},
        ).encode(),
        ResourceExistsError,
        "Conflict",
        "(Conflict) Widget w1 exists. Status: 409 (Conflict)",
    ),
    "xml": (
        412,
        {"Content-Type": "application/xml"},
        STORAGE_XML.replace(b"ContainerNotFound", b"ConditionNotMet"),
        ResourceModifiedError,
        "ConditionNotMet",
        "(ConditionNotMet) The specified container does not exist.\\nRequestId:7d1f. "
        "Status: 412 (Precondition Failed)",
    ),
    "none": (
        500,
        {},
        b"",
        HttpResponseError,
        None,
        "Operation returned an invalid status. Status: 500 (Internal Server Error)",
    ),
    "malformed-json": (
        401,
        {"Content-Type": "application/json"},
        b'{"error": {"code": "Unauth' + SECRET.encode(),
        ClientAuthenticationError,
        None,
        "Operation returned an invalid status. Status: 401 (Unauthorized)",
    ),
    "huge": (
        403,
        {},
        json.dumps({"error": {"code": "Big", "message": "m"}, "pad": "x" * 70_000}).encode(),
        ClientAuthenticationError,
        None,
        "Operation returned an invalid status. Status: 403 (Forbidden)",
    ),
    "billion-laughs": (
        400,
        {},
        BILLION_LAUGHS,
        HttpResponseError,
        None,
        "Operation returned an invalid status. Status: 400 (Bad Request)",
    ),
    "external-entity": (
        400,
        {},
        EXTERNAL_ENTITY,
        HttpResponseError,
        None,
        "Operation returned an invalid status. Status: 400 (Bad Request)",
    ),
    "deeply-nested-json": (
        400,
        {"x-ms-error-code": "Deep"},
        b'{"error": ' + b"[" * 60_000,
        HttpResponseError,
        "Deep",
        "(Deep) Status: 400 (Bad Request)",
    ),
    # An encoding Python does not know, or a codec that is no text encoding: LookupError
    # inside expat, which must not escape the error's construction.
    "xml-unknown-encoding": (
        400,
        {"x-ms-error-code": "Odd"},
        b'<?xml version="1.0" encoding="x-no-such"?><Error><Code>X</Code></Error>',
        HttpResponseError,
        "Odd",
        "(Odd) Status: 400 (Bad Request)",
    ),
    "xml-binary-codec": (
        400,
        {},
        b'<?xml version="1.0" encoding="zlib"?><Error><Code>X</Code></Error>',
        HttpResponseError,
        None,
        "Operation returned an invalid status. Status: 400 (Bad Request)",
    ),
    "not-modified": (
        304,
        {},
        b"",
        ResourceNotModifiedError,
        None,
        "Operation returned an invalid status. Status: 304 (Not Modified)",
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES)
def test_the_error_is_read_from_every_body_format_in_both_pipelines(
    server: LocalServer, kind: Kind, case: str
) -> None:
    status, headers, body, expected, code, message = CASES[case]
    url = server.script(f"/{case}/{kind}", Reply(status, headers, body))
    request = Request("GET", f"{url}?sig={SECRET}", {"Authorization": f"Bearer {SECRET}"})
    error = _raised(kind, request)
    assert type(error) is expected
    assert isinstance(error, AzureError)
    assert error.status_code == status and error.error_code == code
    assert error.message == message == str(error)
    assert error.response is not None and error.response.status_code == status
    _secret_free(error)


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_the_caller_has_not_read_is_not_read(server: LocalServer, kind: Kind) -> None:
    """Only headers are read from a streamed response: its body is still the caller's."""
    body = json.dumps({"error": {"code": "InBody", "message": "unread"}}).encode()
    url = server.script("/stream", Reply(404, {"x-ms-error-code": "InHeader"}, body))
    request = Request("GET", url, stream=True)
    options = ClientOptions()
    if kind == "sync":
        with HttpPipeline(options, "azure-test", "1.0") as pipeline:
            response = pipeline.send(request)
            error = HttpResponseError(response=response)
            read = response.body
    else:

        async def main() -> tuple[HttpResponseError, bytes]:
            async with AsyncHttpPipeline(options, "azure-test", "1.0") as pipeline:
                response = await pipeline.send(request)
                return HttpResponseError(response=response), await response.read()

        error, read = asyncio.run(main())
    assert error.error_code == "InHeader" and "unread" not in error.message
    assert read == body


@pytest.mark.parametrize("kind", KINDS)
def test_the_api_span_of_a_call_that_raises_records_error_type(
    server: LocalServer, app_recorder: RecordingTracerProvider, kind: Kind
) -> None:
    url = server.script(f"/span/{kind}", Reply(404, {"x-ms-error-code": "NotThere"}, b""))
    error = _raised(kind, Request("GET", url))
    (api,) = [span for span in app_recorder.finished if span.name.startswith("_Client.get")]
    assert api.attributes["error.type"] == "azure_core_tracing.exceptions.ResourceNotFoundError"
    assert api.status is SpanStatus.ERROR
    assert [event.exception for event in api.events] == [error]
    (http_span,) = [span for span in app_recorder.finished if span.name.startswith("HTTP")]
    assert "error.type" not in http_span.attributes  # the default convention has none


def test_map_error_raises_only_for_a_mapped_status() -> None:
    response = RawResponse(404, "Not Found", {"x-ms-error-code": "Gone"})
    map_error(404, response, None)
    map_error(404, response, {})
    map_error(500, response, ERROR_MAP)
    with pytest.raises(ResourceNotFoundError) as raised:
        map_error(404, response, ERROR_MAP)
    assert raised.value.response is response and raised.value.error_code == "Gone"


def test_the_credential_policies_shapes_hold() -> None:
    """``ClientAuthenticationError(message, error=original)`` and ``ServiceRequestError(message)``,
    as the credential policies raise them."""
    original = ValueError("the credential failed")
    error = ClientAuthenticationError("could not get a token", error=original)
    assert str(error) == error.message == "could not get a token"
    assert error.inner_exception is original and error.status_code is None
    assert str(ServiceRequestError("bearer tokens need https")) == "bearer tokens need https"


def test_a_message_given_is_kept_and_an_error_code_given_wins() -> None:
    response = RawResponse(409, "Conflict", {"x-ms-error-code": "FromHeader"})
    error = HttpResponseError("the widget exists", response, error_code="Given")
    assert str(error) == "the widget exists" and error.error_code == "Given"
    assert HttpResponseError().status_code is None


def _forbidden(char: str) -> bool:
    return unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp")


_TEXT = st.text(max_size=3000)
_BODIES = st.one_of(
    st.binary(max_size=3000),
    st.builds(
        lambda code, message: json.dumps({"error": {"code": code, "message": message}}).encode(),
        _TEXT,
        _TEXT,
    ),
    st.builds(
        lambda code, message: (
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode(
                "utf-8", "surrogatepass"
            )
        ),
        _TEXT,
        _TEXT,
    ),
)
_LATIN1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=300)


@given(
    body=_BODIES,
    code=st.one_of(st.none(), _LATIN1),
    reason=_LATIN1,
    status=st.integers(100, 999),
)
def test_any_body_gives_the_intended_error_with_a_bounded_clean_message(
    body: bytes, code: Optional[str], reason: str, status: int
) -> None:
    headers = {} if code is None else {"x-ms-error-code": code}
    response = RawResponse(status, reason, headers, body)
    intended = ERROR_MAP.get(status, HttpResponseError if status >= 400 else None)
    try:
        _checked(response)
    except HttpResponseError as raised:
        assert type(raised) is intended
    else:
        assert intended is None
    error = HttpResponseError(response=response)
    limit = 2 * (MAX_ERROR_CODE + 1) + MAX_ERROR_MESSAGE + 1 + 64
    assert len(error.message) <= limit
    assert not any(_forbidden(char) for char in error.message), repr(error.message)
    assert error.error_code is None or len(error.error_code) <= MAX_ERROR_CODE + 1
    assert error.status_code == status
