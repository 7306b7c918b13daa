"""What a policy may ask about the request it sees: is it a redirect hop, and did the call
cross to another origin? The redirect policy writes it in the hop's ``Context``; any policy
reads it through here (``is_cross_origin_hop`` is the public way), never through the redirect
policy."""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context

_HOP_KEY = object()  # context key: (hop number, crossed origins), absent on the first request
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin(url: str) -> Optional[Origin]:
    """The scheme, host and port of ``url`` (lower-case; the default port filled in); None
    when its authority cannot be read."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    return scheme, host.lower().rstrip("."), port or _DEFAULT_PORTS.get(scheme, 0)


def with_redirect_hop(context: Context, number: int, cross_origin: bool) -> Context:
    """A child of ``context`` for redirect hop ``number`` (1 for the first redirect)."""
    return context.with_value(_HOP_KEY, (number, cross_origin))


def redirect_hop(context: Context) -> int:
    """Which redirect hop the request is: 0 for the call's first request, then 1, 2, ..."""
    hop: Optional[tuple[int, bool]] = context.get_value(_HOP_KEY)
    return 0 if hop is None else hop[0]


def is_cross_origin_hop(context: Context) -> bool:
    """Whether the request is a redirect hop of a call that has left its first request's
    origin (scheme, host or port): such a request must carry no credential. Once a call has
    crossed origins, its later hops answer True, even one that comes back."""
    if not isinstance(context, Context):
        raise TypeError(f"context must be an azure_core_tracing.Context, got {type_name(context)}")
    hop: Optional[tuple[int, bool]] = context.get_value(_HOP_KEY)
    return hop is not None and hop[1]
