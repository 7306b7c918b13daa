"""``AsyncBlobStorageClient``: the asyncio twin of ``BlobStorageClient``, on
``AsyncHttpPipeline``, with the same requests, errors and authentication."""

from __future__ import annotations

from types import TracebackType
from typing import Optional

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import AsyncHttpPipeline, AsyncHttpTransport, RawResponse
from azure_core_tracing.paging import AsyncItemPaged

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


class AsyncBlobStorageClient:
    """Containers and block blobs of one storage account, with ``await``: the methods, the
    arguments and the errors of ``BlobStorageClient``."""

    def __init__(
        self,
        account_url: str,
        credential: Credential,
        *,
        options: Optional[ClientOptions] = None,
        transport: Optional[AsyncHttpTransport] = None,
    ) -> None:
        options = check_options(options)
        self._requests = Requests(check_account_url(account_url))
        self._tracing_factory = TracingContextFactory(
            options, SERVICE_NAMESPACE, PACKAGE_VERSION, package_name=PACKAGE_NAME
        )
        self._pipeline = AsyncHttpPipeline(
            options,
            tracing_factory=self._tracing_factory,
            per_retry_policies=[credential_policy(credential)],
            transport=transport,
        )

    @distributed_trace
    async def create_container(self, container: str, *, context: Optional[Context] = None) -> None:
        """Create ``container`` (``ContainerAlreadyExists`` if it does)."""
        request = self._requests.create_container(container)
        raise_for_status(await self._pipeline.send(request, context), (201,))

    @distributed_trace
    async def delete_container(self, container: str, *, context: Optional[Context] = None) -> None:
        """Delete ``container`` and its blobs (``ContainerNotFound`` if there is none)."""
        request = self._requests.delete_container(container)
        raise_for_status(await self._pipeline.send(request, context), (202,))

    @distributed_trace
    async def upload_blob(
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
        """Write ``data`` as block blob ``blob``; its new ETag."""
        request = self._requests.upload_blob(
            container, blob, data, content_type=content_type, overwrite=overwrite, if_match=if_match
        )
        response = raise_for_status(await self._pipeline.send(request, context), (201,))
        return response.headers.get("ETag", "")

    @distributed_trace
    async def download_blob(
        self,
        container: str,
        blob: str,
        *,
        if_match: Optional[str] = None,
        context: Optional[Context] = None,
    ) -> bytes:
        """The content of ``blob``."""
        request = self._requests.download_blob(container, blob, if_match=if_match)
        return raise_for_status(await self._pipeline.send(request, context), (200,)).body

    @distributed_trace
    async def get_blob_properties(
        self, container: str, blob: str, *, context: Optional[Context] = None
    ) -> BlobProperties:
        """The size, ETag, time and content type of ``blob``."""
        request = self._requests.get_blob_properties(container, blob)
        response = raise_for_status(await self._pipeline.send(request, context), (200,))
        return blob_properties(container, blob, response)

    @distributed_trace
    async def delete_blob(
        self,
        container: str,
        blob: str,
        *,
        if_match: Optional[str] = None,
        context: Optional[Context] = None,
    ) -> None:
        """Delete ``blob``."""
        request = self._requests.delete_blob(container, blob, if_match=if_match)
        raise_for_status(await self._pipeline.send(request, context), (202,))

    @distributed_trace  # a plain def returning the pager, as in azure-core
    def list_blobs(
        self,
        container: str,
        *,
        prefix: Optional[str] = None,
        results_per_page: int = DEFAULT_PAGE_SIZE,
        context: Optional[Context] = None,
    ) -> AsyncItemPaged[BlobProperties]:
        """The blobs of ``container``, with ``async for``. Each page fetch is an API span."""
        requests = self._requests
        requests.list_blobs(
            container, prefix=prefix, results_per_page=results_per_page, marker=None
        )

        async def get_next(marker: Optional[str]) -> RawResponse:
            request = requests.list_blobs(
                container, prefix=prefix, results_per_page=results_per_page, marker=marker
            )
            return raise_for_status(await self._pipeline.send(request, context), (200,))

        async def extract_data(
            response: RawResponse,
        ) -> tuple[Optional[str], list[BlobProperties]]:
            return blob_page(container, response)

        return AsyncItemPaged(get_next, extract_data)

    async def close(self) -> None:
        """Close the pipeline's pooled connections."""
        await self._pipeline.close()

    async def __aenter__(self) -> AsyncBlobStorageClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()
