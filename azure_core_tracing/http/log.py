"""``LogPolicy``: one log line per request and per response, with secrets redacted."""

from __future__ import annotations

import logging
import time
from typing import Optional

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.exceptions import ServiceRequestError, ServiceResponseError
from azure_core_tracing.http.policy import SansIOHttpPolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.try_number import call_try_number

_LOGGER = logging.getLogger("azure_core_tracing.http")
_START_KEY = object()  # context key: perf_counter() when the request was logged
# The errors whose messages the library made, from sanitized parts only.
_OWN_ERRORS = (ServiceRequestError, ServiceResponseError, OperationCancelledError)


class LogPolicy(SansIOHttpPolicy):
    """Logs on ``azure_core_tracing.http``: request and response lines at INFO, headers at DEBUG.

    URLs and headers go through the sanitizer; bodies are never logged. With INFO off,
    nothing is formatted and nothing is timed."""

    def __init__(self, sanitizer: HttpSanitizer) -> None:
        if not isinstance(sanitizer, HttpSanitizer):
            raise TypeError(f"sanitizer must be an HttpSanitizer, got {type_name(sanitizer)}")
        self._sanitizer = sanitizer

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        if not _LOGGER.isEnabledFor(logging.INFO):
            return None
        _LOGGER.info(
            "HTTP request %s %s (try %d)",
            request.method,
            self._sanitizer.sanitize_url(request.url),
            call_try_number(context),
        )
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(
                "HTTP request headers: %s", self._sanitizer.sanitize_headers(request.headers)
            )
        return context.with_value(_START_KEY, time.perf_counter())

    def on_response(self, request: Request, response: RawResponse, context: Context) -> None:
        started = context.get_value(_START_KEY)
        if started is None:
            return
        _LOGGER.info(
            "HTTP response %d %s after %.1f ms (try %d)",
            response.status_code,
            response.reason,
            (time.perf_counter() - started) * 1000.0,
            call_try_number(context),
        )
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(
                "HTTP response headers: %s", self._sanitizer.sanitize_headers(response.headers)
            )

    def on_exception(self, request: Request, error: Exception, context: Context) -> None:
        started = context.get_value(_START_KEY)
        if started is None:
            return
        _LOGGER.info(
            "HTTP request failed after %.1f ms (try %d): %s%s",
            (time.perf_counter() - started) * 1000.0,
            call_try_number(context),
            type(error).__name__,
            # Only the library's own errors have messages known to hold no secret.
            f": {error}" if isinstance(error, _OWN_ERRORS) else "",
        )
