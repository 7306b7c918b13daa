"""``RedirectPolicy``: follows 301, 302, 303, 307 and 308, and never carries a credential to
another origin.

Every decision (follow this response? to where? with which method, body and headers? is it
another origin?) is made by ``Redirects``, which does no I/O; the sync and async runners at
the bottom only send and close. A call with no redirect pays one status lookup.
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urljoin, urlsplit

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context
from azure_core_tracing.exceptions import TooManyRedirectsError
from azure_core_tracing.headers import (
    BODY_HEADER_PREFIX,
    BODY_HEADERS,
    CROSS_ORIGIN_REMOVED_HEADERS,
    LOCATION,
)
from azure_core_tracing.http.policy import AsyncNextPolicy, NextPolicy, PipelinePolicy
from azure_core_tracing.http.redirect_hop import Origin, origin, with_redirect_hop
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.urls import authority_bounds, check_url, may_hide_user_info
from azure_core_tracing.options import RedirectOptions

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def redirect_target(url: str, location: object) -> Optional[str]:
    """The absolute URL a redirect from ``url`` to ``location`` (a ``Location`` value,
    relative or absolute) goes to, without a fragment; None when it is not followed: no
    ``Location``, one that is no http(s) URL, holds user info, or leads from https to http."""
    if not isinstance(location, str):
        return None
    location = str.__str__(location).strip()
    if not location:
        return None
    try:
        target = urljoin(url, location).partition("#")[0]
        target = check_url(target)
    except ValueError:
        return None
    start, end = authority_bounds(target)
    if "@" in target[start:end] or may_hide_user_info(target):
        return None  # a credential in the URL: never sent where a server points
    if urlsplit(target).scheme == "http" and url[:8].lower() == "https://":
        return None  # https → http: the rest of the call would travel in the clear
    return target


def method_after(status: int, method: str) -> str:
    """The method of the redirected request: GET after a 303 (a HEAD stays HEAD) and after a
    301 or 302 to a POST, as browsers and RFC 9110 do; else the same method (a 303 drops the
    body whatever the method; a 307 or 308 always resends method and body)."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET"
    return method


def _drop_body(request: Request) -> None:
    request.body = None
    headers = request.headers
    for name in [name for name in headers if name.lower().startswith(BODY_HEADER_PREFIX)]:
        del headers[name]
    for name in BODY_HEADERS:
        headers.pop(name, None)


class RedirectPolicy(PipelinePolicy):
    """Follows redirects, up to ``options.max_redirects`` (0: none; one more is a
    ``TooManyRedirectsError``); each hop is a new request, through the retry policy and
    every policy below it.

    A hop is built from the request as it reached this policy, never from what per-retry
    policies made of it. A hop to another origin (scheme, host or port), and every hop after
    it, carries none of ``CROSS_ORIGIN_REMOVED_HEADERS``, and the credential policies add
    nothing to it (``is_cross_origin_hop``). A ``Location`` that is missing or not an http(s)
    URL, holds user info or leads from https to http is not followed: the 3xx is returned.
    """

    def __init__(self, options: RedirectOptions) -> None:
        if not isinstance(options, RedirectOptions):
            raise TypeError(f"options must be a RedirectOptions, got {type_name(options)}")
        self.options = options.snapshot()
        self._enabled = self.options.max_redirects > 0

    def begin(self, request: Request, context: Context) -> Redirects:
        """The decisions for the redirects of one call, whose request is ``request``."""
        return Redirects(self.options, request, context)

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        return _RedirectLink(self, next_policy)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        return _AsyncRedirectLink(self, next_policy)


class Redirects:
    """The redirect decisions for one call; it does no I/O, the runner sends and closes."""

    __slots__ = ("_context", "_crossed", "_max", "_origin", "_request", "count")

    def __init__(self, options: RedirectOptions, request: Request, context: Context) -> None:
        self._max = options.max_redirects
        self._request = request  # the last request sent, as it reached the policy
        self._context = context
        self._origin: Optional[Origin] = origin(request.url)
        self._crossed = False
        self.count = 0
        """How many redirects the call has followed."""

    def next_hop(self, response: RawResponse) -> Optional[tuple[Request, Context]]:
        """None: return ``response``. Else the next hop's request and the context to send it
        with. Past the limit, ``TooManyRedirectsError``; a hop that must resend a body that
        cannot be rewound, ``ValueError``."""
        status = response.status_code
        if status not in REDIRECT_STATUSES or not self._max:
            return None
        previous = self._request
        target = redirect_target(previous.url, response.headers.get(LOCATION))
        if target is None:
            return None
        if self.count >= self._max:
            raise TooManyRedirectsError(
                f"the call was redirected {self.count} times, the most "
                f"ClientOptions.redirect.max_redirects ({self._max}) allows, and then once "
                f"more ({status} to {self._shown(target)})"
            )
        self._context.throw_if_cancelled()
        hop = previous.copy()
        hop.url = target
        method = method_after(status, previous.method)
        if status == 303 or method != previous.method:
            hop.method = method
            _drop_body(hop)
        elif not previous.can_resend():
            raise ValueError(
                f"body: the {previous.method} request was redirected ({status} to "
                f"{self._shown(target)}), which sends its body again, but its stream cannot be "
                "rewound; give the Request bytes or a seekable stream to follow redirects"
            )
        else:
            hop.rewind_body()
        self._crossed = self._crossed or origin(target) != self._origin
        if self._crossed:
            headers = hop.headers
            for name in CROSS_ORIGIN_REMOVED_HEADERS:
                headers.pop(name, None)
        self.count += 1
        self._request = hop
        return hop, with_redirect_hop(self._context, self.count, self._crossed)

    def _shown(self, url: str) -> str:
        return HttpSanitizer.from_context(self._context).sanitize_url(url)


# The runners: the same steps, one sending and closing with ``await``, one without.
class _RedirectLink(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RedirectPolicy, next_policy: NextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    def send(self, request: Request, context: Context) -> RawResponse:
        response = self._next.send(request, context)
        if response.status_code not in REDIRECT_STATUSES or not self._policy._enabled:
            return response
        redirects = self._policy.begin(request, context)
        while True:
            try:
                hop = redirects.next_hop(response)
            except BaseException:
                response.close()
                raise
            if hop is None:
                return response
            response.close()
            response = self._next.send(*hop)


class _AsyncRedirectLink(AsyncNextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RedirectPolicy, next_policy: AsyncNextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    async def send(self, request: Request, context: Context) -> RawResponse:
        response = await self._next.send(request, context)
        if response.status_code not in REDIRECT_STATUSES or not self._policy._enabled:
            return response
        redirects = self._policy.begin(request, context)
        while True:
            try:
                hop = redirects.next_hop(response)
            except BaseException:
                await response.aclose()
                raise
            if hop is None:
                return response
            await response.aclose()
            response = await self._next.send(*hop)
