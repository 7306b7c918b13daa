"""``RequestActivityPolicy``: one CLIENT span per try, ``HTTP <METHOD> #<n>``, where ``n``
counts every request of the call (retries, redirect hops, re-sends: ``try_number``).

``start``, ``finish`` and ``failed`` hold the policy's logic and do no I/O; the span's
lifecycle is the one ``ContextAndSpan`` every traced operation shares, whose activation holds
across ``await``. Attribute names come from ``conventions`` (one table for both pipelines).
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from azure_core_tracing.call_options import call_options
from azure_core_tracing.checks import is_unicode, type_name
from azure_core_tracing.context import Context
from azure_core_tracing.factory import ContextAndSpan, TracingContextFactory
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.headers import CLIENT_REQUEST_ID, SERVICE_REQUEST_ID, USER_AGENT
from azure_core_tracing.http.conventions import Convention
from azure_core_tracing.http.policy import AsyncNextPolicy, NextPolicy, PipelinePolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.sanitizer import REDACTED, HttpSanitizer
from azure_core_tracing.http.try_number import next_call_try
from azure_core_tracing.tracing import NOOP_SPAN, AttributeValue, SpanStatus

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RequestActivityPolicy(PipelinePolicy):
    """Traces each try as a CLIENT span and injects its W3C trace context into the request.

    The span comes from the factory in the context (the service method's), else from
    ``factory``; with no tracer provider, or tracing off for the call, the request passes
    through untouched. It must sit after the retry policy, so every try gets its own span and
    ``traceparent``. ``convention`` names the attributes (default: from the environment).
    """

    def __init__(
        self,
        factory: TracingContextFactory,
        sanitizer: HttpSanitizer,
        convention: Optional[Convention] = None,
    ) -> None:
        if not isinstance(factory, TracingContextFactory):
            raise TypeError(f"factory must be a TracingContextFactory, got {type_name(factory)}")
        if not isinstance(sanitizer, HttpSanitizer):
            raise TypeError(f"sanitizer must be an HttpSanitizer, got {type_name(sanitizer)}")
        if convention is not None and not isinstance(convention, Convention):
            raise TypeError(f"convention must be a Convention, got {type_name(convention)}")
        self._factory = factory
        self._sanitizer = sanitizer
        # Header values the spans record go by the client's header rules, as its logs do.
        self._redact_user_agent = not sanitizer.shows_header(USER_AGENT)
        self._redact_request_id = not sanitizer.shows_header(CLIENT_REQUEST_ID)
        self._redact_service_request_id = not sanitizer.shows_header(SERVICE_REQUEST_ID)
        self.convention = convention or Convention.from_environment()

    @property
    def convention(self) -> Convention:
        """The attribute names the spans use."""
        return self._state[0]

    @convention.setter
    def convention(self, convention: Convention) -> None:
        if not isinstance(convention, Convention):
            raise TypeError(f"convention must be a Convention, got {type_name(convention)}")
        # One tuple, replaced whole: a try in flight on another thread reads one or the other.
        self._state = (convention, convention.table())

    def start(self, request: Request, context: Context) -> Optional[ContextAndSpan]:
        """The try's span, its trace context already in ``request``; None when untraced."""
        attempt = self._begin(request, context)
        return None if attempt is None else attempt[0]

    def _begin(
        self, request: Request, context: Context
    ) -> Optional[tuple[ContextAndSpan, list[tuple[str, Optional[str]]]]]:
        """``start``, and what propagation changed in the request's headers: the link puts
        them back once the try is sent, so a request a policy sends again gets fresh trace
        headers, never a stale copy of the last try's."""
        number = next_call_try(context)  # counted traced or not: the log lines use it too
        factory = TracingContextFactory.from_context(context) or self._factory
        if not factory.is_tracing_enabled:
            return None
        scope = factory.create_http_span(
            f"HTTP {request.method} #{number}",
            context,
            attributes=self._request_attributes(request, number),
        )
        if scope.span is NOOP_SPAN:
            return None
        span = scope.span
        if isinstance(span, GuardedSpan):  # what the factory makes: it says what it changed
            return scope, span.propagate_into(request.headers)
        span.propagate_to_http_headers(request.headers)  # a span from elsewhere: not undone
        return scope, []

    def finish(self, scope: ContextAndSpan, response: RawResponse) -> None:
        """Record the response on the try's span: status code, service request id, and ERROR
        (with ``error.type``) for 400 and above unless the call expects that status."""
        names = self._state[1]
        status = response.status_code
        attributes: dict[str, AttributeValue] = dict.fromkeys(names.status_code, status)
        service_request_id = _server_text(response.headers.get(SERVICE_REQUEST_ID))
        if service_request_id:
            if self._redact_service_request_id:
                service_request_id = REDACTED
            _put(attributes, names.service_request_id, service_request_id)
        failed = status >= 400 and status not in call_options(scope.context).expected_status_codes
        if failed:
            _put(attributes, names.error_type, str(status))
        scope.span.add_attributes(attributes)
        if failed:
            scope.span.set_status(SpanStatus.ERROR)

    def failed(self, scope: ContextAndSpan, error: BaseException) -> None:
        """Record what the try raised as ``error.type`` (the exception itself is recorded by
        the span's lifecycle)."""
        if isinstance(error, Exception):
            kind = type(error)
            scope.span.add_attributes(
                dict.fromkeys(self._state[1].error_type, f"{kind.__module__}.{kind.__qualname__}")
            )

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        return _ActivityLink(self, next_policy)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        return _AsyncActivityLink(self, next_policy)

    def _request_attributes(self, request: Request, number: int) -> dict[str, AttributeValue]:
        convention, names = self._state
        url = self._sanitizer.sanitize_url(request.url)
        attributes: dict[str, AttributeValue] = dict.fromkeys(names.method, request.method)
        for name in names.url:
            attributes[name] = url
        if convention is not Convention.DEFAULT:
            # From the sanitized URL: where it redacts the host, the host is not shown either.
            parts = urlsplit(url)
            host = REDACTED if parts.netloc == REDACTED else parts.hostname or ""
            _put(attributes, names.server_address, host)
            _put(attributes, names.server_port, parts.port or _DEFAULT_PORTS.get(parts.scheme, 0))
            if number > 0:
                _put(attributes, names.resend_count, number)
        headers = request.headers
        user_agent = headers.get(USER_AGENT)
        if user_agent:
            if self._redact_user_agent:
                user_agent = REDACTED
            for name in names.user_agent:
                attributes[name] = user_agent
        request_id = headers.get(CLIENT_REQUEST_ID)
        if request_id:
            if self._redact_request_id:
                request_id = REDACTED
            for name in names.client_request_id:
                attributes[name] = request_id
        return attributes


def _put(
    attributes: dict[str, AttributeValue], names: tuple[str, ...], value: AttributeValue
) -> None:
    for name in names:
        attributes[name] = value


def _server_text(value: object) -> Optional[str]:
    """A server's header value as text a span can hold: it comes unchecked, from a server
    and a transport, so what cannot be written as UTF-8 is escaped, never raised over."""
    if not isinstance(value, str):
        return None
    text = str.__str__(value)
    return text if is_unicode(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _put_back(request: Request, changes: list[tuple[str, Optional[str]]]) -> None:
    """Undo ``changes`` (from ``GuardedSpan.propagate_into``) to the request's headers."""
    headers = request.headers
    for name, previous in reversed(changes):
        if previous is not None:
            headers[name] = previous
        else:
            try:  # noqa: SIM105 - contextlib.suppress costs three calls on every try
                del headers[name]
            except KeyError:  # a later policy took it out already
                pass


class _ActivityLink(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RequestActivityPolicy, next_policy: NextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    def send(self, request: Request, context: Context) -> RawResponse:
        attempt = self._policy._begin(request, context)
        if attempt is None:
            return self._next.send(request, context)
        scope, changes = attempt
        try:
            with scope:
                try:
                    response = self._next.send(request, scope.context)
                except BaseException as error:
                    self._policy.failed(scope, error)
                    raise
                self._policy.finish(scope, response)
        finally:
            _put_back(request, changes)
        return response


class _AsyncActivityLink(AsyncNextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RequestActivityPolicy, next_policy: AsyncNextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    async def send(self, request: Request, context: Context) -> RawResponse:
        attempt = self._policy._begin(request, context)
        if attempt is None:
            return await self._next.send(request, context)
        scope, changes = attempt
        try:
            with scope:  # an activation is a context variable: it holds across the await
                try:
                    response = await self._next.send(request, scope.context)
                except BaseException as error:
                    self._policy.failed(scope, error)
                    raise
                self._policy.finish(scope, response)
        finally:
            _put_back(request, changes)
        return response
