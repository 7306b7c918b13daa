"""Shared access signatures: the sample's account-SAS generator against a vector written out
from the Storage documentation ("Create an account SAS"), and the client authenticated by
``AzureSasCredential`` against the real Azurite, which checks the signature, the permissions
and the expiry itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import pytest

from azure_core_tracing import AzureSasCredential
from azure_core_tracing.exceptions import ClientAuthenticationError
from samples.blob_storage import generate_account_sas
from tests.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite
from tests.storage.conftest import Blob, sas_credential, shared_key, unique_container

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_the_token_signs_the_documented_string() -> None:
    token = generate_account_sas(
        shared_key(),
        permissions="rl",
        expiry=EXPIRY,
        start=datetime(2029, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-1))),
        protocol="https,http",
    )
    fields = dict(parse_qsl(token, strict_parsing=True))
    # Account name, permissions, services, resource types, start, expiry, IP range (none),
    # protocol, version, encryption scope (none), and a final newline: the 2020-12-06 form.
    text = (
        f"{ACCOUNT_NAME}\nrl\nb\nsco\n2030-01-01T00:00:00Z\n2030-01-02T03:04:05Z\n\n"
        "https,http\n2025-01-05\n\n"
    )
    digest = hmac.new(base64.b64decode(ACCOUNT_KEY), text.encode(), hashlib.sha256).digest()
    assert fields == {
        "sv": "2025-01-05",
        "ss": "b",
        "srt": "sco",
        "sp": "rl",
        "st": "2030-01-01T00:00:00Z",
        "se": "2030-01-02T03:04:05Z",
        "spr": "https,http",
        "sig": base64.b64encode(digest).decode(),
    }
    assert "+" not in token and "/" not in token  # the signature's base64 is %-escaped


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        ({"expiry": datetime(2030, 1, 1)}, ValueError, "expiry"),  # naive: which zone?
        ({"expiry": "2030-01-01"}, TypeError, "expiry"),
        ({"start": datetime(2030, 1, 1)}, ValueError, "start"),
        ({"permissions": "r w"}, ValueError, "permissions"),
        ({"permissions": ""}, ValueError, "permissions"),
        ({"services": "b&x=1"}, ValueError, "services"),
        ({"resource_types": 1}, ValueError, "resource_types"),
    ],
)
def test_bad_arguments_are_refused_naming_them(
    arguments: dict[str, Any], error: type[Exception], named: str
) -> None:
    given: dict[str, Any] = {"permissions": "r", "expiry": EXPIRY, **arguments}
    with pytest.raises(error, match=named):
        generate_account_sas(shared_key(), **given)


def test_every_operation_runs_with_a_sas(make_blob: Any, azurite: Azurite) -> None:
    client: Blob = make_blob(azurite.blob_endpoint, sas_credential())
    name = unique_container()
    client.create_container(name)
    etag = client.upload_blob(name, "dir/b.txt", b"by sas", content_type="text/plain")
    properties = client.get_blob_properties(name, "dir/b.txt")
    assert (properties.size, properties.etag) == (6, etag)
    assert client.download_blob(name, "dir/b.txt") == b"by sas"
    client.delete_blob(name, "dir/b.txt")
    client.delete_container(name)


def test_a_read_only_sas_reads_and_cannot_write(
    make_blob: Any, azurite: Azurite, blob: Blob, container: str
) -> None:
    blob.upload_blob(container, "b", b"x")
    reader: Blob = make_blob(azurite.blob_endpoint, sas_credential("r"))
    assert reader.download_blob(container, "b") == b"x"
    with pytest.raises(ClientAuthenticationError) as raised:
        reader.upload_blob(container, "b", b"y")
    assert raised.value.error_code == "AuthorizationPermissionMismatch"
    assert blob.download_blob(container, "b") == b"x"


@pytest.mark.parametrize("flaw", ["expired", "another key"])
def test_a_sas_azurite_cannot_verify_is_refused(
    make_blob: Any, azurite: Azurite, blob: Blob, container: str, flaw: str
) -> None:
    blob.upload_blob(container, "b", b"x")
    if flaw == "expired":
        token = generate_account_sas(
            shared_key(), permissions="r", expiry=datetime.now(timezone.utc) - timedelta(1)
        )
    else:
        from azure_core_tracing import AzureNamedKeyCredential

        other = AzureNamedKeyCredential(ACCOUNT_NAME, base64.b64encode(b"other").decode())
        token = generate_account_sas(other, permissions="r", expiry=EXPIRY)
    client: Blob = make_blob(azurite.blob_endpoint, AzureSasCredential(token))
    with pytest.raises(ClientAuthenticationError) as raised:
        client.download_blob(container, "b")
    assert (raised.value.status_code, raised.value.error_code) == (403, "AuthorizationFailure")


def test_a_sas_rotated_with_update_is_sent_from_the_next_call(
    make_blob: Any, azurite: Azurite, blob: Blob, container: str
) -> None:
    blob.upload_blob(container, "b", b"x")
    credential = sas_credential("r")
    client: Blob = make_blob(azurite.blob_endpoint, credential)
    assert client.download_blob(container, "b") == b"x"
    credential.update(
        generate_account_sas(
            shared_key(), permissions="r", expiry=datetime.now(timezone.utc) - timedelta(1)
        )
    )
    with pytest.raises(ClientAuthenticationError):
        client.download_blob(container, "b")


def test_a_credential_of_another_kind_is_a_type_error(azurite: Azurite) -> None:
    from samples.blob_storage import BlobStorageClient

    with pytest.raises(TypeError, match=r"AzureNamedKeyCredential .*or an AzureSasCredential"):
        BlobStorageClient(azurite.blob_endpoint, ACCOUNT_KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no query"):
        BlobStorageClient(f"{azurite.blob_endpoint}?sv=1&sig=x", shared_key())
