"""The Blob Storage sample client against a real Azurite (the session's ``azurite``, from
tests/conftest.py). Every test that takes ``blob`` runs twice: with ``BlobStorageClient`` and with
``AsyncBlobStorageClient`` (driven through one synchronous facade, on an event loop of its
own), traced by the real OpenTelemetry SDK (``otel``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
from collections.abc import Iterator
from typing import Any, Literal, Optional

import pytest

from azure_core_tracing import AzureNamedKeyCredential, AzureSasCredential, ClientOptions
from samples.blob_storage import AsyncBlobStorageClient, BlobStorageClient
from tests.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite
from tests.opentelemetry.conftest import Otel, otel  # noqa: F401 - the real SDK, here too
from tests.storage.fault_proxy import FaultProxy

Kind = Literal["sync", "async"]
_names = itertools.count()


@pytest.fixture
def proxy(azurite: Azurite) -> Iterator[FaultProxy]:
    """A recording, fault-injecting proxy in front of the session's Azurite."""
    with FaultProxy(azurite.port) as running:
        yield running


def unique_container() -> str:
    """A container name no other test uses (Azurite's state lasts the session)."""
    return f"test-{os.getpid()}-{next(_names)}"


def shared_key() -> AzureNamedKeyCredential:
    return AzureNamedKeyCredential(ACCOUNT_NAME, ACCOUNT_KEY)


class Blob:
    """A sample client of the running test's kind, every method called synchronously."""

    def __init__(
        self,
        kind: Kind,
        endpoint: str,
        credential: Any,
        options: Optional[ClientOptions] = None,
    ) -> None:
        self.kind = kind
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        if kind == "sync":
            self.client: Any = BlobStorageClient(endpoint, credential, options=options)
        else:
            self.loop = asyncio.new_event_loop()
            self.client = AsyncBlobStorageClient(endpoint, credential, options=options)

    def run(self, awaitable: Any) -> Any:
        """``awaitable``'s result, on this facade's loop (async kind only)."""
        assert self.loop is not None
        return self.loop.run_until_complete(awaitable)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return self.run(result) if inspect.isawaitable(result) else result

        return call

    def pages(
        self, container: str, *, continuation_token: Optional[str] = None, **kwargs: Any
    ) -> Iterator[tuple[list[str], Optional[str]]]:
        """``list_blobs(container, **kwargs).by_page(continuation_token)``, called now: each
        page's blob names and the continuation token after it, a page fetched per step."""
        return self._each_page(
            self.client.list_blobs(container, **kwargs).by_page(continuation_token)
        )

    def _each_page(self, pages: Any) -> Iterator[tuple[list[str], Optional[str]]]:
        while True:
            if self.loop is None:
                try:
                    page = [item.name for item in next(pages)]
                except StopIteration:
                    return
            else:

                async def one() -> Optional[list[str]]:
                    try:
                        items = await pages.__anext__()
                    except StopAsyncIteration:
                        return None
                    return [item.name async for item in items]

                found = self.run(one())
                if found is None:
                    return
                page = found
            yield page, pages.continuation_token

    def names(self, container: str, **kwargs: Any) -> list[str]:
        """The names ``list_blobs(container, **kwargs)`` yields, item by item."""
        paged = self.client.list_blobs(container, **kwargs)
        if self.loop is None:
            return [item.name for item in paged]

        async def every() -> list[str]:
            return [item.name async for item in paged]

        found: list[str] = self.run(every())
        return found

    def close(self) -> None:
        if self.loop is None:
            self.client.close()
        elif not self.loop.is_closed():
            self.loop.run_until_complete(self.client.close())
            self.loop.close()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> Kind:
    value: Kind = request.param
    return value


@pytest.fixture
def make_blob(kind: Kind, otel: Otel) -> Iterator[Any]:  # noqa: F811 - the fixture above
    """``make_blob(endpoint, credential=shared key, options=traced by otel)``: a ``Blob``."""
    made: list[Blob] = []

    def build(
        endpoint: str,
        credential: Any = None,
        options: Optional[ClientOptions] = None,
    ) -> Blob:
        blob = Blob(kind, endpoint, credential or shared_key(), options or otel.options())
        made.append(blob)
        return blob

    yield build
    for blob in made:
        blob.close()


@pytest.fixture
def blob(make_blob: Any, azurite: Azurite) -> Blob:
    """A client of the test's kind on Azurite, by Shared Key, traced by ``otel``."""
    made: Blob = make_blob(azurite.blob_endpoint)
    return made


@pytest.fixture
def container(blob: Blob, otel: Otel) -> Iterator[str]:  # noqa: F811 - the fixture above
    """A new, empty container, deleted after the test (its spans cleared: tests count theirs)."""
    name = unique_container()
    blob.create_container(name)
    otel.exporter.clear()
    yield name
    with contextlib.suppress(Exception):  # the test may have deleted it itself
        blob.delete_container(name)


def sas_credential(permissions: str = "rwdlac") -> AzureSasCredential:
    from datetime import datetime, timedelta, timezone

    from samples.blob_storage import generate_account_sas

    return AzureSasCredential(
        generate_account_sas(
            shared_key(),
            permissions=permissions,
            expiry=datetime.now(timezone.utc) + timedelta(hours=1),
        )
    )
