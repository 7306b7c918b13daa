"""``BearerTokenCredentialPolicy`` and its async twin, against a real server on 127.0.0.1.

What must hold: the token is fetched lazily, reused, and refreshed when it expires within
300 s; concurrent calls on one client cause one ``get_token``; a Continuous Access Evaluation
challenge gets a token for its claims and one resend, anything else (a malformed challenge, a
second 401) is returned; a plain-http URL is refused unless ``enforce_https=False``; a
credential that raises is a ``ClientAuthenticationError`` with no secret in anything the caller,
the logs or the spans get; ``Authorization`` shows only redacted in the spans.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from azure_core_tracing import AccessToken, ClientOptions
from azure_core_tracing.exceptions import ClientAuthenticationError, ServiceRequestError
from azure_core_tracing.http import (
    AsyncBearerTokenCredentialPolicy,
    AsyncHttpPipeline,
    BearerTokenCredentialPolicy,
    HttpPipeline,
    RawResponse,
    Request,
)
from azure_core_tracing.http.bearer_token_policy import (
    WWW_AUTHENTICATE,
    claims_challenge,
    decode_claims,
    needs_new_token,
)
from tests.http.conftest import Driver, policy_client
from tests.local_server import LocalServer, Reply, self_signed_certificate, tls_server_context
from tests.opentelemetry.conftest import Otel
from tests.support import every_record_at_debug, exception_texts, wrong

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
SCOPE = "https://contoso.example/.default"
SECRET = "client-secret-Zq81xT"  # what a credential's error message may hold
CLAIMS = {"access_token": {"nbf": {"essential": True, "value": "1603742800"}}}


class Credential:
    """Counts its calls; each returns ``token-<n>`` expiring ``lifetime`` seconds from now."""

    def __init__(self, lifetime: float = 3600, delay: float = 0.0) -> None:
        self.lifetime, self.delay = lifetime, delay
        self.calls: list[tuple[tuple[str, ...], Optional[str]]] = []
        self._lock = threading.Lock()

    def _next(self, scopes: tuple[str, ...], claims: Optional[str]) -> AccessToken:
        with self._lock:
            self.calls.append((scopes, claims))
            return AccessToken(f"token-{len(self.calls)}", int(time.time() + self.lifetime))

    def get_token(self, *scopes: str, claims: Optional[str] = None, **kwargs: Any) -> AccessToken:
        time.sleep(self.delay)
        return self._next(scopes, claims)


class AsyncCredential:
    """The async twin of ``Credential``, sharing its count."""

    def __init__(self, sync: Credential) -> None:
        self.sync = sync

    async def get_token(
        self, *scopes: str, claims: Optional[str] = None, **kwargs: Any
    ) -> AccessToken:
        await asyncio.sleep(self.sync.delay)
        return self.sync._next(scopes, claims)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        pass


class Raising:
    """A credential whose error message holds a client secret."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        message = f"AADSTS7000215: invalid client_secret={SECRET}"
        raise ValueError(message)


class AsyncRaising:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        message = f"AADSTS7000215: invalid client_secret={SECRET}"
        raise ValueError(message)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> AsyncRaising:
        return self

    async def __aexit__(self, *args: object) -> None:
        pass


def client(
    kind: Kind,
    credential: Any,
    *,
    options: Optional[ClientOptions] = None,
    enforce_https: bool = False,
) -> Driver:
    """A pipeline of ``kind`` whose per-retry policy is the bearer policy of that kind."""
    if kind == "async" and isinstance(credential, Credential):
        credential = AsyncCredential(credential)
    policy_type: Any = (
        BearerTokenCredentialPolicy if kind == "sync" else AsyncBearerTokenCredentialPolicy
    )
    policy = policy_type(credential, SCOPE, enforce_https=enforce_https)
    return policy_client(kind, policy, options)


def challenge(claims: str) -> Reply:
    return Reply(
        401,
        {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.example/", '
            f'error="insufficient_claims", claims="{claims}"'
        },
    )


def encoded(claims: object, *, padding: bool = True) -> str:
    text = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
    return text if padding else text.rstrip("=")


def traced_send(pipeline: Driver, otel: Otel, request: Request) -> RawResponse:
    """``request`` sent in an API span ``Client.call``, as a service method sends it."""
    return pipeline.traced_send(otel.factory(), request)


def authorizations(server: LocalServer) -> list[Optional[str]]:
    return [received.headers.get("authorization") for received in server.received]


# --- the token: lazy, reused, refreshed ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_token_is_fetched_when_first_needed_and_reused(kind: Kind, server: LocalServer) -> None:
    credential = Credential()
    url = server.script("/x", Reply(200))
    with client(kind, credential) as pipeline:
        assert credential.calls == []
        for _ in range(3):
            assert pipeline.send(Request("GET", url)).status_code == 200
    assert credential.calls == [((SCOPE,), None)]
    assert authorizations(server) == ["Bearer token-1"] * 3


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("lifetime", "fetches"), [(330, 1), (290, 3), (-60, 3)])
def test_a_token_expiring_within_300_seconds_is_refreshed(
    kind: Kind, server: LocalServer, lifetime: float, fetches: int
) -> None:
    credential = Credential(lifetime=lifetime)
    url = server.script("/x", Reply(200))
    with client(kind, credential) as pipeline:
        for _ in range(3):
            pipeline.send(Request("GET", url))
    assert len(credential.calls) == fetches
    assert authorizations(server)[-1] == f"Bearer token-{fetches}"


def test_needs_new_token_is_300_seconds_ahead_of_expiry() -> None:
    assert needs_new_token(None, 1000.0)
    assert needs_new_token(AccessToken("t", 1299), 1000.0)
    assert not needs_new_token(AccessToken("t", 1300), 1000.0)


def test_each_try_carries_the_token(server: LocalServer) -> None:
    """The retry policy restores each try's headers: the per-retry policy sets it again."""
    credential = Credential()
    url = server.script("/x", Reply(503), Reply(503), Reply(200))
    with client("sync", credential) as pipeline:
        assert pipeline.send(Request("GET", url)).status_code == 200
    assert authorizations(server) == ["Bearer token-1"] * 3


def test_concurrent_calls_on_one_client_cause_one_get_token(server: LocalServer) -> None:
    credential = Credential(delay=0.2)
    url = server.script("/x", Reply(200))
    with client("sync", credential) as pipeline:
        statuses: list[int] = []
        threads = [
            threading.Thread(
                target=lambda: statuses.append(pipeline.send(Request("GET", url)).status_code)
            )
            for _ in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * 12
    assert len(credential.calls) == 1


def test_concurrent_tasks_on_one_client_cause_one_get_token(server: LocalServer) -> None:
    credential = Credential(delay=0.2)
    url = server.script("/x", Reply(200))
    with client("async", credential) as pipeline:
        sends = [pipeline.pipeline.send(Request("GET", url)) for _ in range(12)]
        responses = pipeline.run_all(sends)
    assert [response.status_code for response in responses] == [200] * 12
    assert len(credential.calls) == 1


def test_one_async_policy_serves_one_event_loop_after_another(server: LocalServer) -> None:
    """A client may outlive its first loop (``asyncio.run`` per call): the lock follows."""
    credential = Credential(lifetime=-60, delay=0.05)  # every call fetches, under the lock
    policy = AsyncBearerTokenCredentialPolicy(
        AsyncCredential(credential), SCOPE, enforce_https=False
    )
    url = server.script("/x", Reply(200))

    async def calls() -> list[int]:
        async with AsyncHttpPipeline(
            ClientOptions(), "azure-test", "1.0.0", per_retry_policies=[policy]
        ) as pipeline:
            sends = [pipeline.send(Request("GET", url)) for _ in range(3)]
            return [response.status_code for response in await asyncio.gather(*sends)]

    assert asyncio.run(calls()) == [200] * 3
    assert asyncio.run(calls()) == [200] * 3


# --- the claims challenge (Continuous Access Evaluation) ----------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("padding", [True, False])
def test_a_claims_challenge_gets_a_token_for_its_claims_and_is_sent_once_more(
    kind: Kind, server: LocalServer, padding: bool
) -> None:
    claims = {"access_token": {"nbf": {"essential": True, "value": "1603742800"}}, "x": "ab"}
    assert padding is False or encoded(claims).endswith("=")  # the case is a real one
    credential = Credential()
    url = server.script("/x", challenge(encoded(claims, padding=padding)), Reply(200))
    with client(kind, credential) as pipeline:
        assert pipeline.send(Request("PUT", url, body=b"payload")).status_code == 200
        pipeline.send(Request("GET", url))  # the claims token is the one cached now
    assert credential.calls == [((SCOPE,), None), ((SCOPE,), json.dumps(claims))]
    assert authorizations(server) == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]
    assert [received.body for received in server.received[:2]] == [b"payload"] * 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "claims",
    ["not base64!", base64.b64encode(b"not json").decode(), encoded(["a list"]), encoded({})],
)
def test_a_malformed_challenge_returns_the_401(
    kind: Kind, server: LocalServer, claims: str
) -> None:
    credential = Credential()
    url = server.script("/x", challenge(claims), Reply(200))
    with client(kind, credential) as pipeline:
        assert pipeline.send(Request("GET", url)).status_code == 401
        pipeline.send(Request("GET", url))  # a 401 drops the cached token
    assert len(server.received) == 2
    assert credential.calls == [((SCOPE,), None), ((SCOPE,), None)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_401_without_a_challenge_is_returned_and_drops_the_token(
    kind: Kind, server: LocalServer
) -> None:
    credential = Credential()
    url = server.script("/x", Reply(401, {"WWW-Authenticate": 'Bearer realm=""'}), Reply(200))
    with client(kind, credential) as pipeline:
        assert pipeline.send(Request("GET", url)).status_code == 401
        assert pipeline.send(Request("GET", url)).status_code == 200
    assert authorizations(server) == ["Bearer token-1", "Bearer token-2"]


class _CopyCounting(str):
    """A header value that counts the characters copied out of it by slicing."""

    copied = 0

    def __getitem__(self, key: Any) -> str:
        part = str.__getitem__(self, key)
        _CopyCounting.copied += len(part)
        return part


def test_a_huge_challenge_is_read_without_copying_the_rest_for_each_challenge() -> None:
    # A hostile server may send a hundred WWW-Authenticate headers (in different cases, of
    # up to 64 KiB each with requests), which the transport joins with ", " into one value.
    # Read by copying the rest of the value for each challenge, the work grows with the
    # square of its length (a 1 MB value: seconds of CPU). Counted, not timed: the reader may
    # copy each character a bounded number of times, however many challenges there are.
    value = _CopyCounting(", ".join(["a"] * 5_000))
    _CopyCounting.copied = 0
    assert claims_challenge({WWW_AUTHENTICATE: value}) is None
    assert _CopyCounting.copied <= 2 * len(value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_second_401_is_returned_to_the_caller(kind: Kind, server: LocalServer) -> None:
    credential = Credential()
    url = server.script("/x", challenge(encoded(CLAIMS)))  # every reply is the challenge
    with client(kind, credential) as pipeline:
        assert pipeline.send(Request("GET", url)).status_code == 401
    assert len(server.received) == 2
    assert len(credential.calls) == 2


class OneShot(io.RawIOBase):
    """A body stream that cannot be rewound (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), len(self._data))
        buffer[:size], self._data = self._data[:size], self._data[size:]
        return size


@pytest.mark.parametrize("kind", KINDS)
def test_a_challenged_request_whose_body_cannot_be_sent_again_returns_the_401(
    kind: Kind, server: LocalServer
) -> None:
    credential = Credential()
    url = server.script("/x", challenge(encoded(CLAIMS)), Reply(200))
    with client(kind, credential) as pipeline:
        response = pipeline.send(Request("PUT", url, body=wrong(OneShot(b"payload"))))
    assert response.status_code == 401
    assert len(server.received) == 1
    assert len(credential.calls) == 1


def test_each_policy_refuses_the_other_kind_of_pipeline() -> None:
    sync_policy = BearerTokenCredentialPolicy(Credential(), SCOPE)
    async_policy = AsyncBearerTokenCredentialPolicy(AsyncCredential(Credential()), SCOPE)
    with pytest.raises(TypeError, match="per_retry_policies"):
        AsyncHttpPipeline(ClientOptions(), "a", "1", per_retry_policies=[sync_policy])
    with pytest.raises(TypeError, match="per_retry_policies"):
        HttpPipeline(ClientOptions(), "a", "1", per_retry_policies=[async_policy])


class RefusesClaims(Credential):
    """Gives a token, but raises (with a secret) when asked for one with claims."""

    def _next(self, scopes: tuple[str, ...], claims: Optional[str]) -> AccessToken:
        if claims is not None:
            message = f"AADSTS50076: claims refused for client_secret={SECRET}"
            raise ValueError(message)
        return super()._next(scopes, claims)


@pytest.mark.parametrize("kind", KINDS)
def test_a_credential_refusing_the_claims_is_a_client_authentication_error(
    kind: Kind, server: LocalServer
) -> None:
    url = server.script("/x", challenge(encoded(CLAIMS)), Reply(200))
    pipeline = client(kind, RefusesClaims())
    with pipeline, pytest.raises(ClientAuthenticationError) as raised:
        pipeline.send(Request("GET", url))
    assert not [text for text in exception_texts(raised.value) if SECRET in text]
    assert len(server.received) == 1


def test_claims_challenge_reads_only_one_bearer_claims_parameter() -> None:
    value = encoded(CLAIMS, padding=False)
    assert claims_challenge({"WWW-Authenticate": f'Bearer claims="{value}"'}) == json.dumps(CLAIMS)
    assert claims_challenge({"WWW-Authenticate": f"Bearer error=x, claims={value}"}) is not None
    two = f'Bearer claims="{value}", Bearer claims="{value}"'
    assert claims_challenge({"WWW-Authenticate": two}) is None
    assert claims_challenge({"WWW-Authenticate": f'PoP claims="{value}"'}) is None
    assert claims_challenge({"WWW-Authenticate": "Basic dXNlcjpwYXNz=="}) is None
    assert claims_challenge({}) is None
    assert decode_claims(base64.b64encode(b'{"a": "\xff"}').decode()) is None


# --- https ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_http_url_is_refused_unless_enforce_https_is_off(
    kind: Kind, server: LocalServer
) -> None:
    credential = Credential()
    url = server.script("/x", Reply(200))
    pipeline = client(kind, credential, enforce_https=True)
    with pipeline, pytest.raises(ServiceRequestError, match="https is required"):
        pipeline.send(Request("GET", url))
    assert server.received == []
    assert credential.calls == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_https_url_carries_the_token(
    kind: Kind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    credential = Credential()
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200))
        with client(kind, credential, enforce_https=True) as pipeline:
            assert pipeline.send(Request("GET", url)).status_code == 200
        assert authorizations(tls) == ["Bearer token-1"]


# --- a credential that raises --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_credential_that_raises_is_a_client_authentication_error_with_no_secret(
    kind: Kind, server: LocalServer, otel: Otel
) -> None:
    url = server.script("/x", Reply(200))
    options = otel.options()
    pipeline = client(kind, Raising() if kind == "sync" else AsyncRaising(), options=options)
    with (
        every_record_at_debug() as records,
        pipeline,
        pytest.raises(ClientAuthenticationError) as raised,
    ):
        traced_send(pipeline, otel, Request("GET", url))
    assert otel.named("Client.call")  # the API span recorded the error: no secret in it
    error = raised.value
    assert isinstance(error.inner_exception, ValueError)
    assert error.__cause__ is error.inner_exception
    assert error.__context__ is None
    assert "get_token" in str(error)
    texts = [*exception_texts(error), *exception_texts(error.inner_exception), *records.texts]
    for span in otel.spans():
        texts += [str(dict(span.attributes or {})), str(span.status.description)]
        texts += [str(dict(event.attributes or {})) for event in span.events]
    assert any("ClientAuthenticationError" in text for text in texts[-3:])
    assert not [text for text in texts if SECRET in text]
    assert server.received == []


@pytest.mark.parametrize(
    "returned",
    [
        None,
        "a-token",
        AccessToken("", 1),
        ("t", True),
        AccessToken("t", "9999999999"),  # type: ignore[arg-type]  # a str, as some return
        AccessToken("t", float("nan")),  # type: ignore[arg-type]  # never compares as due
    ],
)
def test_a_credential_returning_no_token_is_a_client_authentication_error(
    server: LocalServer, returned: object
) -> None:
    class Odd:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            return returned

    url = server.script("/x", Reply(200))
    pipeline = client("sync", Odd())
    with pipeline, pytest.raises(ClientAuthenticationError, match="not an AccessToken"):
        pipeline.send(Request("GET", url))


def test_a_token_that_cannot_be_a_header_is_refused_without_repeating_it(
    server: LocalServer,
) -> None:
    class Bad:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken(f"{SECRET}\r\nX-Injected: 1", int(time.time()) + 3600)

    url = server.script("/x", Reply(200))
    with client("sync", Bad()) as pipeline, pytest.raises(ClientAuthenticationError) as raised:
        pipeline.send(Request("GET", url))
    assert not [text for text in exception_texts(raised.value) if SECRET in text]
    assert server.received == []


# --- redaction in the spans ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_authorization_shows_only_redacted_in_spans_and_logs(
    kind: Kind, server: LocalServer, otel: Otel
) -> None:
    credential = Credential()
    url = server.script("/x", challenge(encoded(CLAIMS)), Reply(200))
    options = otel.options()
    pipeline = client(kind, credential, options=options)
    with every_record_at_debug() as records, pipeline:
        assert traced_send(pipeline, otel, Request("GET", url)).status_code == 200
    assert len(otel.spans()) == 3  # the API span and the two sends of its one try
    texts = [str(span.attributes) for span in otel.spans()] + records.texts
    assert not [text for text in texts if "token-1" in text or "token-2" in text]
    assert any("Authorization" in text and "REDACTED" in text for text in records.texts)


# --- arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [BearerTokenCredentialPolicy, AsyncBearerTokenCredentialPolicy])
def test_bad_arguments_are_refused_when_the_policy_is_built(policy: Any) -> None:
    credential: Any = Credential() if policy is BearerTokenCredentialPolicy else AsyncRaising()
    with pytest.raises(TypeError, match="credential"):
        policy(wrong("a-token"), SCOPE)
    with pytest.raises(TypeError, match="credential"):
        policy(wrong(object()), SCOPE)
    with pytest.raises(ValueError, match="scope"):
        policy(credential)
    with pytest.raises(ValueError, match="scope"):
        policy(credential, "")
    with pytest.raises(TypeError, match="scope"):
        policy(credential, wrong(b"scope"))
    with pytest.raises(TypeError, match="enforce_https"):
        policy(credential, SCOPE, enforce_https=wrong("no"))
    with pytest.raises(TypeError, match="AsyncBearerTokenCredentialPolicy"):
        BearerTokenCredentialPolicy(wrong(AsyncRaising()), SCOPE)
