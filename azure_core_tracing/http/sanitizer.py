"""``HttpSanitizer``: redacts URLs and headers before they reach telemetry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Optional
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from azure_core_tracing.options import DEFAULT_ALLOWED_HEADERS, DEFAULT_ALLOWED_QUERY_PARAMETERS

REDACTED = "REDACTED"


class HttpSanitizer:
    """Keeps only allow-listed query parameter values and header values; drops URL user info.

    Names match case-insensitively. The fragment of a URL is dropped too.
    """

    __slots__ = ("_headers", "_query")

    def __init__(
        self,
        allowed_query_parameters: Optional[Iterable[str]] = None,
        allowed_headers: Optional[Iterable[str]] = None,
    ) -> None:
        if isinstance(allowed_query_parameters, str) or isinstance(allowed_headers, str):
            raise TypeError("allowed_query_parameters and allowed_headers must be sets of names")
        query = (
            DEFAULT_ALLOWED_QUERY_PARAMETERS
            if allowed_query_parameters is None
            else allowed_query_parameters
        )
        headers = DEFAULT_ALLOWED_HEADERS if allowed_headers is None else allowed_headers
        self._query = frozenset(name.lower() for name in query)
        self._headers = frozenset(name.lower() for name in headers)

    def sanitize_url(self, url: str) -> str:
        """Return ``url`` without user info or fragment, with query values not allowed redacted."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return REDACTED
        netloc = parts.netloc.rpartition("@")[2]
        query = "&".join(self._sanitize_pair(pair) for pair in parts.query.split("&") if pair)
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def sanitize_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return a copy of ``headers`` whose values not allowed are redacted."""
        return {
            name: value if name.lower() in self._headers else REDACTED
            for name, value in headers.items()
        }

    def _sanitize_pair(self, pair: str) -> str:
        name, separator, _ = pair.partition("=")
        if unquote_plus(name).lower() in self._query:
            return pair
        return f"{name}={REDACTED}" if separator else name
