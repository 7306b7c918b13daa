"""``AzureSasCredentialPolicy``: the signature merged into every try's query, both pipelines.

What must hold: each try's URL carries the credential's current signature once (a retry
does not add a second), it merges with the URL's own query and fragment, a URL that already
carries a ``sig`` is refused, ``sig=`` shows only redacted in the spans and logs, and a bad
credential is refused when the policy is built.
"""

from __future__ import annotations

from typing import Literal

import pytest
from azure.core.credentials import AzureSasCredential as CoreSasCredential

from azure_core_tracing import AzureSasCredential, ClientOptions
from azure_core_tracing.http import AzureSasCredentialPolicy, Request
from azure_core_tracing.http.sas_credential_policy import carries_signature, signed_url
from tests.http.conftest import Driver, policy_client
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel
from tests.support import every_record_at_debug, wrong

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
SIG = "Xk3bQm9pL2"
SAS = f"sv=2024-01-01&se=2030-01-01&sig={SIG}"


def client(kind: Kind, policy: AzureSasCredentialPolicy, options: ClientOptions) -> Driver:
    return policy_client(kind, policy, options)


@pytest.mark.parametrize("kind", KINDS)
def test_every_try_carries_the_current_signature_once(kind: Kind, server: LocalServer) -> None:
    credential = AzureSasCredential(SAS)
    url = server.script("/x", Reply(503), Reply(200))
    with client(kind, AzureSasCredentialPolicy(credential), ClientOptions()) as pipeline:
        request = Request("GET", f"{url}?api-version=1")
        assert pipeline.send(request).status_code == 200
        credential.update("?sv=2024-01-01&sig=rotated")
        pipeline.send(request)
    assert request.url == f"{url}?api-version=1"  # the caller's request never changes
    assert [received.path for received in server.received] == [
        f"/x?api-version=1&{SAS}",
        f"/x?api-version=1&{SAS}",
        "/x?api-version=1&sv=2024-01-01&sig=rotated",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_a_url_that_already_carries_a_signature_is_refused(kind: Kind, server: LocalServer) -> None:
    url = server.script("/x", Reply(200))
    pipeline = client(kind, AzureSasCredentialPolicy(CoreSasCredential(SAS)), ClientOptions())
    with pipeline, pytest.raises(ValueError, match="already carries a shared access signature"):
        pipeline.send(Request("GET", f"{url}?SIG=other"))
    assert server.received == []


def test_the_signature_merges_with_the_query_and_the_fragment() -> None:
    assert signed_url("https://a.test/p", "?s=1") == "https://a.test/p?s=1"
    assert signed_url("https://a.test/p?", "s=1") == "https://a.test/p?s=1"
    assert signed_url("https://a.test/p?a=1", "s=1") == "https://a.test/p?a=1&s=1"
    assert signed_url("https://a.test/p?a=1#f", "s=1") == "https://a.test/p?a=1&s=1#f"
    assert signed_url("https://a.test/p#f?x", "s=1") == "https://a.test/p?s=1#f?x"
    assert carries_signature("https://a.test/p?a=1;sig=x")
    assert not carries_signature("https://a.test/p?signature=x#sig=y")
    # A server percent-decodes names: these are a sig too.
    assert carries_signature("https://a.test/p?%73IG=x")
    assert carries_signature("https://a.test/p?a=1&si%67=x")


@pytest.mark.parametrize("kind", KINDS)
def test_the_signature_shows_only_redacted_in_spans_and_logs(
    kind: Kind, server: LocalServer, otel: Otel
) -> None:
    url = server.script("/x", Reply(503), Reply(200))
    pipeline = client(kind, AzureSasCredentialPolicy(AzureSasCredential(SAS)), otel.options())
    span = otel.factory().create_span("Client.call")
    with every_record_at_debug() as records, pipeline, span as scope:
        request = Request("GET", url)
        if pipeline.loop is None:
            pipeline.send(request, scope.context)
        else:
            pipeline.run(pipeline.pipeline.send(request, scope.context))
    assert len(otel.spans()) == 3  # two tries
    urls = [span.attributes.get("http.url") for span in otel.spans() if span.attributes]
    assert f"{url}?sv=REDACTED&se=REDACTED&sig=REDACTED" in urls
    texts = [str(dict(span.attributes or {})) for span in otel.spans()] + records.texts
    assert not [text for text in texts if SIG in text]
    assert any("sig=REDACTED" in text for text in records.texts)


def test_a_bad_credential_is_refused_when_the_policy_is_built() -> None:
    for credential in (SAS, None, object()):
        with pytest.raises(TypeError, match="credential"):
            AzureSasCredentialPolicy(wrong(credential))


class _DuckSignature:
    """A credential of another library, whose signature is not a str (unset, or bytes)."""

    def __init__(self, signature: object) -> None:
        self.signature = signature


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("signature", [None, 123, b"sig=x"])
def test_a_signature_that_is_no_str_is_a_type_error_and_nothing_is_sent(
    kind: Kind, server: LocalServer, signature: object
) -> None:
    url = server.script("/x", Reply(200))
    policy = AzureSasCredentialPolicy(_DuckSignature(signature))  # type: ignore[arg-type]
    pipeline = client(kind, policy, ClientOptions())
    with pipeline, pytest.raises(TypeError, match=r"credential\.signature must be a str"):
        pipeline.send(Request("GET", url))
    assert server.received == []
