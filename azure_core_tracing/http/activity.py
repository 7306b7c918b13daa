"""``RequestActivityPolicy``: one CLIENT span per try, ``HTTP <METHOD> #<try>``.

``start`` and ``finish`` hold the policy's logic and do no I/O; the span's lifecycle is the
one ``ContextAndSpan`` every traced operation shares, whose activation holds across ``await``.
"""

from __future__ import annotations

from typing import Optional

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context
from azure_core_tracing.factory import ContextAndSpan, TracingContextFactory
from azure_core_tracing.headers import CLIENT_REQUEST_ID, SERVICE_REQUEST_ID, USER_AGENT
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import AsyncNextPolicy, NextPolicy, PipelinePolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.try_number import try_number
from azure_core_tracing.tracing import NOOP_SPAN, AttributeValue, SpanKind, SpanStatus


class RequestActivityPolicy(PipelinePolicy):
    """Traces each try as a CLIENT span and injects its W3C trace context into the request.

    The span comes from the factory in the context (the service method's), else from
    ``factory``; with no tracer provider the request passes through untouched. It must sit
    after the retry policy, so every try gets its own span and ``traceparent``.
    """

    def __init__(self, factory: TracingContextFactory, sanitizer: HttpSanitizer) -> None:
        if not isinstance(factory, TracingContextFactory):
            raise TypeError(f"factory must be a TracingContextFactory, got {type_name(factory)}")
        if not isinstance(sanitizer, HttpSanitizer):
            raise TypeError(f"sanitizer must be an HttpSanitizer, got {type_name(sanitizer)}")
        self._factory = factory
        self._sanitizer = sanitizer

    def start(self, request: Request, context: Context) -> Optional[ContextAndSpan]:
        """The try's span, its trace context already in ``request``; None when untraced."""
        factory = TracingContextFactory.from_context(context) or self._factory
        if not factory.is_tracing_enabled:
            return None
        scope = factory.create_span(
            f"HTTP {request.method} #{max(try_number(context), 0)}",
            context,
            kind=SpanKind.CLIENT,
            attributes=self._request_attributes(request),
            suppress_http_instrumentation=True,
        )
        if scope.span is NOOP_SPAN:
            return None
        scope.span.propagate_to_http_headers(request.headers)
        return scope

    def finish(self, scope: ContextAndSpan, response: RawResponse) -> None:
        """Record the response on the try's span: status code, service request id, ERROR."""
        span = scope.span
        attributes: dict[str, AttributeValue] = {"http.status_code": response.status_code}
        service_request_id = response.headers.get(SERVICE_REQUEST_ID)
        if service_request_id and isinstance(service_request_id, str):  # a transport's, unchecked
            attributes["serviceRequestId"] = service_request_id
        span.add_attributes(attributes)
        if response.status_code >= 400:
            span.set_status(SpanStatus.ERROR)

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        return _ActivityLink(self, next_policy)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        return _AsyncActivityLink(self, next_policy)

    def _request_attributes(self, request: Request) -> dict[str, AttributeValue]:
        attributes: dict[str, AttributeValue] = {
            "http.method": request.method,
            "http.url": self._sanitizer.sanitize_url(request.url),
        }
        user_agent = request.headers.get(USER_AGENT)
        if user_agent:
            attributes["http.user_agent"] = user_agent
        request_id = request.headers.get(CLIENT_REQUEST_ID)
        if request_id:
            attributes["requestId"] = request_id
        return attributes


class _ActivityLink(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RequestActivityPolicy, next_policy: NextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    def send(self, request: Request, context: Context) -> RawResponse:
        scope = self._policy.start(request, context)
        if scope is None:
            return self._next.send(request, context)
        with scope:
            response = self._next.send(request, scope.context)
            self._policy.finish(scope, response)
        return response


class _AsyncActivityLink(AsyncNextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RequestActivityPolicy, next_policy: AsyncNextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    async def send(self, request: Request, context: Context) -> RawResponse:
        scope = self._policy.start(request, context)
        if scope is None:
            return await self._next.send(request, context)
        with scope:  # an activation is a context variable: it holds across the await
            response = await self._next.send(request, scope.context)
            self._policy.finish(scope, response)
        return response
