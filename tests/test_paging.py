"""``ItemPaged`` and ``AsyncItemPaged`` without tracing: azure-core's shapes, the pages a
service's continuation tokens describe, resuming with ``by_page``, and bad arguments.

The service here is a list of pages in memory (the traced tests in
``tests/opentelemetry/test_paging_spans.py`` page over a real server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azure_core_tracing.paging import AsyncItemPaged, AsyncPageIterator, ItemPaged, PageIterator


class Pages:
    """A service whose list operation has ``pages``; page n's token is ``"t<n>"``."""

    def __init__(self, pages: list[list[int]]) -> None:
        self.pages = pages
        self.asked: list[Optional[str]] = []

    def get_next(self, token: Optional[str]) -> tuple[int, list[int]]:
        self.asked.append(token)
        index = 0 if token is None else int(token[1:])
        return index, self.pages[index]

    def extract_data(self, response: tuple[int, list[int]]) -> tuple[Optional[str], list[int]]:
        index, items = response
        return (f"t{index + 1}" if index + 1 < len(self.pages) else None), items

    async def aget_next(self, token: Optional[str]) -> tuple[int, list[int]]:
        await asyncio.sleep(0)
        return self.get_next(token)

    async def aextract_data(
        self, response: tuple[int, list[int]]
    ) -> tuple[Optional[str], list[int]]:
        return self.extract_data(response)

    def pager(self, token: Optional[str] = None) -> ItemPaged[int]:
        return ItemPaged(self.get_next, self.extract_data, token)

    def async_pager(self, token: Optional[str] = None) -> AsyncItemPaged[int]:
        return AsyncItemPaged(self.aget_next, self.aextract_data, token)


async def _all(pager: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in pager]


page_lists = st.lists(st.lists(st.integers(), max_size=4), min_size=1, max_size=6)


@given(page_lists)
def test_the_items_are_every_pages_items_in_order_each_page_fetched_once(
    pages: list[list[int]],
) -> None:
    service = Pages(pages)
    assert list(service.pager()) == [item for page in pages for item in page]
    assert service.asked == [None] + [f"t{n}" for n in range(1, len(pages))]


@given(page_lists)
def test_async_items_are_every_pages_items_in_order(pages: list[list[int]]) -> None:
    service = Pages(pages)
    assert asyncio.run(_all(service.async_pager())) == [item for page in pages for item in page]
    assert service.asked == [None] + [f"t{n}" for n in range(1, len(pages))]


@given(page_lists, st.data())
def test_by_page_resumes_from_a_page_iterators_continuation_token(
    pages: list[list[int]], data: st.DataObject
) -> None:
    service = Pages(pages)
    stop = data.draw(st.integers(0, len(pages)))
    first = service.pager().by_page()
    read = [list(page) for page in (next(first) for _ in range(stop))]
    token = first.continuation_token
    if stop == len(pages):
        assert token is None
        return
    rest = [list(page) for page in service.pager().by_page(continuation_token=token)]
    assert read + rest == pages


@given(page_lists, st.data())
def test_async_by_page_resumes_from_a_continuation_token(
    pages: list[list[int]], data: st.DataObject
) -> None:
    service = Pages(pages)
    stop = data.draw(st.integers(1, len(pages)))

    async def main() -> list[list[int]]:
        first = service.async_pager().by_page()
        read = [await _all(await first.__anext__()) for _ in range(stop)]
        if first.continuation_token is None:
            return read
        rest = service.async_pager().by_page(first.continuation_token)
        return read + [await _all(page) async for page in rest]

    assert asyncio.run(main()) == pages


def test_the_constructors_continuation_token_is_where_it_starts() -> None:
    service = Pages([[1], [2], [3]])
    assert list(service.pager("t1")) == [2, 3]
    assert asyncio.run(_all(service.async_pager("t2"))) == [3]
    assert [list(page) for page in service.pager("t1").by_page()] == [[2], [3]]


def test_an_empty_continuation_token_ends_the_pages_as_none_does() -> None:
    fetched: list[Optional[str]] = []

    def get_next(token: Optional[str]) -> list[int]:
        fetched.append(token)
        return [1]

    assert list(ItemPaged(get_next, lambda items: ("", items))) == [1]
    assert fetched == [None]


def test_iterating_a_pager_twice_continues_and_by_page_starts_again() -> None:
    service = Pages([[1, 2], [3]])
    pager = service.pager()
    assert next(pager) == 1
    assert list(pager) == [2, 3]
    assert list(pager) == []
    assert [list(page) for page in pager.by_page()] == [[1, 2], [3]]


def test_nothing_is_fetched_before_iterating() -> None:
    service = Pages([[1]])
    pager = service.pager()
    pages = pager.by_page()
    assert service.asked == []
    assert isinstance(pages, PageIterator)
    assert isinstance(service.async_pager().by_page(), AsyncPageIterator)
    assert pages.continuation_token is None
    next(pages)
    assert service.asked == [None]


def test_an_async_page_may_be_an_async_iterator() -> None:
    async def items() -> AsyncIterator[int]:
        yield 7

    async def get_next(token: Optional[str]) -> None:
        return None

    async def extract(response: None) -> tuple[Optional[str], AsyncIterator[int]]:
        return None, items()

    assert asyncio.run(_all(AsyncItemPaged(get_next, extract))) == [7]


@pytest.mark.parametrize("build", [ItemPaged, AsyncItemPaged, PageIterator, AsyncPageIterator])
def test_bad_arguments_are_type_errors_naming_them(build: Any) -> None:
    with pytest.raises(TypeError, match="get_next must be callable, got str"):
        build("get", lambda r: (None, []))
    with pytest.raises(TypeError, match="extract_data must be callable, got NoneType"):
        build(lambda t: t, None)
    with pytest.raises(TypeError, match="continuation_token must be a str or None, got int"):
        build(lambda t: t, lambda r: (None, []), 3)


def test_by_page_refuses_a_token_that_is_not_a_str() -> None:
    with pytest.raises(TypeError, match="continuation_token must be a str or None, got bytes"):
        Pages([[1]]).pager().by_page(b"t1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="continuation_token must be a str or None, got int"):
        Pages([[1]]).async_pager().by_page(1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("extracted", "message"),
    [
        ([1, 2], "must return a .continuation_token, items. tuple, got list"),
        ((None, [1], 2), "got tuple"),
        ((5, [1]), "the continuation token extract_data returned must be a str or None"),
    ],
)
def test_extract_data_that_returns_the_wrong_shape_is_a_type_error(
    extracted: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        list(ItemPaged(lambda token: None, lambda response: extracted))

    async def extract(response: None) -> Any:
        return extracted

    async def get_next(token: Optional[str]) -> None:
        return None

    with pytest.raises(TypeError, match=message):
        asyncio.run(_all(AsyncItemPaged(get_next, extract)))


def test_an_error_in_get_next_reaches_the_caller_unchanged() -> None:
    error = LookupError("page 2 is gone")

    def get_next(token: Optional[str]) -> Iterable[int]:
        if token:
            raise error
        return [1]

    pager = ItemPaged(get_next, lambda items: ("t1", items))
    assert next(pager) == 1
    with pytest.raises(LookupError) as raised:
        next(pager)
    assert raised.value is error


def test_repr_shows_neither_the_token_nor_the_functions() -> None:
    secret = "sig=SECRET-TOKEN"
    service = Pages([[1], [2]])
    pager = ItemPaged(service.get_next, service.extract_data, secret)
    pages = pager.by_page(secret)
    for shown in (repr(pager), str(pager), repr(pages), repr(service.async_pager(secret))):
        assert "SECRET" not in shown and "get_next" not in shown
        assert shown.startswith("<") and " at 0x" in shown


class Flaky(Pages):
    """A service whose fetch of page ``failing`` fails once (a dropped connection)."""

    def __init__(self, pages: list[list[int]], failing: int) -> None:
        super().__init__(pages)
        self.failing: Optional[int] = failing

    def get_next(self, token: Optional[str]) -> tuple[int, list[int]]:
        index = 0 if token is None else int(token[1:])
        if index == self.failing:
            self.failing = None
            raise ConnectionError(f"page {index} failed")
        return super().get_next(token)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_iterating_again_after_a_failed_page_fetches_that_page_again(kind: str) -> None:
    service = Flaky([[1, 2], [3, 4], [5]], failing=1)
    seen: list[int] = []
    if kind == "sync":
        pager = service.pager()
        with pytest.raises(ConnectionError, match="page 1 failed"):
            seen.extend(pager)
        seen.extend(pager)  # the caller retries: it continues at the failed page
    else:
        async_pager = service.async_pager()

        async def twice() -> None:
            with pytest.raises(ConnectionError, match="page 1 failed"):
                async for item in async_pager:
                    seen.append(item)
            seen.extend(await _all(async_pager))

        asyncio.run(twice())
    assert seen == [1, 2, 3, 4, 5]
    assert service.asked == [None, "t1", "t2"]


@pytest.mark.parametrize("items", [None, 3, object()])
def test_extract_data_returning_items_that_are_not_iterable_is_a_type_error_naming_it(
    items: object,
) -> None:
    def extract(response: object) -> Any:
        return None, items

    pager: ItemPaged[Any] = ItemPaged(lambda token: None, extract)
    with pytest.raises(TypeError, match="items extract_data returned must be iterable"):
        list(pager)

    async def listed() -> list[Any]:
        async def get_next(token: Optional[str]) -> None:
            return None

        async def extract_data(response: object) -> Any:
            return None, items

        return await _all(AsyncItemPaged(get_next, extract_data))

    with pytest.raises(TypeError, match="items extract_data returned must be iterable"):
        asyncio.run(listed())
