"""``AzureKeyCredentialPolicy``: the key in a header of every try, in both pipelines.

What must hold: every try carries the credential's current key (after ``prefix`` and a space),
a rotated key is sent from the next call, the header shows only redacted in spans and logs,
and a bad argument is refused when the policy is built, naming it.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from azure.core.credentials import AzureKeyCredential as CoreKeyCredential

from azure_core_tracing import AzureKeyCredential, ClientOptions
from azure_core_tracing.http import AzureKeyCredentialPolicy, Request
from tests.http.conftest import Driver, policy_client
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel
from tests.support import every_record_at_debug, wrong

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
KEY = "api-key-Vb93kQ"


def client(kind: Kind, policy: AzureKeyCredentialPolicy, options: ClientOptions) -> Driver:
    return policy_client(kind, policy, options)


@pytest.mark.parametrize("kind", KINDS)
def test_every_try_carries_the_current_key(kind: Kind, server: LocalServer) -> None:
    credential = AzureKeyCredential(KEY)
    url = server.script("/x", Reply(503), Reply(200))
    with client(kind, AzureKeyCredentialPolicy(credential, "api-key"), ClientOptions()) as p:
        assert p.send(Request("GET", url)).status_code == 200
        credential.update("rotated")
        p.send(Request("GET", url))
    assert [received.headers.get("api-key") for received in server.received] == [
        KEY,
        KEY,
        "rotated",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_a_prefix_goes_before_the_key_and_azure_cores_credential_works(
    kind: Kind, server: LocalServer
) -> None:
    policy = AzureKeyCredentialPolicy(CoreKeyCredential(KEY), "Authorization", prefix="SharedKey")
    url = server.script("/x", Reply(200))
    with client(kind, policy, ClientOptions()) as p:
        p.send(Request("GET", url))
    assert server.received[0].headers["authorization"] == f"SharedKey {KEY}"


@pytest.mark.parametrize("kind", KINDS)
def test_the_key_shows_only_redacted_in_spans_and_logs(
    kind: Kind, server: LocalServer, otel: Otel
) -> None:
    url = server.script("/x", Reply(200))
    policy = AzureKeyCredentialPolicy(AzureKeyCredential(KEY), "x-api-key")
    pipeline = client(kind, policy, otel.options())
    with every_record_at_debug() as records, pipeline:
        factory = otel.factory()
        with factory.create_span("Client.call") as scope:
            if pipeline.loop is None:
                pipeline.send(Request("GET", url), scope.context)
            else:
                pipeline.run(pipeline.pipeline.send(Request("GET", url), scope.context))
    assert server.received[0].headers["x-api-key"] == KEY
    texts = [str(dict(span.attributes or {})) for span in otel.spans()] + records.texts
    assert len(otel.spans()) == 2
    assert not [text for text in texts if KEY in text]
    assert any("x-api-key" in text and "REDACTED" in text for text in records.texts)


def test_bad_arguments_are_refused_when_the_policy_is_built() -> None:
    credential = AzureKeyCredential(KEY)
    with pytest.raises(TypeError, match="credential"):
        AzureKeyCredentialPolicy(wrong(KEY), "api-key")
    with pytest.raises(TypeError, match="credential"):
        AzureKeyCredentialPolicy(wrong(object()), "api-key")
    with pytest.raises(TypeError, match="name"):
        AzureKeyCredentialPolicy(credential, wrong(None))
    for name in ("", "api key", "api-key\r\n", "é"):
        with pytest.raises(ValueError, match="name"):
            AzureKeyCredentialPolicy(credential, name)
    with pytest.raises(TypeError, match="prefix"):
        AzureKeyCredentialPolicy(credential, "api-key", prefix=wrong(1))
    for prefix in ("", "Shared Key", "x\n"):
        with pytest.raises(ValueError, match="prefix"):
            AzureKeyCredentialPolicy(credential, "api-key", prefix=prefix)


def test_it_runs_in_both_pipelines() -> None:
    policy: Any = AzureKeyCredentialPolicy(AzureKeyCredential(KEY), "api-key")
    for kind in KINDS:
        with client(kind, policy, ClientOptions()) as pipeline:
            assert policy in pipeline.policies


class _DuckKey:
    """A credential of another library, whose key is not a str (unset, or a number)."""

    def __init__(self, key: object) -> None:
        self.key = key


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("key", [None, 123, b"bytes-key"])
def test_a_key_that_is_no_str_is_a_type_error_and_nothing_is_sent(
    kind: Kind, server: LocalServer, key: object
) -> None:
    url = server.script("/x", Reply(200))
    policy = AzureKeyCredentialPolicy(_DuckKey(key), "api-key")  # type: ignore[arg-type]
    pipeline = client(kind, policy, ClientOptions())
    with pipeline, pytest.raises(TypeError, match=r"credential\.key must be a str"):
        pipeline.send(Request("GET", url))
    assert server.received == []
