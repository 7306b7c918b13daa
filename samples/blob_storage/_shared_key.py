"""Shared Key: each try signed with the account's key, as Azure Storage defines it.

The signature is an HMAC-SHA256, keyed with the base64-decoded account key, of the request's
*string to sign*: the method, eleven standard headers, the ``x-ms-*`` headers and the
resource, each canonicalized as the Storage REST documentation ("Authorize with Shared Key")
says. It goes in ``Authorization: SharedKey <account>:<base64 signature>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from email.utils import formatdate
from typing import Optional
from urllib.parse import unquote, urlsplit

from azure_core_tracing import AzureNamedKeyCredential, Context
from azure_core_tracing.http import Request, SansIOHttpPolicy, is_cross_origin_hop

# In this order, one line each (empty when absent) after the method.
SIGNED_HEADERS = (
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-MD5",
    "Content-Type",
    "Date",
    "If-Modified-Since",
    "If-Match",
    "If-None-Match",
    "If-Unmodified-Since",
    "Range",
)
_STORAGE_PREFIX = "x-ms-"


def _content_length(request: Request) -> str:
    """What the transport will send as Content-Length: the header, else the body's length.
    Zero is signed as an empty line (service versions 2015-02-21 and later)."""
    given = request.headers.get("Content-Length")
    if given is None:
        body = request.body
        if body is None:
            return ""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            raise ValueError(
                "a request with a stream body must set Content-Length to be signed with Shared Key"
            )
        given = str(len(body))
    return "" if given == "0" else given


def _canonicalized_headers(request: Request) -> str:
    """Every ``x-ms-`` header as ``name:value\\n``, names lower-cased, sorted by name."""
    found = sorted(
        (name.lower(), value.strip())
        for name, value in request.headers.items()
        if name.lower().startswith(_STORAGE_PREFIX)
    )
    return "".join(f"{name}:{value}\n" for name, value in found)


def _canonicalized_resource(request: Request, account_name: str) -> str:
    """``/<account><path>`` then, sorted by name, ``\\nname:value`` for each query parameter
    (name lower-cased; values percent-decoded, several sorted and joined by commas)."""
    parts = urlsplit(request.url)
    resource = f"/{account_name}{parts.path or '/'}"
    parameters: dict[str, list[str]] = {}
    for pair in parts.query.split("&") if parts.query else ():
        name, _, value = pair.partition("=")
        parameters.setdefault(unquote(name).lower(), []).append(unquote(value.replace("+", "%20")))
    for name in sorted(parameters):
        resource += f"\n{name}:{','.join(sorted(parameters[name]))}"
    return resource


def string_to_sign(request: Request, account_name: str) -> str:
    """The Shared Key string to sign for ``request`` as it is now, for ``account_name``."""
    lines = [request.method]
    for header in SIGNED_HEADERS:
        lines.append(
            _content_length(request)
            if header == "Content-Length"
            else (request.headers.get(header) or "")
        )
    return (
        "\n".join(lines)
        + "\n"
        + _canonicalized_headers(request)
        + _canonicalized_resource(request, account_name)
    )


def sign(account_key: str, text: str) -> str:
    """The base64 HMAC-SHA256 of ``text`` (UTF-8), keyed with the base64 ``account_key``."""
    try:
        key = base64.b64decode(account_key, validate=True)
    except binascii.Error:
        raise ValueError("the account key must be base64, as the portal shows it") from None
    digest = hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class SharedKeyCredentialPolicy(SansIOHttpPolicy):
    """Signs every try with the ``AzureNamedKeyCredential``'s current account name and key
    (so ``update`` takes effect on the next try), with a fresh ``x-ms-date``.

    A per-retry policy: each try starts from the request's original headers, so the
    ``Authorization`` of one try is never signed into the next. A redirect hop to the same
    origin is signed for its own URL; one that crossed to another origin is sent unsigned
    (``is_cross_origin_hop``): the key signs requests for this account only. Runs in both
    pipelines."""

    def __init__(self, credential: AzureNamedKeyCredential) -> None:
        if not hasattr(credential, "named_key"):
            raise TypeError(
                "credential must be an AzureNamedKeyCredential (account name and key), "
                f"got {type(credential).__name__}"
            )
        sign(credential.named_key.key, "")  # a key that is not base64 fails here, not later
        self._credential = credential

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        if is_cross_origin_hop(context):
            return None
        account_name, account_key = self._credential.named_key
        request.headers["x-ms-date"] = formatdate(usegmt=True)
        signature = sign(account_key, string_to_sign(request, account_name))
        request.headers["Authorization"] = f"SharedKey {account_name}:{signature}"
        return None
