"""The errors a service client raises, in azure-core's shapes: ``AzureError`` is the root of
every service and transport error, with the original failure as ``inner_exception``.

Bad arguments stay ``TypeError`` and ``ValueError``, and ``OperationCancelledError`` (in
``context``) stays as it is.

A transport raises ``ServiceRequestError`` (the request never reached the service) or
``ServiceResponseError`` (it was sent, then reading the response failed), or their timeout
subclasses. ``TransportError``, ``TransportConnectionError`` and ``TransportTimeoutError`` are
the names of the release before, kept for one release: ``TransportError`` is the base of both,
``TransportConnectionError`` (a ``ConnectionError``) the base of ``ServiceRequestError``, and
``TransportTimeoutError`` (a ``TimeoutError``) the base of both timeouts.

``HttpResponseError`` reads the service's error code and message from the response without
ever reading a stream the caller has not read, and shows nothing else of it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional
from xml.parsers import expat

if TYPE_CHECKING:
    from azure_core_tracing.http.response import RawResponse

ERROR_CODE_HEADER = "x-ms-error-code"
MAX_ERROR_BODY = 64 * 1024
"""A body longer than this many bytes is not parsed for the service's code and message."""
MAX_ERROR_CODE = 128
MAX_ERROR_MESSAGE = 1024
"""How many characters of the service's code and message an ``HttpResponseError`` shows."""


class AzureError(Exception):
    """The base of every service and transport error; ``message`` is its text, and
    ``inner_exception`` the failure it stands for (the ``error`` keyword), if any."""

    def __init__(self, message: object = None, *args: Any, **kwargs: Any) -> None:
        self.inner_exception: Optional[BaseException] = kwargs.get("error")
        self.message = "" if message is None else str(message)
        super().__init__(self.message, *args)


class TransportError(AzureError):
    """Deprecated name (one release): the base of ``ServiceRequestError`` and
    ``ServiceResponseError``, so ``except TransportError`` still catches every transport
    failure."""


class TransportConnectionError(TransportError, ConnectionError):
    """Deprecated name (one release): the base of ``ServiceRequestError``."""


class TransportTimeoutError(TransportError, TimeoutError):
    """Deprecated name (one release): the base of both timeout errors."""


class ServiceRequestError(TransportConnectionError):
    """The request never reached the service: connecting, resolving the name, TLS or the
    proxy failed."""


class HttpsRequiredError(ServiceRequestError):
    """The request was refused before it was sent: it would carry a credential over plain
    http. No retry changes that, so the retry policy never retries it."""


class ServiceRequestTimeoutError(ServiceRequestError, TransportTimeoutError):
    """Connecting to the service took longer than the timeout."""


class ServiceResponseError(TransportError):
    """The request was sent (or may have been), then reading the response failed: the
    connection was lost, or the body could not be decoded."""


class ServiceResponseTimeoutError(ServiceResponseError, TransportTimeoutError):
    """Waiting for or reading the response took longer than the timeout (or the context's
    deadline, when the transport cannot tell which phase it ended)."""


class HttpResponseError(AzureError):
    """The service answered with a status the call does not take as success.

    ``status_code``, ``reason`` and ``response`` are the response's; ``error_code`` is the
    service's code, from the ``x-ms-error-code`` header, else a JSON body
    ``{"error": {"code", "message"}}``, else an XML body ``<Error><Code/><Message/></Error>``.
    Without a ``message``, the message is ``"(Code) Service message. Status: 404 (Not Found)"``.
    """

    def __init__(
        self, message: object = None, response: Optional[Any] = None, **kwargs: Any
    ) -> None:
        self.response = response
        status = getattr(response, "status_code", None)
        self.status_code: Optional[int] = status if isinstance(status, int) else None
        reason = getattr(response, "reason", None)
        self.reason: Optional[str] = _clean(reason, MAX_ERROR_CODE) if reason else None
        code, service_message = _service_error(response)
        given_code = kwargs.pop("error_code", None)
        self.error_code: Optional[str] = given_code if given_code is not None else code
        if message is None:
            message = _message(self.status_code, self.reason, self.error_code, service_message)
        super().__init__(message, **kwargs)


class ClientAuthenticationError(HttpResponseError):
    """Authentication failed: a 401 or 403 by mapping, or a credential that raised."""


class ResourceNotFoundError(HttpResponseError):
    """The resource does not exist (404)."""


class ResourceExistsError(HttpResponseError):
    """The resource exists already (409)."""


class ResourceModifiedError(HttpResponseError):
    """A precondition on the resource failed (412)."""


class ResourceNotModifiedError(HttpResponseError):
    """The resource was not modified (304)."""


class TooManyRedirectsError(AzureError):
    """The call was redirected more times than ``ClientOptions.redirect.max_redirects``."""


def map_error(
    status_code: int,
    response: Optional[RawResponse],
    error_map: Optional[Mapping[int, type[HttpResponseError]]],
) -> None:
    """Raise ``error_map[status_code](response=response)`` if the map has the status; else
    return (as azure-core's ``map_error``)."""
    if not error_map:
        return
    error_type = error_map.get(status_code)
    if not error_type:
        return
    raise error_type(response=response)


def _service_error(response: object) -> tuple[Optional[str], Optional[str]]:
    """The service's error code and message in ``response``, each cleaned and bounded, or
    None. Only a body already in memory, and at most ``MAX_ERROR_BODY`` bytes of it, is read."""
    code: Optional[str] = None
    headers = getattr(response, "headers", None)
    if isinstance(headers, Mapping):
        header = headers.get(ERROR_CODE_HEADER)
        code = header if isinstance(header, str) and header.strip() else None
    body = getattr(response, "body_in_memory", None)  # never a stream the caller has not read
    body_code: Optional[str] = None
    body_message: Optional[str] = None
    if isinstance(body, bytes) and len(body) <= MAX_ERROR_BODY:
        start = body.lstrip()[:1]
        if start == b"{":
            body_code, body_message = _json_error(body)
        elif start == b"<":
            body_code, body_message = _xml_error(body)
    code = code or body_code
    return (
        _clean(code, MAX_ERROR_CODE) if code else None,
        _clean(body_message, MAX_ERROR_MESSAGE) if body_message else None,
    )


def _message(
    status: Optional[int], reason: Optional[str], code: Optional[str], text: Optional[str]
) -> str:
    """``(Code) The service's message. Status: 404 (Not Found)``, each part if there is one."""
    where = f"Status: {status}" + (f" ({reason})" if reason else "")
    if code is None and text is None:
        return f"Operation returned an invalid status. {where}"
    said = f"({code})" if text is None else f"({code}) {text}" if code else text
    end = "" if text is None or text.endswith((".", "!", "?")) else "."
    return f"{said}{end} {where}"


def _json_error(body: bytes) -> tuple[Optional[str], Optional[str]]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8/16/32, or nested too deep
        return None, None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None
    code, message = error.get("code"), error.get("message")
    return (
        code if isinstance(code, str) else None,
        message if isinstance(message, str) else None,
    )


class _RefusedXmlError(Exception):
    """A document type declaration: refused, so no entity is ever expanded."""


def _refuse(*_: object) -> Any:
    raise _RefusedXmlError


def _xml_error(body: bytes) -> tuple[Optional[str], Optional[str]]:
    """``<Error><Code>`` and ``<Message>`` of an XML body, read by expat (what ElementTree
    uses) with every DOCTYPE refused: no external entity, no entity expansion. A declared
    encoding Python has no text codec for is no error body (expat raises LookupError)."""
    parser = expat.ParserCreate()
    depth = [0]
    root: list[str] = []
    found: dict[str, str] = {}
    text: list[str] = []

    def start(name: str, _attributes: object) -> None:
        depth[0] += 1
        if depth[0] == 1:
            root.append(name)
        text.clear()

    def end(name: str) -> None:
        if depth[0] == 2 and root == ["Error"] and name in ("Code", "Message"):
            found.setdefault(name, "".join(text))
        depth[0] -= 1
        text.clear()

    def characters(data: str) -> None:
        if depth[0] == 2:
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, _RefusedXmlError, ValueError, LookupError, RecursionError):
        return None, None
    return found.get("Code"), found.get("Message")


def _clean(text: str, limit: int) -> str:
    """``text`` with every control, format, surrogate, private or unassigned character and
    every separator but the space written as a Python escape, cut to ``limit`` characters."""
    escaped = "".join(_escaped(char) for char in text[:limit])
    return f"{escaped[:limit]}…" if len(text) > limit or len(escaped) > limit else escaped


def _escaped(char: str) -> str:
    if char == " " or unicodedata.category(char)[0] not in "CZ":
        return char
    return char.encode("unicode_escape").decode("ascii")
