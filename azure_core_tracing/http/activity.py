"""``RequestActivityPolicy``: one CLIENT span per try, ``HTTP <METHOD> #<try>``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Optional

from azure_core_tracing.context import Context
from azure_core_tracing.factory import TracingContextFactory
from azure_core_tracing.failures import call_guarded, report_tracing_failure
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy
from azure_core_tracing.http.request_id import CLIENT_REQUEST_ID
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.telemetry import USER_AGENT
from azure_core_tracing.tracing import NOOP_SPAN, AttributeValue, Span, SpanKind, SpanStatus

SERVICE_REQUEST_ID = "x-ms-request-id"


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
        )
        span, provider = scope.span, scope.provider
        if span is NOOP_SPAN:
            return next_policy.send(request, context)
        call_guarded(provider, "propagate", span.propagate_to_http_headers, request.headers)
        activation = _activate(span, provider)
        try:
            response = next_policy.send(request, scope.context)
        except Exception as error:
            call_guarded(provider, "add_event", span.add_event, error)
            raise
        else:
            call_guarded(provider, "add_attribute", _record_response, span, response)
            return response
        finally:
            if activation is not None:
                call_guarded(provider, "deactivate", activation.__exit__, None, None, None)
            call_guarded(provider, "end", span.end)

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
    attributes: dict[str, AttributeValue] = {"http.status_code": int(response.status_code)}
    service_request_id = response.headers.get(SERVICE_REQUEST_ID)
    if service_request_id:
        attributes["serviceRequestId"] = service_request_id
    span.add_attributes(attributes)
    if response.status_code >= 400:
        span.set_status(SpanStatus.ERROR)


def _activate(span: Span, provider: object) -> Optional[AbstractContextManager[None]]:
    try:
        activation = span.activate(suppress_http_instrumentation=True)
        activation.__enter__()
    except Exception as error:
        report_tracing_failure(provider, "activate", error)
        return None
    return activation
