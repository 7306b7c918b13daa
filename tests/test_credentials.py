"""``azure_core_tracing.credentials``: azure-core's credential shapes, with secrets that nothing
generic shows.

What must hold: a credential written for azure-core (an azure-identity one included) is one of
ours and azure-core's policies take ours; ``AccessToken`` and ``AzureNamedKey`` equal
azure-core's field by field; ``update`` is atomic and seen by the next request; a bad argument
is a ``TypeError`` or ``ValueError`` naming it without repeating it; ``repr``, ``str``,
``format``, ``dir``, ``vars``, pickling and copying never give the secret away.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import pickle
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Optional

import pytest
from azure.core import credentials as core
from azure.core import credentials_async as core_async
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.policies import (
    AzureKeyCredentialPolicy,
    AzureSasCredentialPolicy,
    BearerTokenCredentialPolicy,
)
from azure.core.rest import HttpRequest
from hypothesis import given
from hypothesis import strategies as st

import azure_core_tracing
from azure_core_tracing.credentials import (
    AccessToken,
    AccessTokenLike,
    AsyncTokenCredential,
    AzureKeyCredential,
    AzureNamedKey,
    AzureNamedKeyCredential,
    AzureSasCredential,
    TokenCredential,
)
from tests.support import wrong

SECRET = "SECRET-c4f1"
KeyCredential = Any  # one of the three key credentials

# The three key credentials: how to build one holding ``secret``, read it, and update it.
BUILDERS: dict[str, Callable[[str], KeyCredential]] = {
    "AzureKeyCredential": AzureKeyCredential,
    "AzureSasCredential": AzureSasCredential,
    "AzureNamedKeyCredential": lambda secret: AzureNamedKeyCredential("account", secret),
}


def _secret_of(credential: KeyCredential) -> str:
    if isinstance(credential, AzureKeyCredential):
        return credential.key
    if isinstance(credential, AzureSasCredential):
        return credential.signature
    key: str = credential.named_key.key
    return key


def _update(credential: KeyCredential, secret: object) -> None:
    if isinstance(credential, AzureNamedKeyCredential):
        credential.update("account", wrong(secret))
    else:
        credential.update(wrong(secret))


class _AnyInt(int):
    """Equal to every int: an expiry time the test does not fix."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int)

    __hash__ = int.__hash__


ANY_INT = _AnyInt()

# Secrets a credential takes: non-empty UTF-8 text without white space at either end.
secrets = st.text(min_size=1).filter(lambda text: text.strip() == text)


# --- AccessToken and AzureNamedKey: azure-core's values ----------------------------------------


def test_access_token_equals_azure_cores_field_by_field() -> None:
    ours, theirs = AccessToken("tok", 1_700_000_000), core.AccessToken("tok", 1_700_000_000)
    assert AccessToken._fields == core.AccessToken._fields == ("token", "expires_on")
    assert ours == wrong(theirs)
    assert hash(ours) == hash(theirs)
    assert (ours.token, ours.expires_on) == (theirs.token, theirs.expires_on)
    assert AccessToken(*theirs) == wrong(theirs)
    assert AccessToken(token="tok", expires_on=1_700_000_000) == ours
    token, expires_on = ours
    assert (token, expires_on) == ("tok", 1_700_000_000)


def test_access_token_repr_and_str_hide_the_token() -> None:
    token = AccessToken(SECRET, 1_700_000_000)
    for text in (repr(token), str(token), f"{token}", f"{token!r}", repr([token])):
        assert SECRET not in text
        assert "1700000000" in text
    assert repr(token) == "AccessToken(token=REDACTED, expires_on=1700000000)"


def test_named_key_equals_azure_cores_field_by_field_and_hides_the_key() -> None:
    ours, theirs = AzureNamedKey("account", SECRET), core.AzureNamedKey("account", SECRET)
    assert AzureNamedKey._fields == core.AzureNamedKey._fields == ("name", "key")
    assert ours == wrong(theirs)
    assert AzureNamedKeyCredential("account", SECRET).named_key == wrong(theirs)
    for text in (repr(ours), str(ours), f"{ours}"):
        assert SECRET not in text
        assert "'account'" in text


# --- The token protocols -----------------------------------------------------------------------


class IdentityLikeCredential:
    """Shaped as azure-identity's sync credentials (``DefaultAzureCredential``): azure-core's
    ``AccessToken``, ``get_token_info`` too, a sync context manager."""

    def get_token(
        self,
        *scopes: str,
        claims: Optional[str] = None,
        tenant_id: Optional[str] = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> core.AccessToken:
        return core.AccessToken("identity-token", int(time.time()) + 3600)

    def get_token_info(
        self, *scopes: str, options: Optional[core.TokenRequestOptions] = None
    ) -> core.AccessTokenInfo:
        return core.AccessTokenInfo("identity-token", int(time.time()) + 3600)

    def close(self) -> None:
        pass

    def __enter__(self) -> IdentityLikeCredential:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


class AsyncIdentityLikeCredential:
    """Shaped as azure-identity's ``aio`` credentials."""

    async def get_token(
        self,
        *scopes: str,
        claims: Optional[str] = None,
        tenant_id: Optional[str] = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> core.AccessToken:
        return core.AccessToken("identity-token", int(time.time()) + 3600)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncIdentityLikeCredential:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]] = None,
        exc_value: Optional[BaseException] = None,
        traceback: Optional[TracebackType] = None,
    ) -> None:
        await self.close()


class OlderAzureCoreCredential:
    """Written for an azure-core before ``enable_cae``: still a ``TokenCredential`` to a type
    checker (``**kwargs`` takes ``enable_cae``), and returning our ``AccessToken``."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(
        self,
        *scopes: str,
        claims: Optional[str] = None,
        tenant_id: Optional[str] = None,
        **kwargs: Any,
    ) -> AccessToken:
        self.calls.append((scopes, {"claims": claims, "tenant_id": tenant_id, **kwargs}))
        return AccessToken(f"token-{len(self.calls)}", int(time.time()) + 3600)


class AsyncCredentialOfOurs:
    """A minimal async credential returning our ``AccessToken``."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("async-token", int(time.time()) + 3600)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncCredentialOfOurs:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


class NoGetToken:
    def close(self) -> None:
        pass


class GetTokenIsNone:
    get_token = None


class OnlyAsyncGetToken:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("t", 0)


class SyncWithAsyncNames(OlderAzureCoreCredential):
    """The limit of a names-only check: a sync ``get_token`` beside the async names."""

    def close(self) -> None:
        pass

    def __aenter__(self) -> None:
        pass

    def __aexit__(self, *args: object) -> None:
        pass


def test_a_credential_returning_our_access_token_is_one_to_the_type_checker() -> None:
    """mypy --strict checks these assignments: one written for an azure-core without
    ``enable_cae`` is a ``TokenCredential``, and ``**kwargs`` takes ``enable_cae``."""
    credential: TokenCredential = OlderAzureCoreCredential()
    token = credential.get_token("https://x.test/.default", enable_cae=True)
    assert token.token == "token-1"
    async_credential: AsyncTokenCredential = AsyncCredentialOfOurs()
    assert asyncio.run(async_credential.get_token("s")).token == "async-token"


def test_one_returning_azure_cores_access_token_type_checks_without_a_cast() -> None:
    """mypy runs on this file: azure-core's ``AccessToken`` is another class, but the
    protocols return ``AccessTokenLike``, so an azure-identity-shaped credential is a
    ``TokenCredential`` (and its async twin an ``AsyncTokenCredential``) as it is."""
    credential: TokenCredential = IdentityLikeCredential()
    async_credential: AsyncTokenCredential = AsyncIdentityLikeCredential()
    theirs: AccessTokenLike = core.AccessToken("t", 1)
    ours: AccessTokenLike = AccessToken("t", 1)
    info: AccessTokenLike = core.AccessTokenInfo("t", 1)
    assert (theirs.token, ours.expires_on, info.token) == ("t", 1, "t")
    assert isinstance(credential, TokenCredential)
    assert isinstance(async_credential, AsyncTokenCredential)
    assert credential.get_token("s") == AccessToken("identity-token", ANY_INT)


@pytest.mark.parametrize(
    ("credential", "is_sync", "is_async"),
    [
        (IdentityLikeCredential(), True, False),
        (OlderAzureCoreCredential(), True, False),
        (AsyncIdentityLikeCredential(), True, True),  # names only: see the limit below
        (NoGetToken(), False, False),
        (GetTokenIsNone(), False, False),
        (AsyncCredentialOfOurs(), True, True),
        (OnlyAsyncGetToken(), True, False),  # no close / __aenter__ / __aexit__
        (object(), False, False),
        ("a str", False, False),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, bool) else str(value),
)
def test_isinstance_agrees_with_azure_cores_protocols(
    credential: object, is_sync: bool, is_async: bool
) -> None:
    assert isinstance(credential, TokenCredential) is is_sync
    assert isinstance(credential, AsyncTokenCredential) is is_async
    assert isinstance(credential, core.TokenCredential) is is_sync
    assert isinstance(credential, core_async.AsyncTokenCredential) is is_async


def test_isinstance_checks_names_not_whether_get_token_is_async() -> None:
    """The documented limit: an async credential passes the sync check, and a sync
    ``get_token`` beside the async names passes the async one. Awaitability tells them apart."""
    async_credential, impostor = AsyncIdentityLikeCredential(), SyncWithAsyncNames()
    assert isinstance(async_credential, TokenCredential)
    assert isinstance(impostor, AsyncTokenCredential)
    assert inspect.iscoroutinefunction(async_credential.get_token)
    assert not inspect.iscoroutinefunction(impostor.get_token)


def test_a_class_with_get_token_passes_as_well_as_its_instances() -> None:
    """The other limit of names: the class itself has ``get_token``, as for azure-core's."""
    assert isinstance(IdentityLikeCredential, TokenCredential)
    assert isinstance(IdentityLikeCredential, core.TokenCredential)


def test_an_identity_like_credentials_token_is_an_access_token_of_ours() -> None:
    credential = IdentityLikeCredential()
    assert isinstance(credential, TokenCredential)
    token = credential.get_token("https://x.test/.default", claims="c", tenant_id="t")
    assert AccessToken(*token) == wrong(token)  # to mypy, azure-core's is another class
    assert token == wrong(AccessToken(token.token, token.expires_on))

    async def get() -> core.AccessToken:
        async with AsyncIdentityLikeCredential() as async_credential:
            assert isinstance(async_credential, AsyncTokenCredential)
            return await async_credential.get_token("https://x.test/.default")

    assert AccessToken(*asyncio.run(get())) == ("identity-token", ANY_INT)


def _pipeline_request(url: str) -> PipelineRequest[HttpRequest]:
    return PipelineRequest(HttpRequest("GET", url), PipelineContext(None))


def test_azure_cores_bearer_policy_takes_a_credential_returning_our_access_token() -> None:
    credential = OlderAzureCoreCredential()
    policy = BearerTokenCredentialPolicy(wrong(credential), "https://x.test/.default")
    request = _pipeline_request("https://x.test/items")
    policy.on_request(request)
    assert request.http_request.headers["Authorization"] == "Bearer token-1"
    assert credential.calls[0][0] == ("https://x.test/.default",)


# --- Key credentials: azure-core's shapes ------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (AzureKeyCredential, core.AzureKeyCredential),
        (AzureSasCredential, core.AzureSasCredential),
        (AzureNamedKeyCredential, core.AzureNamedKeyCredential),
    ],
)
def test_constructors_and_update_take_azure_cores_parameters(ours: type, theirs: type) -> None:
    for method in ("__init__", "update"):
        ours_parameters = list(inspect.signature(getattr(ours, method)).parameters)
        assert ours_parameters == list(inspect.signature(getattr(theirs, method)).parameters)


def test_key_credentials_read_and_update_by_keyword() -> None:
    key = AzureKeyCredential(key="k1")
    key.update(key="k2")
    assert key.key == "k2"
    sas = AzureSasCredential(signature="sv=1&sig=a")
    sas.update(signature="sv=1&sig=b")
    assert sas.signature == "sv=1&sig=b"
    named = AzureNamedKeyCredential(name="n1", key="k1")
    named.update(name="n2", key="k2")
    assert named.named_key == AzureNamedKey("n2", "k2")
    assert (named.named_key.name, named.named_key.key) == ("n2", "k2")


def test_azure_cores_policies_take_ours_and_see_an_update_on_the_next_request() -> None:
    key = AzureKeyCredential("k1")
    key_policy = AzureKeyCredentialPolicy(wrong(key), "api-key")
    sas = AzureSasCredential("?sig=one")
    sas_policy = AzureSasCredentialPolicy(wrong(sas))
    first, second = _pipeline_request("https://x.test/a"), _pipeline_request("https://x.test/a")
    key_policy.on_request(first)
    sas_policy.on_request(first)
    key.update("k2")
    sas.update("sig=two")
    key_policy.on_request(second)
    sas_policy.on_request(second)
    assert first.http_request.headers["api-key"] == "k1"
    assert first.http_request.url == "https://x.test/a?sig=one"
    assert second.http_request.headers["api-key"] == "k2"
    assert second.http_request.url == "https://x.test/a?sig=two"


# --- Bad arguments -----------------------------------------------------------------------------

BAD_VALUES = [
    (None, TypeError, "must be a str, got NoneType"),
    (1234, TypeError, "must be a str, got int"),
    (b"SECRET-bytes", TypeError, "must be a str, got bytes"),
    (bytearray(b"SECRET-ba"), TypeError, "must be a str, got bytearray"),
    ("", ValueError, "must not be empty"),
    ("   ", ValueError, "white space"),
    ("\n", ValueError, "white space"),
    ("SECRET-nl\n", ValueError, "white space"),
    (" SECRET-sp", ValueError, "white space"),
    ("SECRET-\u3000", ValueError, "white space"),
    ("SECRET-\udc80", ValueError, "no lone surrogate"),
    ("\ud800SECRET", ValueError, "no lone surrogate"),
]

Build = Callable[[object], object]
BAD_CALLS: list[tuple[str, str, Build]] = [
    ("AzureKeyCredential(key)", "key", lambda v: AzureKeyCredential(wrong(v))),
    ("AzureKeyCredential.update", "key", lambda v: AzureKeyCredential("k").update(wrong(v))),
    ("AzureSasCredential(signature)", "signature", lambda v: AzureSasCredential(wrong(v))),
    (
        "AzureSasCredential.update",
        "signature",
        lambda v: AzureSasCredential("s").update(wrong(v)),
    ),
    ("AzureNamedKeyCredential(name)", "name", lambda v: AzureNamedKeyCredential(wrong(v), "k")),
    ("AzureNamedKeyCredential(key)", "key", lambda v: AzureNamedKeyCredential("n", wrong(v))),
    (
        "AzureNamedKeyCredential.update(name)",
        "name",
        lambda v: AzureNamedKeyCredential("n", "k").update(wrong(v), "k2"),
    ),
    (
        "AzureNamedKeyCredential.update(key)",
        "key",
        lambda v: AzureNamedKeyCredential("n", "k").update("n2", wrong(v)),
    ),
]


@pytest.mark.parametrize(("value", "error", "says"), BAD_VALUES, ids=repr)
@pytest.mark.parametrize(("call", "argument", "build"), BAD_CALLS, ids=lambda v: str(v)[:40])
def test_a_bad_value_is_an_error_naming_the_argument_never_the_value(
    call: str, argument: str, build: Build, value: object, error: type[Exception], says: str
) -> None:
    with pytest.raises(error) as raised:
        build(value)
    message = str(raised.value)
    assert type(raised.value) is error
    assert message.startswith(f"{argument} must ")
    assert says in message
    assert "SECRET" not in message
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_refused_update_keeps_the_secret_it_had(name: str) -> None:
    credential = BUILDERS[name]("old-secret")
    for value, error, _ in BAD_VALUES:
        with pytest.raises(error):
            _update(credential, value)
    assert _secret_of(credential) == "old-secret"


def test_a_named_key_update_with_one_bad_half_changes_neither() -> None:
    credential = AzureNamedKeyCredential("n1", "k1")
    with pytest.raises(ValueError, match=r"^key must "):
        credential.update("n2", "")
    with pytest.raises(TypeError, match=r"^name must "):
        credential.update(wrong(None), "k2")
    assert credential.named_key == ("n1", "k1")


class LyingStr(str):
    """A str whose own methods lie about it, and whose value could change later."""

    def __str__(self) -> str:
        return "lie"

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def strip(self, chars: Optional[str] = None) -> str:
        return "lie"

    def isascii(self) -> bool:
        return True

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"lie"

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False


def test_a_str_subclass_is_stored_as_a_plain_copy_of_its_text() -> None:
    key = AzureKeyCredential(LyingStr("real-key"))
    sas = AzureSasCredential("s")
    sas.update(LyingStr("real-sig"))
    named = AzureNamedKeyCredential(LyingStr("real-name"), LyingStr("real-named-key"))
    for value, text in (
        (key.key, "real-key"),
        (sas.signature, "real-sig"),
        (named.named_key.name, "real-name"),
        (named.named_key.key, "real-named-key"),
    ):
        assert type(value) is str
        assert str.__eq__(value, text) is True


def test_a_str_subclass_is_checked_on_its_real_text() -> None:
    for text in ("", " padded ", "lone \udc80"):
        with pytest.raises(ValueError, match=r"^key must "):
            AzureKeyCredential(LyingStr(text))


class ClaimsToBeStr:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return str


def test_an_object_claiming_to_be_a_str_is_a_type_error() -> None:
    impostor = ClaimsToBeStr()
    assert isinstance(impostor, str)
    with pytest.raises(TypeError, match=r"^key must be a str, got ClaimsToBeStr$"):
        AzureKeyCredential(wrong(impostor))


REFUSED_TEXT = {
    "must not be empty",
    "must be UTF-8 text (no lone surrogate)",
    "must not begin or end with white space (a newline read from a file?)",
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@given(text=st.text(st.characters(exclude_categories=())))  # lone surrogates too
def test_any_text_is_kept_exactly_or_refused_with_a_fixed_message(name: str, text: str) -> None:
    credential = BUILDERS[name]("before")
    try:
        _update(credential, text)
    except ValueError as error:
        assert str(error).removeprefix("key ").removeprefix("signature ") in REFUSED_TEXT
        assert _secret_of(credential) == "before"
    else:
        assert _secret_of(credential) == text
        assert text and text.strip() == text
        text.encode("utf-8")


def test_text_inside_a_secret_is_kept_as_it_is() -> None:
    """Only the ends are checked: white space and any other text inside is the caller's."""
    for text in ("a b", "tab\tinside", "é ünïcode 🔑", "?sv=2024&sig=abc%2B"):
        assert AzureKeyCredential(text).key == text


# --- Secrets never shown -----------------------------------------------------------------------


def _shown(credential: KeyCredential) -> list[str]:
    """Everything generic that renders or lists the credential."""
    return [
        repr(credential),
        str(credential),
        f"{credential}",
        format(credential, ""),
        "%s %r" % (credential, credential),  # noqa: UP031
        repr([credential]),
        repr({"credential": credential}),
        " ".join(dir(credential)),
    ]


@pytest.mark.parametrize("name", sorted(BUILDERS))
@given(secret=secrets)
def test_nothing_generic_shows_a_different_secret_differently(name: str, secret: str) -> None:
    """What ``repr``, ``str``, ``format`` and ``dir`` give does not depend on the secret."""
    assert _shown(BUILDERS[name](secret)) == _shown(BUILDERS[name]("x"))


@pytest.mark.parametrize("name", sorted(BUILDERS))
@given(secret=secrets)
def test_the_secret_is_not_in_any_rendering(name: str, secret: str) -> None:
    marked = f"{SECRET}{secret}"
    credential = BUILDERS[name](marked)
    updated = BUILDERS[name]("x")
    _update(updated, marked)
    for shown in (credential, updated):
        assert _secret_of(shown) == marked
        assert not [text for text in _shown(shown) if SECRET in text]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_there_is_no_dict_to_read_the_secret_from(name: str) -> None:
    credential = BUILDERS[name](SECRET)
    with pytest.raises(TypeError):
        vars(credential)
    with pytest.raises(AttributeError):
        credential.__dict__  # noqa: B018
    with pytest.raises(AttributeError):
        credential.other = SECRET  # nothing new can be hung on it either
    with pytest.raises(TypeError) as raised:
        json.dumps({"credential": credential})
    assert SECRET not in str(raised.value)
    assert weakref.ref(credential)() is credential  # weak references work, as azure-core's


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickling_refuses_without_showing_the_secret(name: str, protocol: int) -> None:
    credential = BUILDERS[name](SECRET)
    with pytest.raises(TypeError, match=f"^{name} cannot be pickled") as raised:
        pickle.dumps(credential, protocol)
    assert SECRET not in str(raised.value)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps({"options": [credential]}, protocol)
    for method in ("__reduce__", "__getstate__"):
        with pytest.raises(TypeError, match="cannot be pickled"):
            getattr(credential, method)()
    with pytest.raises(TypeError, match="cannot be pickled"):
        credential.__reduce_ex__(protocol)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_copy_is_the_credential_itself_so_an_update_reaches_every_holder(name: str) -> None:
    credential = BUILDERS[name]("old")
    holder = {"credential": credential, "list": [credential]}
    copied = copy.deepcopy(holder)
    assert copy.copy(credential) is credential
    assert copy.deepcopy(credential) is credential
    assert copied["credential"] is credential
    _update(credential, "new")
    assert _secret_of(copied["list"][0]) == "new"


# --- Updates under threads ---------------------------------------------------------------------


@pytest.fixture
def switch_often() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, so interleavings are many."""
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(saved)


def _race(update: Callable[[int], None], read: Callable[[], None], seconds: float = 0.5) -> None:
    """Writers call ``update(i)`` and readers ``read()`` at once until ``seconds`` pass."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def loop(step: Callable[[], None]) -> None:
        try:
            while not stop.is_set():
                step()
        except BaseException as error:  # handed to the test thread
            failures.append(error)
            stop.set()

    counter = iter(range(10**12))
    threads = [threading.Thread(target=loop, args=(lambda: update(next(counter)),)) for _ in "ab"]
    threads += [threading.Thread(target=loop, args=(read,)) for _ in "abcdef"]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@pytest.mark.usefixtures("switch_often")
def test_a_reader_never_sees_a_name_with_another_updates_key() -> None:
    credential = AzureNamedKeyCredential("name-0", "key-0")
    reads = [0]

    def read() -> None:
        name, key = credential.named_key
        assert name.removeprefix("name-") == key.removeprefix("key-")
        reads[0] += 1

    _race(lambda i: credential.update(f"name-{i}", f"key-{i}"), read)
    assert reads[0] > 1000
    assert credential.named_key.name != "name-0"


@pytest.mark.usefixtures("switch_often")
@pytest.mark.parametrize("name", ["AzureKeyCredential", "AzureSasCredential"])
def test_a_reader_sees_only_whole_secrets_that_were_set(name: str) -> None:
    credential = BUILDERS[name]("secret-0-" + "x" * 64)

    def read() -> None:
        secret = _secret_of(credential)
        number, padding = secret.removeprefix("secret-").split("-")
        assert number.isdigit()
        assert padding == "x" * 64

    _race(lambda i: _update(credential, f"secret-{i}-" + "x" * 64), read)


# --- The package's names -----------------------------------------------------------------------


def test_the_package_re_exports_the_credentials() -> None:
    from azure_core_tracing import credentials

    for name in credentials.__all__:
        assert getattr(azure_core_tracing, name) is getattr(credentials, name)
        assert name in azure_core_tracing.__all__
