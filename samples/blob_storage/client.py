"""``BlobStorageClient``: the sync client, on ``HttpPipeline``."""

from __future__ import annotations

from types import TracebackType
from typing import Optional

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import HttpPipeline, HttpTransport, RawResponse
from azure_core_tracing.paging import ItemPaged

from ._models import BlobProperties
from ._protocol import (
    DEFAULT_PAGE_SIZE,
    PACKAGE_NAME,
    PACKAGE_VERSION,
    SERVICE_NAMESPACE,
    Credential,
    Requests,
    blob_page,
    blob_properties,
    check_account_url,
    check_options,
    credential_policy,
    raise_for_status,
)


class BlobStorageClient:
    """Containers and block blobs of one storage account, authenticated by Shared Key (an
    ``AzureNamedKeyCredential``) or a shared access signature (an ``AzureSasCredential``).

    Every method is one API span with one HTTP span per try under it; a status the operation
    does not expect raises an ``HttpResponseError`` carrying Storage's ``error_code``
    (``ResourceNotFoundError`` for 404, ``ResourceExistsError`` for 409,
    ``ResourceModifiedError`` for 412)."""

    def __init__(
        self,
        account_url: str,
        credential: Credential,
        *,
        options: Optional[ClientOptions] = None,
        transport: Optional[HttpTransport] = None,
    ) -> None:
        options = check_options(options)
        self._requests = Requests(check_account_url(account_url))
        self._tracing_factory = TracingContextFactory(
            options, SERVICE_NAMESPACE, PACKAGE_VERSION, package_name=PACKAGE_NAME
        )
        self._pipeline = HttpPipeline(
            options,
            tracing_factory=self._tracing_factory,
            per_retry_policies=[credential_policy(credential)],
            transport=transport,
        )

    @distributed_trace
    def create_container(self, container: str, *, context: Optional[Context] = None) -> None:
        """Create ``container`` (``ContainerAlreadyExists`` if it does)."""
        response = self._pipeline.send(self._requests.create_container(container), context)
        raise_for_status(response, (201,))

    @distributed_trace
    def delete_container(self, container: str, *, context: Optional[Context] = None) -> None:
        """Delete ``container`` and its blobs (``ContainerNotFound`` if there is none)."""
        response = self._pipeline.send(self._requests.delete_container(container), context)
        raise_for_status(response, (202,))

    @distributed_trace
    def upload_blob(
        self,
        container: str,
        blob: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        overwrite: bool = True,
        if_match: Optional[str] = None,
        context: Optional[Context] = None,
    ) -> str:
        """Write ``data`` as block blob ``blob``; its new ETag. With ``overwrite=False`` an
        existing blob is ``BlobAlreadyExists``; with ``if_match`` one whose ETag differs is
        ``ConditionNotMet``."""
        request = self._requests.upload_blob(
            container, blob, data, content_type=content_type, overwrite=overwrite, if_match=if_match
        )
        response = raise_for_status(self._pipeline.send(request, context), (201,))
        return response.headers.get("ETag", "")

    @distributed_trace
    def download_blob(
        self,
        container: str,
        blob: str,
        *,
        if_match: Optional[str] = None,
        context: Optional[Context] = None,
    ) -> bytes:
        """The content of ``blob`` (``BlobNotFound``; ``ConditionNotMet`` for ``if_match``)."""
        request = self._requests.download_blob(container, blob, if_match=if_match)
        return raise_for_status(self._pipeline.send(request, context), (200,)).body

    @distributed_trace
    def get_blob_properties(
        self, container: str, blob: str, *, context: Optional[Context] = None
    ) -> BlobProperties:
        """The size, ETag, time and content type of ``blob`` (``BlobNotFound``)."""
        request = self._requests.get_blob_properties(container, blob)
        response = raise_for_status(self._pipeline.send(request, context), (200,))
        return blob_properties(container, blob, response)

    @distributed_trace
    def delete_blob(
        self,
        container: str,
        blob: str,
        *,
        if_match: Optional[str] = None,
        context: Optional[Context] = None,
    ) -> None:
        """Delete ``blob`` (``BlobNotFound``; ``ConditionNotMet`` for ``if_match``)."""
        request = self._requests.delete_blob(container, blob, if_match=if_match)
        raise_for_status(self._pipeline.send(request, context), (202,))

    @distributed_trace  # no span at the call: one per page fetch
    def list_blobs(
        self,
        container: str,
        *,
        prefix: Optional[str] = None,
        results_per_page: int = DEFAULT_PAGE_SIZE,
        context: Optional[Context] = None,
    ) -> ItemPaged[BlobProperties]:
        """The blobs of ``container`` (those whose names start with ``prefix``), by name,
        fetched ``results_per_page`` at a time as they are iterated; ``by_page()`` gives the
        pages and a ``continuation_token`` to resume from. Each page fetch is an API span."""
        requests = self._requests
        requests.list_blobs(  # the arguments are checked now, not at the first page
            container, prefix=prefix, results_per_page=results_per_page, marker=None
        )

        def get_next(marker: Optional[str]) -> RawResponse:
            # Runs while a page is fetched: ``context`` stands for that page's span.
            request = requests.list_blobs(
                container, prefix=prefix, results_per_page=results_per_page, marker=marker
            )
            return raise_for_status(self._pipeline.send(request, context), (200,))

        return ItemPaged(get_next, lambda response: blob_page(container, response))

    def close(self) -> None:
        """Close the pipeline's pooled connections."""
        self._pipeline.close()

    def __enter__(self) -> BlobStorageClient:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
