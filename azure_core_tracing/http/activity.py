"""``RequestActivityPolicy``: one CLIENT span per try, ``HTTP <METHOD> #<try>``."""

from __future__ import annotations

from azure_core_tracing.context import Context
from azure_core_tracing.factory import TracingContextFactory
from azure_core_tracing.headers import CLIENT_REQUEST_ID, SERVICE_REQUEST_ID, USER_AGENT
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.tracing import NOOP_SPAN, AttributeValue, Span, SpanKind, SpanStatus


class RequestActivityPolicy(HttpPolicy):
    """Traces each try as a CLIENT span and injects its W3C trace context into the request.

    The span comes from the factory in the context (the service method's), else from
    ``factory``; with no tracer provider the request passes through untouched. It must sit
    after the retry policy, so every try gets its own span and ``traceparent``.
    """

    def __init__(self, factory: TracingContextFactory, sanitizer: HttpSanitizer) -> None:
        self._factory = factory
        self._sanitizer = sanitizer

    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        factory = TracingContextFactory.from_context(context) or self._factory
        if not factory.is_tracing_enabled:
            return next_policy.send(request, context)
        try_number = max(RetryPolicy.get_retry_count(context), 0)
        scope = factory.create_span(
            f"HTTP {request.method} #{try_number}",
            context,
            kind=SpanKind.CLIENT,
            attributes=self._request_attributes(request),
            suppress_http_instrumentation=True,
        )
        span = scope.span
        if span is NOOP_SPAN:
            return next_policy.send(request, context)
        span.propagate_to_http_headers(request.headers)
        with scope:
            response = next_policy.send(request, scope.context)
            _record_response(span, response)
        return response

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


def _record_response(span: Span, response: RawResponse) -> None:
    attributes: dict[str, AttributeValue] = {"http.status_code": response.status_code}
    service_request_id = response.headers.get(SERVICE_REQUEST_ID)
    if service_request_id and isinstance(service_request_id, str):  # a transport's, unchecked
        attributes["serviceRequestId"] = service_request_id
    span.add_attributes(attributes)
    if response.status_code >= 400:
        span.set_status(SpanStatus.ERROR)
