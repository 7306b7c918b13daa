"""``LogPolicy``: one log line per request and per response, with secrets redacted."""

from __future__ import annotations

import logging
import time

from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.transport import TransportError

_LOGGER = logging.getLogger("azure_core_tracing.http")


class LogPolicy(HttpPolicy):
    """Logs on ``azure_core_tracing.http``: request and response lines at INFO, headers at DEBUG.

    URLs and headers go through the sanitizer; bodies are never logged."""

    def __init__(self, sanitizer: HttpSanitizer) -> None:
        self._sanitizer = sanitizer

    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        if not _LOGGER.isEnabledFor(logging.INFO):
            return next_policy.send(request, context)
        try_number = max(RetryPolicy.get_retry_count(context), 0)
        _LOGGER.info(
            "HTTP request %s %s (try %d)",
            request.method,
            self._sanitizer.sanitize_url(request.url),
            try_number,
        )
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(
                "HTTP request headers: %s", self._sanitizer.sanitize_headers(request.headers)
            )
        start = time.perf_counter()
        try:
            response = next_policy.send(request, context)
        except Exception as error:
            _LOGGER.info(
                "HTTP request failed after %.1f ms (try %d): %s%s",
                (time.perf_counter() - start) * 1000.0,
                try_number,
                type(error).__name__,
                # Only the library's own errors have messages known to hold no secret.
                f": {error}"
                if isinstance(error, (TransportError, OperationCancelledError))
                else "",
            )
            raise
        _LOGGER.info(
            "HTTP response %d %s after %.1f ms (try %d)",
            response.status_code,
            response.reason,
            (time.perf_counter() - start) * 1000.0,
            try_number,
        )
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug(
                "HTTP response headers: %s", self._sanitizer.sanitize_headers(response.headers)
            )
        return response
