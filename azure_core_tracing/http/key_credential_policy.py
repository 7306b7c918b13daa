"""``AzureKeyCredentialPolicy``: an API key in a header of every try, as azure-core's."""

from __future__ import annotations

from typing import Optional, Protocol

from azure_core_tracing.checks import is_token, type_name
from azure_core_tracing.context import Context
from azure_core_tracing.http.policy import SansIOHttpPolicy
from azure_core_tracing.http.redirect_hop import is_cross_origin_hop
from azure_core_tracing.http.request import Request


class KeyCredential(Protocol):
    """What the policy reads a key from: ``AzureKeyCredential``, ours or azure-core's."""

    @property
    def key(self) -> str:
        """The key."""
        ...


class AzureKeyCredentialPolicy(SansIOHttpPolicy):
    """Sends ``credential.key`` in the header ``name`` (after ``prefix`` and a space, if
    given) on every try, so a key rotated with ``update`` is sent from the next try on.

    Runs in both pipelines; put it in ``per_retry_policies``. The header's value shows as
    ``REDACTED`` in spans and logs unless ``LogOptions.allowed_headers`` names it. A redirect
    hop to another origin carries no such header (``is_cross_origin_hop``)."""

    def __init__(
        self, credential: KeyCredential, name: str, *, prefix: Optional[str] = None
    ) -> None:
        if isinstance(credential, (str, bytes)) or not hasattr(credential, "key"):
            raise TypeError(
                "credential must be an AzureKeyCredential (an object with key), "
                f"got {type_name(credential)}"
            )
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type_name(name)}")
        if not is_token(name):
            raise ValueError(f"name must be an HTTP header name (a token), got {name!r}")
        if prefix is not None:
            if not isinstance(prefix, str):
                raise TypeError(f"prefix must be a str or None, got {type_name(prefix)}")
            if not is_token(prefix):
                raise ValueError(
                    f"prefix must be one word (an HTTP token) such as 'SharedKey', got {prefix!r}"
                )
        self._credential = credential
        self._name = str.__str__(name)
        self._prefix = "" if prefix is None else f"{str.__str__(prefix)} "

    def on_request(self, request: Request, context: Context) -> None:
        if is_cross_origin_hop(context):  # no key for another origin, even one set by hand
            request.headers.pop(self._name, None)
            return
        key = self._credential.key  # a credential of another library may return anything
        if not isinstance(key, str):
            raise TypeError(f"credential.key must be a str, got {type_name(key)}")
        request.headers[self._name] = f"{self._prefix}{key}"
