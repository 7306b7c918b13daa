"""``AzureSasCredentialPolicy``: a shared access signature merged into every try's query, as
azure-core's."""

from __future__ import annotations

import re
from typing import Optional, Protocol
from urllib.parse import unquote

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context
from azure_core_tracing.http.policy import SansIOHttpPolicy
from azure_core_tracing.http.redirect_hop import is_cross_origin_hop, redirect_hop
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse

SIGNATURE_PARAMETER = "sig"
_UNSIGNED_URL = object()  # context key: the request's URL before this policy signed it
_SEPARATORS = re.compile(r"[&;]")


def _name(pair: str) -> str:
    """The name of the query parameter ``pair`` as a server reads it: percent-decoded, in
    lower case (``%73IG=`` is ``sig``)."""
    return unquote(pair.partition("=")[0]).lower()


class SasCredential(Protocol):
    """What the policy reads a signature from: ``AzureSasCredential``, ours or azure-core's."""

    @property
    def signature(self) -> str:
        """The shared access signature."""
        ...


def carries_signature(url: str) -> bool:
    """Whether ``url``'s query already has a ``sig`` parameter (any case or encoding)."""
    query = url.partition("#")[0].partition("?")[2]
    return any(_name(pair) == SIGNATURE_PARAMETER for pair in _SEPARATORS.split(query))


def signature_parameters(signature: str) -> frozenset[str]:
    """The names (lower-case) of the query parameters ``signature`` is made of, and ``sig``."""
    signature = signature[1:] if signature.startswith("?") else signature
    names = {_name(pair) for pair in _SEPARATORS.split(signature)}
    return frozenset(names - {""} | {SIGNATURE_PARAMETER})


def without_parameters(url: str, names: frozenset[str]) -> str:
    """``url`` without the query parameters named in ``names`` (lower-case; any case or
    percent-encoding in the URL); the rest of it as it was."""
    head, hash_, fragment = url.partition("#")
    path, question, query = head.partition("?")
    if not question:
        return url
    kept = [pair for pair in _SEPARATORS.split(query) if pair and _name(pair) not in names]
    return f"{path}{'?' if kept else ''}{'&'.join(kept)}{hash_}{fragment}"


def signed_url(url: str, signature: str) -> str:
    """``url`` with ``signature`` (``a=1&sig=...``, a leading ``?`` dropped) merged into its
    query, before any fragment."""
    signature = signature[1:] if signature.startswith("?") else signature
    if not signature:
        return url
    head, hash_, fragment = url.partition("#")
    if "?" not in head:
        head += "?"
    elif not head.endswith(("?", "&")):
        head += "&"
    return f"{head}{signature}{hash_}{fragment}"


class AzureSasCredentialPolicy(SansIOHttpPolicy):
    """Adds ``credential.signature`` to the query of every try, so a signature rotated with
    ``update`` is sent from the next try on. A URL that already carries a ``sig`` is a
    ``ValueError``: two signatures leave the service to pick one.

    Runs in both pipelines; put it in ``per_retry_policies``. The signature's parameters show
    as ``REDACTED`` in spans and logs unless ``LogOptions.allowed_query_parameters`` names
    them. The URL is restored when the try's response (or error) comes back, so the next try
    is signed afresh. On a redirect hop, the signature's parameters are first taken out of
    the URL (a ``Location`` may echo them); a hop to another origin is then sent unsigned
    (``is_cross_origin_hop``)."""

    def __init__(self, credential: SasCredential) -> None:
        if isinstance(credential, (str, bytes)) or not hasattr(credential, "signature"):
            raise TypeError(
                "credential must be an AzureSasCredential (an object with signature), "
                f"got {type_name(credential)}"
            )
        self._credential = credential

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        url = request.url
        signature = self._credential.signature  # read once: update() may run meanwhile
        if not isinstance(signature, str):  # a credential of another library may return anything
            raise TypeError(f"credential.signature must be a str, got {type_name(signature)}")
        if redirect_hop(context):
            # A Location may echo the signature this policy merged into the last request.
            url = without_parameters(url, signature_parameters(signature))
            if is_cross_origin_hop(context):  # no signature for another origin
                request.url = url
                return None
        if carries_signature(url):
            raise ValueError(
                "url already carries a shared access signature (a 'sig' query parameter): "
                "give the URL without it, or leave AzureSasCredentialPolicy out"
            )
        request.url = signed_url(url, signature)
        return context.with_value(_UNSIGNED_URL, url)

    def on_response(self, request: Request, response: RawResponse, context: Context) -> None:
        self._restore(request, context)

    def on_exception(self, request: Request, error: Exception, context: Context) -> None:
        self._restore(request, context)

    @staticmethod
    def _restore(request: Request, context: Context) -> None:
        unsigned: Optional[str] = context.get_value(_UNSIGNED_URL)
        if unsigned is not None:
            request.url = unsigned
