"""Credentials in azure-core's shapes: the token protocols and the key, SAS and named-key
credentials, so that a credential written for azure-core (azure-identity's included) works here
unchanged, without depending on azure-core.

The key credentials hold their secret so that nothing generic shows it: ``repr``, ``str`` and
``format`` write ``REDACTED`` for it, there is no ``__dict__``, and pickling refuses (a pickle
would write the secret out). ``copy.copy`` and ``copy.deepcopy`` give the credential itself:
it is a handle on a secret that is rotated with ``update``, and a copy that stopped seeing the
rotation would send the old key.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, NamedTuple, NoReturn, Optional, Protocol, runtime_checkable

from azure_core_tracing.checks import is_unicode, type_name

__all__ = [
    "AccessToken",
    "AccessTokenLike",
    "AsyncTokenCredential",
    "AzureKeyCredential",
    "AzureNamedKey",
    "AzureNamedKeyCredential",
    "AzureSasCredential",
    "TokenCredential",
]

_HIDDEN = "REDACTED"


class AccessToken(NamedTuple):
    """An OAuth access token, as azure-core's ``AccessToken``: equal to it field by field.

    A plain value, not checked: the code that uses a token checks what a credential returned.
    ``repr`` and ``str`` hide the token."""

    token: str
    """The token string."""
    expires_on: int
    """When the token expires, in Unix time (seconds)."""

    def __repr__(self) -> str:
        return f"AccessToken(token={_HIDDEN}, expires_on={self.expires_on!r})"


class AccessTokenLike(Protocol):
    """What a token credential returns, as a type checker sees it: anything with a read-only
    ``token`` and ``expires_on``. Our ``AccessToken`` and azure-core's (and its
    ``AccessTokenInfo``) are ones, so an azure-identity credential type-checks as a
    ``TokenCredential`` without a cast."""

    @property
    def token(self) -> str:
        """The token string."""
        ...

    @property
    def expires_on(self) -> int:
        """When the token expires, in Unix time (seconds)."""
        ...


@runtime_checkable
class TokenCredential(Protocol):
    """Anything that gives OAuth tokens: azure-core's ``TokenCredential``, so azure-identity's
    credentials (``DefaultAzureCredential`` and the rest) are ones.

    ``isinstance`` checks only that ``get_token`` is there and not None (``runtime_checkable``
    looks at names), so an async credential passes it too: check ``AsyncTokenCredential``
    first."""

    def get_token(
        self,
        *scopes: str,
        claims: Optional[str] = None,
        tenant_id: Optional[str] = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessTokenLike:
        """A token for ``scopes``; ``claims`` are those of a claims challenge, ``tenant_id``
        the tenant to ask, ``enable_cae`` whether to ask for Continuous Access Evaluation."""
        ...


@runtime_checkable
class AsyncTokenCredential(Protocol):
    """The async twin, azure-core's ``AsyncTokenCredential``: ``get_token`` is awaited, and the
    credential is an async context manager with ``close``.

    ``isinstance`` checks names only: a sync credential (with ``__enter__``, not
    ``__aenter__``) is not one, but an object with all four names whose ``get_token`` is a
    plain ``def`` passes it too."""

    async def get_token(
        self,
        *scopes: str,
        claims: Optional[str] = None,
        tenant_id: Optional[str] = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessTokenLike:
        """A token for ``scopes``; the keywords are ``TokenCredential.get_token``'s."""
        ...

    async def close(self) -> None:
        """Release what the credential holds (its HTTP sessions)."""
        ...

    async def __aenter__(self) -> AsyncTokenCredential:
        """Enter: the credential itself."""
        ...

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        """Leave: close the credential."""
        ...


class AzureNamedKey(NamedTuple):
    """A name and its key, read as one value from ``AzureNamedKeyCredential.named_key``, so a
    reader never gets the name of one update with the key of another. ``repr`` hides the key."""

    name: str
    key: str

    def __repr__(self) -> str:
        return f"AzureNamedKey(name={self.name!r}, key={_HIDDEN})"


def _check_text(value: object, argument: str) -> str:
    """``value`` as a plain ``str`` if it is non-empty UTF-8 text with no white space at its ends.

    A str subclass is copied first: its own methods could lie or change later. The errors name
    ``argument`` and never repeat the value."""
    if not isinstance(value, str) or not issubclass(type(value), str):  # __class__ can lie
        raise TypeError(f"{argument} must be a str, got {type_name(value)}")
    text = str.__str__(value)
    if not text:
        raise ValueError(f"{argument} must not be empty")
    if not is_unicode(text):
        raise ValueError(f"{argument} must be UTF-8 text (no lone surrogate)")
    if text.strip() != text:
        raise ValueError(
            f"{argument} must not begin or end with white space (a newline read from a file?)"
        )
    return text


class _SecretHolder:
    """What every key credential shares: no pickling, copies are the credential itself."""

    __slots__ = ("__weakref__",)

    def __copy__(self) -> _SecretHolder:
        return self

    def __deepcopy__(self, memo: object) -> _SecretHolder:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} cannot be pickled: the pickle would hold its secret. "
            "Build the credential from the secret where it is needed"
        )

    def __reduce__(self) -> NoReturn:
        self.__reduce_ex__(0)

    def __getstate__(self) -> NoReturn:
        self.__reduce_ex__(0)


# Each credential keeps its secret in one slot, replaced by one store: a reader on another
# thread sees the old value or the new one, never a mixture, so no lock is needed.


class AzureKeyCredential(_SecretHolder):
    """An API key, as azure-core's ``AzureKeyCredential``; ``update`` rotates it in place and
    a client sees the new key from its next try."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = _check_text(key, "key")

    @property
    def key(self) -> str:
        """The key."""
        return self._key

    def update(self, key: str) -> None:
        """Use ``key`` from now on (the service's key was regenerated)."""
        self._key = _check_text(key, "key")

    def __repr__(self) -> str:
        return f"AzureKeyCredential(key={_HIDDEN})"


class AzureSasCredential(_SecretHolder):
    """A shared access signature, as azure-core's ``AzureSasCredential``; ``update`` rotates it
    in place and a client sees the new one from its next try."""

    __slots__ = ("_signature",)

    def __init__(self, signature: str) -> None:
        self._signature = _check_text(signature, "signature")

    @property
    def signature(self) -> str:
        """The shared access signature."""
        return self._signature

    def update(self, signature: str) -> None:
        """Use ``signature`` from now on."""
        self._signature = _check_text(signature, "signature")

    def __repr__(self) -> str:
        return f"AzureSasCredential(signature={_HIDDEN})"


class AzureNamedKeyCredential(_SecretHolder):
    """A key and the name it goes by, as azure-core's ``AzureNamedKeyCredential``.

    ``update`` replaces both at once: read ``named_key`` once per use, and the name and key
    always belong together. ``repr`` shows the name, never the key."""

    __slots__ = ("_named_key",)

    def __init__(self, name: str, key: str) -> None:
        self._named_key = AzureNamedKey(_check_text(name, "name"), _check_text(key, "key"))

    @property
    def named_key(self) -> AzureNamedKey:
        """The name and the key, as one value."""
        return self._named_key

    def update(self, name: str, key: str) -> None:
        """Use ``name`` and ``key`` from now on; if either is wrong, neither changes."""
        self._named_key = AzureNamedKey(_check_text(name, "name"), _check_text(key, "key"))

    def __repr__(self) -> str:
        return f"AzureNamedKeyCredential(name={self._named_key.name!r}, key={_HIDDEN})"
