"""``list_blobs`` against the real Azurite, sync and async: a small ``results_per_page``
makes the listing several pages, each one fetch with the marker the page before gave; a
page iterator's ``continuation_token`` resumes the listing elsewhere; each page fetch is one
API span over its HTTP span."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from opentelemetry.trace import StatusCode

from azure_core_tracing.exceptions import ResourceNotFoundError
from tests.azurite import ACCOUNT_NAME, Azurite
from tests.opentelemetry.conftest import Otel
from tests.storage.conftest import Blob, unique_container
from tests.storage.fault_proxy import FaultProxy

NAMES = [f"logs/{n:02}.txt" for n in range(7)]


@pytest.fixture
def seven(blob: Blob, container: str, otel: Otel) -> str:
    """``container`` with the seven ``NAMES`` and one blob outside ``logs/``."""
    for name in [*NAMES, "readme.md"]:
        blob.upload_blob(container, name, name.encode())
    otel.exporter.clear()
    return container


def test_every_blob_is_listed_by_name_across_pages(blob: Blob, seven: str) -> None:
    assert blob.names(seven, results_per_page=3) == [*NAMES, "readme.md"]


def test_each_page_holds_results_per_page_blobs_and_the_last_the_rest(
    make_blob: Any, proxy: FaultProxy, seven: str
) -> None:
    client: Blob = make_blob(proxy.url(f"/{ACCOUNT_NAME}"))
    pages = list(client.pages(seven, prefix="logs/", results_per_page=3))
    assert [names for names, _ in pages] == [NAMES[:3], NAMES[3:6], NAMES[6:]]
    assert pages[-1][1] is None  # no page after the last
    queries = [parse_qs(e.path.partition("?")[2]) for e in proxy.forwarded()]
    assert len(queries) == 3
    assert all(q["maxresults"] == ["3"] and q["prefix"] == ["logs/"] for q in queries)
    # The first page has no marker; each other one, the token the page before gave.
    assert [q.get("marker") for q in queries] == [None, [pages[0][1]], [pages[1][1]]]


def test_the_continuation_token_resumes_the_listing_in_another_client(
    make_blob: Any, azurite: Azurite, blob: Blob, seven: str
) -> None:
    first = blob.pages(seven, results_per_page=3)
    names, token = next(first)
    assert names == NAMES[:3] and token
    other: Blob = make_blob(azurite.blob_endpoint)
    rest = [names for names, _ in other.pages(seven, continuation_token=token, results_per_page=3)]
    assert rest == [NAMES[3:6], [NAMES[6], "readme.md"]]


def test_an_empty_container_is_one_empty_page(blob: Blob, container: str) -> None:
    assert list(blob.pages(container, results_per_page=2)) == [([], None)]
    assert blob.names(container) == []


def test_a_missing_container_raises_when_iterated_not_when_called(blob: Blob, otel: Otel) -> None:
    paged = blob.client.list_blobs(unique_container())
    assert otel.spans() == []  # nothing is sent until the pager is iterated
    with pytest.raises(ResourceNotFoundError) as raised:
        blob.names(unique_container())
    assert raised.value.error_code == "ContainerNotFound"
    del paged


def test_each_page_fetch_is_an_api_span_over_its_http_span(
    blob: Blob, seven: str, otel: Otel, kind: str
) -> None:
    assert len(blob.names(seven, results_per_page=3)) == 8
    spans = otel.spans()
    api = sorted((s for s in spans if s.parent is None), key=lambda s: s.start_time or 0)
    client = "BlobStorageClient" if kind == "sync" else "AsyncBlobStorageClient"
    assert [s.name for s in api] == [f"{client}.list_blobs"] * 3
    for page in api:
        assert page.status.status_code == StatusCode.OK
        assert page.context is not None
        children = [s for s in spans if s.parent and s.parent.span_id == page.context.span_id]
        assert [s.name for s in children] == ["HTTP GET #0"]
        assert (children[0].attributes or {})["serviceRequestId"]


def test_the_pages_go_under_the_span_current_when_list_blobs_was_called(
    blob: Blob, seven: str, otel: Otel
) -> None:
    with otel.sdk.get_tracer("app").start_as_current_span("caller") as caller:
        pages = blob.pages(seven, results_per_page=4)
    assert otel.named("caller") and not [s for s in otel.spans() if s.name != "caller"]
    assert len(list(pages)) == 2  # iterated after the caller's span ended
    listed = [s for s in otel.spans() if s.name.endswith(".list_blobs")]
    assert len(listed) == 2
    assert all(s.parent and s.parent.span_id == caller.get_span_context().span_id for s in listed)


def test_an_error_on_a_later_page_raises_there_and_marks_that_page_only(
    blob: Blob, seven: str, otel: Otel
) -> None:
    pages = blob.pages(seven, results_per_page=3)
    assert next(pages)[0] == NAMES[:3]
    blob.delete_container(seven)
    with pytest.raises(ResourceNotFoundError) as raised:
        next(pages)
    assert raised.value.error_code == "ContainerNotFound"
    listed = [s for s in otel.spans() if s.name.endswith(".list_blobs")]
    assert [s.status.status_code for s in listed] == [StatusCode.OK, StatusCode.ERROR]


@pytest.mark.parametrize(("size", "error"), [(0, ValueError), (5001, ValueError), ("3", TypeError)])
def test_a_bad_page_size_is_refused_when_called(blob: Blob, size: object, error: type) -> None:
    with pytest.raises(error, match="results_per_page"):
        blob.client.list_blobs("any", results_per_page=size)
