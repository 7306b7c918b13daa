"""``BearerTokenCredentialPolicy`` and ``AsyncBearerTokenCredentialPolicy``: an OAuth token
from a credential in every try's ``Authorization`` header, as azure-core's policy does.

Every decision (may this URL carry a token? is the cached token still good? does this 401
carry a claims challenge, and which claims?) is a plain function of this module; the two
policies only call the credential, wait for their lock and send.

- The token is fetched when first needed and reused until it expires within
  ``REFRESH_BEFORE`` seconds; concurrent calls on one client wait on one lock, so they cause
  one ``get_token``.
- A 401 drops the cached token. One carrying a claims challenge (Continuous Access
  Evaluation: ``WWW-Authenticate: Bearer ..., claims="<base64url JSON>"``) gets a token for
  those claims and is sent once more; any other 401, a malformed challenge and a second 401
  are returned to the caller.
- A credential that raises becomes ``ClientAuthenticationError``, whose ``inner_exception``
  (and ``__cause__``) is a redacted copy of what it raised: a credential's message can hold a
  client secret or a token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import math
import re
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any, Optional

from azure_core_tracing.checks import check_bool, check_header, type_name
from azure_core_tracing.context import Context
from azure_core_tracing.credentials import AccessTokenLike, AsyncTokenCredential, TokenCredential
from azure_core_tracing.exceptions import ClientAuthenticationError, HttpsRequiredError
from azure_core_tracing.headers import AUTHORIZATION
from azure_core_tracing.http.error_redaction import redacted_cause
from azure_core_tracing.http.policy import AsyncHttpPolicy, AsyncNextPolicy, HttpPolicy, NextPolicy
from azure_core_tracing.http.redirect_hop import is_cross_origin_hop
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse

REFRESH_BEFORE = 300
"""A cached token is replaced when it expires within this many seconds."""
WWW_AUTHENTICATE = "WWW-Authenticate"

_HTTPS_REQUIRED = (
    "Bearer token authentication is not permitted for non-TLS protected (non-https) URLs: "
    "https is required (enforce_https=False allows http, for a local test server)"
)
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAMETER = re.compile(rf'[\s,]*({_TCHARS})\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*(?=,|$)')
_SCHEME = re.compile(rf"[\s,]*({_TCHARS})(?=\s|,|$)")
_QUOTED_PAIR = re.compile(r"\\(.)")
_MORE = re.compile(r"[^ \t,]")  # something other than separators is left to read

# --- The decisions, shared by both policies -----------------------------------------------------


def check_scopes(scopes: tuple[object, ...]) -> tuple[str, ...]:
    """``scopes`` as plain ``str``: at least one, each non-empty text without white space."""
    if not scopes:
        raise ValueError(
            "scopes: give at least one scope, such as 'https://vault.azure.net/.default'"
        )
    checked = []
    for scope in scopes:
        if not isinstance(scope, str):
            raise TypeError(f"scopes must be str, got {type_name(scope)}")
        text = str.__str__(scope)
        if not text or text.strip() != text or any(c.isspace() for c in text):
            raise ValueError("scopes must be non-empty and hold no white space")
        checked.append(text)
    return tuple(checked)


def check_credential(credential: object, *, asynchronous: bool) -> None:
    """Raise ``TypeError`` naming ``credential`` unless it has a callable ``get_token`` of the
    policy's kind (a sync policy cannot await an ``async def get_token``)."""
    get_token = getattr(credential, "get_token", None)
    wanted = "an AsyncTokenCredential" if asynchronous else "a TokenCredential"
    if isinstance(credential, (str, bytes)) or not callable(get_token):
        raise TypeError(
            f"credential must be {wanted} (an object with get_token), got {type_name(credential)}"
        )
    if not asynchronous and inspect.iscoroutinefunction(get_token):
        raise TypeError(
            "credential: its get_token is a coroutine function: use "
            "AsyncBearerTokenCredentialPolicy in an AsyncHttpPipeline"
        )


def require_https(request: Request, enforce_https: bool) -> None:
    """Raise ``HttpsRequiredError`` (a ``ServiceRequestError`` the retry policy does not
    retry) for a plain-http URL unless ``enforce_https`` is off: a token sent in the clear
    can be read and replayed."""
    if enforce_https and not request.url[:8].lower().startswith("https://"):
        raise HttpsRequiredError(_HTTPS_REQUIRED)


def needs_new_token(token: Optional[AccessTokenLike], now: float) -> bool:
    """Whether ``token`` (None: none yet) expires within ``REFRESH_BEFORE`` seconds of ``now``
    (Unix time, seconds)."""
    return token is None or token.expires_on - now < REFRESH_BEFORE


def parse_challenges(header: str) -> Optional[list[tuple[str, dict[str, str]]]]:
    """The challenges of a ``WWW-Authenticate`` value (RFC 9110 §11.6.1): each scheme,
    lower-cased, with its parameters (names lower-cased, quoted values unquoted); None when
    the value cannot be read, or a challenge names a parameter twice."""
    challenges: list[tuple[str, dict[str, str]]] = []
    position = 0
    while _MORE.search(header, position):  # no copy of the rest: linear in the header
        parameter = _PARAMETER.match(header, position)
        if parameter is not None and challenges:
            name, value = parameter.group(1).lower(), parameter.group(2)
            if value.startswith('"'):
                value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
            parameters = challenges[-1][1]
            if name in parameters:
                return None
            parameters[name] = value
            position = parameter.end()
            continue
        scheme = _SCHEME.match(header, position)
        if scheme is None:
            return None  # a token68 or anything else this reader does not take
        challenges.append((scheme.group(1).lower(), {}))
        position = scheme.end()
    return challenges


def decode_claims(encoded: str) -> Optional[str]:
    """The JSON text of base64url (or base64) ``encoded``, padded or not; None unless it
    decodes to UTF-8 text holding a JSON object."""
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8")
        claims = json.loads(decoded)
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ones
        return None
    return decoded if isinstance(claims, dict) and claims else None


def claims_challenge(headers: Mapping[str, str]) -> Optional[str]:
    """The claims a 401's ``WWW-Authenticate`` asks for (a Continuous Access Evaluation
    challenge), as JSON text; None when there is no readable one, or more than one."""
    header = headers.get(WWW_AUTHENTICATE)
    if not isinstance(header, str):
        return None
    challenges = parse_challenges(header)
    if challenges is None:
        return None
    found = [p["claims"] for scheme, p in challenges if scheme == "bearer" and "claims" in p]
    return decode_claims(found[0]) if len(found) == 1 else None


def credential_failure(credential: object, error: BaseException) -> ClientAuthenticationError:
    """The error for a credential's ``get_token`` that raised ``error``: a fixed message, with
    a redacted copy of ``error`` as ``inner_exception`` and ``__cause__``. Raise it outside
    the ``except`` block, so ``error`` is not kept as ``__context__``."""
    name = type(credential).__name__
    cause = redacted_cause(
        error, f"{name}.get_token failed (the original message can hold a secret)"
    )
    failure = ClientAuthenticationError(
        f"{name}.get_token raised {type(error).__name__}: no token for the request", error=cause
    )
    failure.__cause__ = cause
    return failure


def checked_token(credential: object, returned: object) -> AccessTokenLike:
    """``returned`` if it is a token that can be sent: a non-empty ``token`` that is a clean
    header value and an ``expires_on`` number (not NaN); else ``ClientAuthenticationError`` (which
    never repeats the token)."""
    name = type(credential).__name__
    token = getattr(returned, "token", None)
    expires_on = getattr(returned, "expires_on", None)
    if (
        not isinstance(token, str)
        or not token
        or isinstance(expires_on, bool)
        or not isinstance(expires_on, (int, float))
        or math.isnan(expires_on)  # no comparison with NaN would ever ask for a new token
    ):
        raise ClientAuthenticationError(
            f"{name}.get_token returned {type_name(returned)}, not an AccessToken "
            "(a non-empty str token and an int expires_on)"
        )
    if not _is_header_value(bearer(token)):
        raise ClientAuthenticationError(
            f"{name}.get_token returned a token that cannot be sent in a header "
            "(control characters, non-Latin-1 text or white space at its start)"
        )
    return returned  # type: ignore[return-value]  # checked above: it has both, as read-only


def bearer(token: str) -> str:
    """The ``Authorization`` value for ``token``."""
    return f"Bearer {token}"


def _is_header_value(value: str) -> bool:
    try:
        check_header(AUTHORIZATION, value)
    except ValueError:
        return False
    return True


class _TokenCache:
    """The policy's token and what it was made for; replaced whole, read without a lock."""

    __slots__ = ("enforce_https", "scopes", "token")

    def __init__(self, scopes: tuple[object, ...], enforce_https: object) -> None:
        self.scopes = check_scopes(scopes)
        self.enforce_https = check_bool(enforce_https, "enforce_https")
        self.token: Optional[AccessTokenLike] = None

    def fresh(self) -> Optional[AccessTokenLike]:
        """The cached token if it is good for a while yet."""
        token = self.token
        return None if needs_new_token(token, time.time()) else token

    def forget(self, used: AccessTokenLike) -> None:
        """A 401 answered ``used``: drop it, unless a newer token has replaced it already."""
        if self.token is used:
            self.token = None


# --- The sync policy ----------------------------------------------------------------------------


class BearerTokenCredentialPolicy(HttpPolicy):
    """Authorizes every try with a bearer token from ``credential`` for ``scopes``.

    Put it in ``per_retry_policies``: each try then carries a current token. A plain-http
    URL is an ``HttpsRequiredError`` (a ``ServiceRequestError``, never retried) unless
    ``enforce_https=False``. A redirect hop to another origin gets no token
    (``is_cross_origin_hop``)."""

    def __init__(
        self, credential: TokenCredential, *scopes: str, enforce_https: bool = True
    ) -> None:
        check_credential(credential, asynchronous=False)
        self._cache = _TokenCache(scopes, enforce_https)
        self._credential = credential
        self._lock = threading.Lock()

    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        if is_cross_origin_hop(context):  # no token for another origin
            return next_policy.send(request, context)
        require_https(request, self._cache.enforce_https)
        token = self._token()
        request.headers[AUTHORIZATION] = bearer(token.token)
        response = next_policy.send(request, context)
        if response.status_code != 401:
            return response
        self._cache.forget(token)
        claims = claims_challenge(response.headers)
        if claims is None or not request.can_resend():
            return response
        response.close()
        token = self._cache.token = self._get_token(claims)
        request.rewind_body()
        request.headers[AUTHORIZATION] = bearer(token.token)
        response = next_policy.send(request, context)
        if response.status_code == 401:
            self._cache.forget(token)
        return response

    def _token(self) -> AccessTokenLike:
        token = self._cache.fresh()
        if token is None:
            with self._lock:  # one get_token however many calls need it at once
                token = self._cache.fresh()
                if token is None:
                    token = self._cache.token = self._get_token(None)
        return token

    def _get_token(self, claims: Optional[str]) -> AccessTokenLike:
        keywords: dict[str, Any] = {} if claims is None else {"claims": claims}
        try:
            returned: object = self._credential.get_token(*self._cache.scopes, **keywords)
        except Exception as error:
            failure = credential_failure(self._credential, error)
        else:
            return checked_token(self._credential, returned)
        raise failure  # here, not in the except block: the original is no __context__


# --- The async policy ---------------------------------------------------------------------------


class AsyncBearerTokenCredentialPolicy(AsyncHttpPolicy):
    """The async twin of ``BearerTokenCredentialPolicy``, for an ``AsyncHttpPipeline``: the
    credential's ``get_token`` is awaited, and concurrent tasks wait on one ``asyncio.Lock``."""

    def __init__(
        self, credential: AsyncTokenCredential, *scopes: str, enforce_https: bool = True
    ) -> None:
        check_credential(credential, asynchronous=True)
        self._cache = _TokenCache(scopes, enforce_https)
        self._credential = credential
        # Made on first use in each event loop: an asyncio.Lock belongs to one loop (on Python
        # 3.9 to the one current when it is made), and a client may outlive its first loop.
        self._lock: Optional[tuple[weakref.ref[asyncio.AbstractEventLoop], asyncio.Lock]] = None

    async def send(
        self, request: Request, next_policy: AsyncNextPolicy, context: Context
    ) -> RawResponse:
        if is_cross_origin_hop(context):  # no token for another origin
            return await next_policy.send(request, context)
        require_https(request, self._cache.enforce_https)
        token = await self._token()
        request.headers[AUTHORIZATION] = bearer(token.token)
        response = await next_policy.send(request, context)
        if response.status_code != 401:
            return response
        self._cache.forget(token)
        claims = claims_challenge(response.headers)
        if claims is None or not request.can_resend():
            return response
        await response.aclose()
        token = self._cache.token = await self._get_token(claims)
        request.rewind_body()
        request.headers[AUTHORIZATION] = bearer(token.token)
        response = await next_policy.send(request, context)
        if response.status_code == 401:
            self._cache.forget(token)
        return response

    async def _token(self) -> AccessTokenLike:
        token = self._cache.fresh()
        if token is None:
            async with self._loop_lock():
                token = self._cache.fresh()
                if token is None:
                    token = self._cache.token = await self._get_token(None)
        return token

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0]() is not loop:
            self._lock = (weakref.ref(loop), asyncio.Lock())
        return self._lock[1]

    async def _get_token(self, claims: Optional[str]) -> AccessTokenLike:
        keywords: dict[str, Any] = {} if claims is None else {"claims": claims}
        try:
            returned: object = self._credential.get_token(*self._cache.scopes, **keywords)
            if inspect.isawaitable(returned):
                returned = await returned
        except Exception as error:
            failure = credential_failure(self._credential, error)
        else:
            return checked_token(self._credential, returned)
        raise failure
