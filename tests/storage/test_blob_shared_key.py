"""Shared Key: the string to sign against a vector written out by hand from the Storage
documentation ("Authorize with Shared Key"), and the policy against the real Azurite, which
computes the signature itself and refuses one that is wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from azure_core_tracing import AzureNamedKeyCredential, Context
from azure_core_tracing.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure_core_tracing.http import Request
from samples.blob_storage import SharedKeyCredentialPolicy, string_to_sign
from tests.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite
from tests.storage.conftest import Blob, shared_key

# A Put Blob to Azurite's path-style URL, every signed header set, x-ms-* headers in mixed
# case and out of order, query parameters in mixed case, out of order, one given twice and
# one %-escaped.
VECTOR_REQUEST = Request(
    "PUT",
    "http://127.0.0.1:10000/devstoreaccount1/photos/2024/cat%20one.jpg"
    "?Timeout=30&comp=block&blockid=YWJj%3D&comp=list",
    {
        "Content-Encoding": "gzip",
        "Content-Language": "en-US",
        "Content-Length": "11",
        "Content-MD5": "Q2hlY2sgSW50ZWdyaXR5IQ==",
        "Content-Type": "image/jpeg",
        "Date": "Tue, 08 Dec 2026 03:00:00 GMT",
        "If-Modified-Since": "Mon, 07 Dec 2026 00:00:00 GMT",
        "If-Match": '"0x8D1"',
        "If-None-Match": '"0x8D2"',
        "If-Unmodified-Since": "Wed, 09 Dec 2026 00:00:00 GMT",
        "Range": "bytes=0-10",
        "X-MS-Version": "2025-01-05",
        "x-ms-date": "Tue, 08 Dec 2026 03:00:00 GMT",
        "x-ms-blob-type": "BlockBlob",
        "x-ms-meta-Owner": "alice ",
        "User-Agent": "not signed",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    },
    b"hello world",
)
# Written from the documented algorithm, not by this project's function: the method, the
# eleven standard headers in their order, the x-ms- headers lower-cased, sorted, trimmed,
# then /account + the path as sent (Azurite's path-style URL names the account again), then
# each parameter lower-cased, sorted, its values %-decoded, sorted and joined by commas.
VECTOR_STRING_TO_SIGN = (
    "PUT\n"
    "gzip\n"
    "en-US\n"
    "11\n"
    "Q2hlY2sgSW50ZWdyaXR5IQ==\n"
    "image/jpeg\n"
    "Tue, 08 Dec 2026 03:00:00 GMT\n"
    "Mon, 07 Dec 2026 00:00:00 GMT\n"
    '"0x8D1"\n'
    '"0x8D2"\n'
    "Wed, 09 Dec 2026 00:00:00 GMT\n"
    "bytes=0-10\n"
    "x-ms-blob-type:BlockBlob\n"
    "x-ms-date:Tue, 08 Dec 2026 03:00:00 GMT\n"
    "x-ms-meta-owner:alice\n"
    "x-ms-version:2025-01-05\n"
    "/devstoreaccount1/devstoreaccount1/photos/2024/cat%20one.jpg\n"
    "blockid:YWJj=\n"
    "comp:block,list\n"
    "timeout:30"
)


def test_the_string_to_sign_is_the_documented_one() -> None:
    assert string_to_sign(VECTOR_REQUEST, ACCOUNT_NAME) == VECTOR_STRING_TO_SIGN


def test_a_zero_length_and_an_absent_content_length_are_signed_as_an_empty_line() -> None:
    url = "http://127.0.0.1:10000/devstoreaccount1/c?restype=container"
    expected = "PUT\n\n\n\n\n\n\n\n\n\n\n\n/devstoreaccount1/devstoreaccount1/c\nrestype:container"
    assert string_to_sign(Request("PUT", url, {"Content-Length": "0"}), ACCOUNT_NAME) == expected
    assert string_to_sign(Request("PUT", url), ACCOUNT_NAME) == expected


def test_a_body_without_content_length_is_signed_with_the_length_the_transport_sends() -> None:
    url = "http://127.0.0.1:10000/devstoreaccount1/c/b"
    signed = string_to_sign(Request("PUT", url, body="héllo"), ACCOUNT_NAME)
    assert signed.split("\n")[3] == "6"  # UTF-8 bytes, as both transports send a str body


def test_the_policy_signs_with_the_documented_hmac_and_a_fresh_date() -> None:
    request = VECTOR_REQUEST.copy()
    del request.headers["x-ms-date"]
    SharedKeyCredentialPolicy(shared_key()).on_request(request, Context())
    date = request.headers["x-ms-date"]
    assert parsedate_to_datetime(date).tzinfo is not None  # an RFC 1123 date in GMT
    text = VECTOR_STRING_TO_SIGN.replace(
        "x-ms-date:Tue, 08 Dec 2026 03:00:00 GMT\n", f"x-ms-date:{date}\n"
    )
    digest = hmac.new(base64.b64decode(ACCOUNT_KEY), text.encode(), hashlib.sha256).digest()
    expected = f"SharedKey {ACCOUNT_NAME}:{base64.b64encode(digest).decode()}"
    assert request.headers["Authorization"] == expected


def test_a_key_that_is_not_base64_is_refused_when_the_policy_is_built() -> None:
    with pytest.raises(ValueError, match="base64") as raised:
        SharedKeyCredentialPolicy(AzureNamedKeyCredential(ACCOUNT_NAME, "not*base64"))
    assert "not*base64" not in str(raised.value)


def test_a_credential_without_a_named_key_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="AzureNamedKeyCredential"):
        SharedKeyCredentialPolicy("devstoreaccount1:key")  # type: ignore[arg-type]


def test_azurite_accepts_the_signature_of_every_operation(blob: Blob, container: str) -> None:
    blob.upload_blob(container, "b", b"x", content_type="text/plain")
    assert blob.get_blob_properties(container, "b").size == 1
    assert blob.download_blob(container, "b") == b"x"
    blob.delete_blob(container, "b")


def test_a_wrong_key_is_authorization_failure(make_blob: Any, azurite: Azurite) -> None:
    wrong = base64.b64encode(b"a key of another account").decode()
    client: Blob = make_blob(azurite.blob_endpoint, AzureNamedKeyCredential(ACCOUNT_NAME, wrong))
    with pytest.raises(ClientAuthenticationError) as raised:
        client.create_container("never-created")
    assert (raised.value.status_code, raised.value.error_code) == (403, "AuthorizationFailure")


def test_a_rotated_key_is_used_from_the_next_call(make_blob: Any, azurite: Azurite) -> None:
    credential = AzureNamedKeyCredential(ACCOUNT_NAME, base64.b64encode(b"old").decode())
    client: Blob = make_blob(azurite.blob_endpoint, credential)
    with pytest.raises(ClientAuthenticationError):
        client.get_blob_properties("nothing", "here")
    credential.update(ACCOUNT_NAME, ACCOUNT_KEY)
    with pytest.raises(ResourceNotFoundError) as raised:  # authenticated: no such container
        client.get_blob_properties("nothing", "here")
    assert raised.value.error_code == "ContainerNotFound"
