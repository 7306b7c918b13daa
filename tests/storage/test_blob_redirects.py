"""Redirects of the Blob Storage sample client, through a proxy in front of the real Azurite
answering 307: a hop to the same origin is signed again for its own path (Azurite checks it),
and one to another origin (a second proxy, another port) carries no credential at all, by
Shared Key (the sample's own policy asks ``is_cross_origin_hop``) or by SAS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from azure_core_tracing.exceptions import HttpResponseError
from tests.azurite import ACCOUNT_NAME, Azurite
from tests.storage.conftest import Blob, sas_credential
from tests.storage.fault_proxy import FaultProxy


@pytest.fixture
def other_origin(azurite: Azurite) -> Iterator[FaultProxy]:
    """A second proxy in front of the same Azurite: another port, so another origin."""
    with FaultProxy(azurite.port) as running:
        yield running


@pytest.mark.parametrize("credential", ["shared key", "sas"])
def test_a_same_origin_redirect_is_signed_for_its_own_path(
    make_blob: Any, blob: Blob, proxy: FaultProxy, container: str, credential: str
) -> None:
    blob.upload_blob(container, "new-name", b"moved here")
    client: Blob = make_blob(
        proxy.url(f"/{ACCOUNT_NAME}"), sas_credential() if credential == "sas" else None
    )
    proxy.redirect_next(proxy.url(f"/{ACCOUNT_NAME}/{container}/new-name"))
    assert client.download_blob(container, "old-name") == b"moved here"
    first, hop = proxy.exchanges
    assert first.path.startswith(f"/{ACCOUNT_NAME}/{container}/old-name")
    assert hop.path.startswith(f"/{ACCOUNT_NAME}/{container}/new-name") and hop.status == 200
    if credential == "shared key":
        assert hop.request_headers["authorization"] != first.request_headers["authorization"]
    else:
        assert hop.path.count("sig=") == 1


@pytest.mark.parametrize("credential", ["shared key", "sas"])
def test_a_cross_origin_redirect_carries_no_credential(
    make_blob: Any,
    blob: Blob,
    proxy: FaultProxy,
    other_origin: FaultProxy,
    container: str,
    credential: str,
) -> None:
    blob.upload_blob(container, "b", b"private")
    client: Blob = make_blob(
        proxy.url(f"/{ACCOUNT_NAME}"), sas_credential() if credential == "sas" else None
    )
    proxy.redirect_next(other_origin.url(f"/{ACCOUNT_NAME}/{container}/b"))
    with pytest.raises(HttpResponseError) as raised:
        client.download_blob(container, "b")
    # Azurite refuses the anonymous hop: the private blob is not there for it.
    assert raised.value.status_code in (401, 403, 404)
    (hop,) = other_origin.exchanges
    assert "authorization" not in hop.request_headers
    assert not [name for name in hop.request_headers if name.startswith("x-ms-date")]
    assert "sig=" not in hop.path and "sv=" not in hop.path
    (first,) = proxy.exchanges
    assert ("authorization" in first.request_headers) == (credential == "shared key")
