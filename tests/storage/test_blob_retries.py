"""Retries of the Blob Storage sample client, with a real fault-injecting proxy in front of
the real Azurite: a 503 (ServerBusy) or a dropped connection is retried, each try signed
afresh (Azurite checks the signature of the one that reaches it), under its own HTTP span
with its own ``traceparent``; faults past the retry budget reach the caller."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from azure_core_tracing.exceptions import HttpResponseError, ServiceResponseError
from tests.azurite import ACCOUNT_NAME
from tests.opentelemetry.conftest import Otel
from tests.storage.conftest import Blob, sas_credential, unique_container
from tests.storage.fault_proxy import Fault, FaultProxy


@pytest.mark.parametrize("credential", ["shared key", "sas"])
@pytest.mark.parametrize("faults", [("503",), ("drop",), ("503", "drop", "503")])
def test_an_upload_is_retried_past_the_faults_and_each_try_is_traced(
    make_blob: Any,
    blob: Blob,
    proxy: FaultProxy,
    otel: Otel,
    faults: tuple[Fault, ...],
    credential: str,
    kind: str,
) -> None:
    name = unique_container()
    blob.create_container(name)  # straight to Azurite
    otel.exporter.clear()
    client: Blob = make_blob(
        proxy.url(f"/{ACCOUNT_NAME}"), sas_credential() if credential == "sas" else None
    )
    proxy.fail_next(*faults)
    client.upload_blob(name, "b", b"body sent again")
    assert client.download_blob(name, "b") == b"body sent again"

    upload = proxy.exchanges[: len(faults) + 1]
    assert [e.fault for e in upload] == [*faults, ""]
    assert upload[-1].status == 201  # the last try's signature (or SAS) was accepted
    spans = [s for s in otel.spans() if s.name.startswith("HTTP PUT")]
    assert [s.name for s in spans] == [f"HTTP PUT #{n}" for n in range(len(faults) + 1)]
    assert [s.status.status_code for s in spans] == [StatusCode.ERROR] * len(faults) + [
        StatusCode.UNSET
    ]
    parents = [e.request_headers["traceparent"] for e in upload]
    assert len(set(parents)) == len(parents)
    assert [p.split("-")[2] for p in parents] == [
        f"{s.context.span_id:016x}" for s in spans if s.context is not None
    ]
    for exchange in upload:  # each try carries one credential, never the last try's too
        if credential == "shared key":
            assert exchange.request_headers["authorization"].startswith(
                f"SharedKey {ACCOUNT_NAME}:"
            )
            assert "sig=" not in exchange.path
        else:
            assert "authorization" not in exchange.request_headers
            assert exchange.path.count("sig=") == 1


def test_503s_past_the_retry_budget_reach_the_caller_with_storages_code(
    make_blob: Any, proxy: FaultProxy, otel: Otel
) -> None:
    options = otel.options()
    options.retry.max_retries = 2
    client: Blob = make_blob(proxy.url(f"/{ACCOUNT_NAME}"), options=options)
    proxy.fail_next("503", "503", "503")
    with pytest.raises(HttpResponseError) as raised:
        client.create_container(unique_container())
    assert (raised.value.status_code, raised.value.error_code) == (503, "ServerBusy")
    assert len(proxy.exchanges) == 3 and not proxy.forwarded()
    names = [s.name for s in otel.spans() if s.name.startswith("HTTP")]
    assert names == ["HTTP PUT #0", "HTTP PUT #1", "HTTP PUT #2"]


def test_dropped_connections_past_the_retry_budget_reach_the_caller(
    make_blob: Any, proxy: FaultProxy, otel: Otel, kind: str
) -> None:
    options = otel.options()
    options.retry.max_retries = 2
    client: Blob = make_blob(proxy.url(f"/{ACCOUNT_NAME}"), options=options)
    proxy.fail_next("drop", "drop", "drop")
    with pytest.raises(ServiceResponseError):
        client.create_container(unique_container())
    assert len(proxy.exchanges) == 3 and not proxy.forwarded()
    names = [s.name for s in otel.spans() if s.name.startswith("HTTP")]
    assert names == ["HTTP PUT #0", "HTTP PUT #1", "HTTP PUT #2"]
