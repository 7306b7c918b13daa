"""The Blob service's REST protocol, shared by both clients: the requests to send, what their
responses mean, the errors, and the pipeline's authentication. No I/O: the sync and async
clients only send (``client.py``, ``aio.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Optional, Union
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

from azure_core_tracing import AzureNamedKeyCredential, AzureSasCredential, ClientOptions
from azure_core_tracing.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    map_error,
)
from azure_core_tracing.http import AzureSasCredentialPolicy, RawResponse, Request

from ._models import BlobProperties
from ._shared_key import SharedKeyCredentialPolicy

SERVICE_NAMESPACE = "Microsoft.Storage"
PACKAGE_NAME = "blob-storage-sample"
PACKAGE_VERSION = "1.0.0"
API_VERSION = "2025-01-05"
"""The ``x-ms-version`` every request sends (Azurite 3.35 serves it)."""
DEFAULT_PAGE_SIZE = 5000
"""The service's own limit for one page of a listing."""

# The characters of a blob name left as they are in its URL path: the sub-delimiters, ":"
# and "@", which aiohttp (yarl) would decode from their %-escapes before sending, and which
# requests sends as they are. With these written raw, both transports send the path that
# Shared Key signed, byte for byte; everything else is %-escaped (UTF-8).
_BLOB_SAFE = "/!$&'()*,:;=@"
Credential = Union[AzureNamedKeyCredential, AzureSasCredential]
# Storage's error code is in x-ms-error-code (and the XML body): HttpResponseError reads it.
ERROR_MAP: Mapping[int, type[HttpResponseError]] = {
    401: ClientAuthenticationError,
    403: ClientAuthenticationError,  # AuthorizationFailure: a wrong key or signature
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    412: ResourceModifiedError,
}


def check_account_url(account_url: object) -> str:
    """The account's Blob endpoint, ``https://<account>.blob.core.windows.net`` or Azurite's
    path-style ``http://127.0.0.1:10000/devstoreaccount1``, without a trailing slash."""
    if not isinstance(account_url, str):
        raise TypeError(f"account_url must be a str, got {type(account_url).__name__}")
    parts = urlsplit(account_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("account_url must be an absolute http or https URL")
    if parts.query or parts.fragment:
        raise ValueError(
            "account_url must have no query or fragment: give a SAS as AzureSasCredential"
        )
    return account_url.rstrip("/")


def credential_policy(
    credential: Credential,
) -> Union[SharedKeyCredentialPolicy, AzureSasCredentialPolicy]:
    """The per-retry policy that authenticates each try with ``credential``."""
    if isinstance(credential, AzureNamedKeyCredential):
        return SharedKeyCredentialPolicy(credential)
    if isinstance(credential, AzureSasCredential):
        return AzureSasCredentialPolicy(credential)
    raise TypeError(
        "credential must be an AzureNamedKeyCredential (Shared Key) or an AzureSasCredential, "
        f"got {type(credential).__name__}"
    )


# Query parameters that name an operation or a page size, never a secret or a blob: shown in
# spans and logs. The SAS's parameters, ``prefix`` and ``marker`` (blob names) stay REDACTED.
VISIBLE_QUERY_PARAMETERS = frozenset({"restype", "comp", "maxresults"})


def check_options(options: Optional[ClientOptions]) -> ClientOptions:
    """The caller's options (or new ones), on a copy whose log options also show
    ``VISIBLE_QUERY_PARAMETERS``: the caller's own options are never changed."""
    if options is None:
        options = ClientOptions()
    if not isinstance(options, ClientOptions):
        raise TypeError(f"options must be a ClientOptions, got {type(options).__name__}")
    log = dataclasses.replace(
        options.log,
        allowed_query_parameters={
            *options.log.allowed_query_parameters,
            *VISIBLE_QUERY_PARAMETERS,
        },
    )
    return dataclasses.replace(options, log=log)


def _name(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{argument} must not be empty")
    return value


def _page_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"results_per_page must be an int, got {type(value).__name__}")
    if not 1 <= value <= DEFAULT_PAGE_SIZE:
        raise ValueError(f"results_per_page must be from 1 to {DEFAULT_PAGE_SIZE}, got {value}")
    return value


class Requests:
    """The requests of one account's Blob endpoint."""

    def __init__(self, account_url: str) -> None:
        self._url = account_url

    def _request(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Optional[Mapping[str, str]] = None,
        body: Optional[bytes] = None,
    ) -> Request:
        url = f"{self._url}/{path}" + (f"?{query}" if query else "")
        return Request(method, url, {"x-ms-version": API_VERSION, **(headers or {})}, body)

    @staticmethod
    def _container_path(container: str) -> str:
        return quote(_name(container, "container"), safe="")

    def _blob_path(self, container: str, blob: str) -> str:
        return f"{self._container_path(container)}/{quote(_name(blob, 'blob'), safe=_BLOB_SAFE)}"

    def create_container(self, container: str) -> Request:
        return self._request("PUT", self._container_path(container), "restype=container")

    def delete_container(self, container: str) -> Request:
        return self._request("DELETE", self._container_path(container), "restype=container")

    def upload_blob(
        self,
        container: str,
        blob: str,
        data: bytes,
        *,
        content_type: str,
        overwrite: bool,
        if_match: Optional[str],
    ) -> Request:
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        headers = {
            "x-ms-blob-type": "BlockBlob",
            "Content-Type": _name(content_type, "content_type"),
            "Content-Length": str(len(data)),
        }
        if not overwrite:
            headers["If-None-Match"] = "*"  # the service answers 409 BlobAlreadyExists
        if if_match is not None:
            headers["If-Match"] = _name(if_match, "if_match")
        return self._request("PUT", self._blob_path(container, blob), headers=headers, body=data)

    def download_blob(self, container: str, blob: str, *, if_match: Optional[str]) -> Request:
        headers = {} if if_match is None else {"If-Match": _name(if_match, "if_match")}
        return self._request("GET", self._blob_path(container, blob), headers=headers)

    def get_blob_properties(self, container: str, blob: str) -> Request:
        return self._request("HEAD", self._blob_path(container, blob))

    def delete_blob(self, container: str, blob: str, *, if_match: Optional[str]) -> Request:
        headers = {} if if_match is None else {"If-Match": _name(if_match, "if_match")}
        return self._request("DELETE", self._blob_path(container, blob), headers=headers)

    def list_blobs(
        self,
        container: str,
        *,
        prefix: Optional[str],
        results_per_page: int,
        marker: Optional[str],
    ) -> Request:
        query = f"restype=container&comp=list&maxresults={_page_size(results_per_page)}"
        if prefix:
            query += f"&prefix={quote(_name(prefix, 'prefix'), safe='')}"
        if marker:
            query += f"&marker={quote(marker, safe='')}"
        return self._request("GET", self._container_path(container), query)


def raise_for_status(response: RawResponse, expected: tuple[int, ...]) -> RawResponse:
    """``response`` if its status is one of ``expected``; else the error it stands for,
    carrying Storage's error code (``ContainerNotFound``, ``BlobNotFound``, ...)."""
    if response.status_code in expected:
        return response
    map_error(response.status_code, response, ERROR_MAP)
    raise HttpResponseError(response=response)


def blob_properties(container: str, blob: str, response: RawResponse) -> BlobProperties:
    """The properties a HEAD (or GET) of a blob answered with."""
    headers = response.headers
    return BlobProperties(
        name=blob,
        container=container,
        size=int(headers.get("Content-Length") or 0),
        etag=headers.get("ETag", ""),
        last_modified=headers.get("Last-Modified", ""),
        content_type=headers.get("Content-Type", ""),
    )


def _quoted(etag: str) -> str:
    """A listing's ETag as the header writes it: in quotes (the XML may leave them out)."""
    return etag if not etag or etag.startswith('"') else f'"{etag}"'


def blob_page(container: str, response: RawResponse) -> tuple[Optional[str], list[BlobProperties]]:
    """One page of a listing: the marker of the next page (None after the last) and the
    blobs, from the ``EnumerationResults`` XML."""
    root = ElementTree.fromstring(response.body)
    blobs = [
        BlobProperties(
            name=item.findtext("Name", ""),
            container=container,
            size=int(item.findtext("Properties/Content-Length") or 0),
            etag=_quoted(item.findtext("Properties/Etag", "")),
            last_modified=item.findtext("Properties/Last-Modified", ""),
            content_type=item.findtext("Properties/Content-Type", ""),
        )
        for item in root.iterfind("Blobs/Blob")
    ]
    return root.findtext("NextMarker") or None, blobs
