"""``ItemPaged`` and ``AsyncItemPaged``: the items of a paged list operation, fetched a page
at a time, in azure-core's shapes.

A pager is built from two small functions: ``get_next(continuation_token)`` fetches one page
(the first with None) and returns the response; ``extract_data(response)`` returns the next
continuation token (None or ``""`` when there is no next page) and the page's items. Nothing is
fetched until the pager is iterated.

A page is fetched inside ``__next__`` / ``__anext__`` and nowhere else, so a pager holds no
resource between fetches: one abandoned half-way (a ``break``, an exception in the loop, one
never closed) leaves nothing open. ``@distributed_trace`` traces each fetch of a pager its
method returns through ``fetch_through``, the one seam between the two modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from typing import Any, Callable, Optional, Protocol, TypeVar, Union

from azure_core_tracing.checks import type_name

ReturnType = TypeVar("ReturnType")
ResponseType = TypeVar("ResponseType")

_Page = tuple[Optional[str], Iterable[Any]]
# Runs one page fetch (its argument) and returns what it returned: plain by default; the
# decorator's runs it inside the page's span.
SyncFetch = Callable[[Callable[[], _Page]], _Page]
AsyncFetch = Callable[[Callable[[], Awaitable[_Page]]], Awaitable[_Page]]


class _Fetcher(Protocol):
    """What runs a pager's page fetches (a traced call's, for ``distributed_trace``)."""

    def fetch(self, fetch: Callable[[], _Page]) -> _Page: ...

    async def fetch_async(self, fetch: Callable[[], Awaitable[_Page]]) -> _Page: ...


def _check_callable(value: object, argument: str) -> None:
    if not callable(value):
        raise TypeError(f"{argument} must be callable, got {type_name(value)}")


def _check_token(value: object, argument: str = "continuation_token") -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{argument} must be a str or None, got {type_name(value)}")
    return value


def _extracted(extracted: object) -> _Page:
    """``extract_data``'s result as (token, items), or a ``TypeError`` saying what it was."""
    if not isinstance(extracted, tuple) or len(extracted) != 2:
        raise TypeError(
            "extract_data must return a (continuation_token, items) tuple, "
            f"got {type_name(extracted)}"
        )
    token, items = extracted
    _check_token(token, "the continuation token extract_data returned")
    if not hasattr(items, "__iter__") and not hasattr(items, "__aiter__"):
        raise TypeError(f"the items extract_data returned must be iterable, got {type_name(items)}")
    return token, items


def _run_plain(fetch: Callable[[], _Page]) -> _Page:
    return fetch()


async def _run_plain_async(fetch: Callable[[], Awaitable[_Page]]) -> _Page:
    return await fetch()


def _more(token: Optional[str]) -> bool:
    return token is not None and token != ""


class PageIterator(Iterator[Iterator[ReturnType]]):
    """The pages of a list operation, each an iterator of its items.

    ``continuation_token`` is the token of the next page (None once the last page was
    fetched): pass it to ``ItemPaged.by_page`` to resume there, in this process or another."""

    def __init__(
        self,
        get_next: Callable[[Optional[str]], Any],
        extract_data: Callable[[Any], tuple[Optional[str], Iterable[ReturnType]]],
        continuation_token: Optional[str] = None,
        *,
        _fetch: SyncFetch = _run_plain,
    ) -> None:
        _check_callable(get_next, "get_next")
        _check_callable(extract_data, "extract_data")
        self.continuation_token = _check_token(continuation_token)
        self._get_next = get_next
        self._extract_data = extract_data
        self._fetch = _fetch
        self._started = False

    def _one_page(self) -> _Page:
        response = self._get_next(self.continuation_token)
        return _extracted(self._extract_data(response))

    def __iter__(self) -> PageIterator[ReturnType]:
        return self

    def __next__(self) -> Iterator[ReturnType]:
        if self._started and not _more(self.continuation_token):
            raise StopIteration
        token, items = self._fetch(self._one_page)
        self._started = True
        self.continuation_token = token
        return iter(items)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x}>"


class ItemPaged(Iterator[ReturnType]):
    """The items of a paged list operation, fetched a page at a time as they are iterated.

    Iterating it twice continues where the first loop stopped (it is its own iterator, as
    azure-core's); ``by_page()`` starts a new pass over the pages."""

    def __init__(
        self,
        get_next: Callable[[Optional[str]], Any],
        extract_data: Callable[[Any], tuple[Optional[str], Iterable[ReturnType]]],
        continuation_token: Optional[str] = None,
    ) -> None:
        _check_callable(get_next, "get_next")
        _check_callable(extract_data, "extract_data")
        self._get_next = get_next
        self._extract_data = extract_data
        self._continuation_token = _check_token(continuation_token)
        self._pages: Optional[PageIterator[ReturnType]] = None
        self._page: Optional[Iterator[ReturnType]] = None
        self._fetch: SyncFetch = _run_plain

    def by_page(self, continuation_token: Optional[str] = None) -> PageIterator[ReturnType]:
        """A new iterator of pages, from ``continuation_token`` (a page iterator's
        ``continuation_token``) or else from where this pager was created to start."""
        token = _check_token(continuation_token)
        return PageIterator(
            self._get_next,
            self._extract_data,
            self._continuation_token if token is None else token,
            _fetch=self._fetch,
        )

    def __iter__(self) -> ItemPaged[ReturnType]:
        return self

    def __next__(self) -> ReturnType:
        # Page by page, not itertools.chain: a page fetch that raises leaves the page iterator
        # at that page, so iterating again fetches it again instead of silently ending.
        if self._pages is None:
            self._pages = self.by_page()
        while True:
            if self._page is None:
                self._page = next(self._pages)  # StopIteration ends it
            try:
                return next(self._page)
            except StopIteration:
                self._page = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x}>"


class AsyncList(AsyncIterator[ReturnType]):
    """A page's items from a plain iterable, as an async iterator."""

    def __init__(self, iterable: Iterable[ReturnType]) -> None:
        self._iterator = iter(iterable)

    async def __anext__(self) -> ReturnType:
        try:
            return next(self._iterator)
        except StopIteration:
            raise StopAsyncIteration from None


class AsyncPageIterator(AsyncIterator[AsyncIterator[ReturnType]]):
    """The pages of an async list operation, each an async iterator of its items;
    ``continuation_token`` resumes as ``PageIterator``'s does."""

    def __init__(
        self,
        get_next: Callable[[Optional[str]], Awaitable[Any]],
        extract_data: Callable[
            [Any],
            Awaitable[tuple[Optional[str], Union[Iterable[ReturnType], AsyncIterator[ReturnType]]]],
        ],
        continuation_token: Optional[str] = None,
        *,
        _fetch: AsyncFetch = _run_plain_async,
    ) -> None:
        _check_callable(get_next, "get_next")
        _check_callable(extract_data, "extract_data")
        self.continuation_token = _check_token(continuation_token)
        self._get_next = get_next
        self._extract_data = extract_data
        self._fetch = _fetch
        self._started = False

    async def _one_page(self) -> _Page:
        response = await self._get_next(self.continuation_token)
        return _extracted(await self._extract_data(response))

    def __aiter__(self) -> AsyncPageIterator[ReturnType]:
        return self

    async def __anext__(self) -> AsyncIterator[ReturnType]:
        if self._started and not _more(self.continuation_token):
            raise StopAsyncIteration
        token, items = await self._fetch(self._one_page)
        self._started = True
        self.continuation_token = token
        if isinstance(items, AsyncIterator):
            return items
        return AsyncList(items)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x}>"


class AsyncItemPaged(AsyncIterator[ReturnType]):
    """The items of an async paged list operation, fetched a page at a time; ``get_next`` and
    ``extract_data`` are async. Iterated twice, it continues, as ``ItemPaged`` does."""

    def __init__(
        self,
        get_next: Callable[[Optional[str]], Awaitable[Any]],
        extract_data: Callable[
            [Any],
            Awaitable[tuple[Optional[str], Union[Iterable[ReturnType], AsyncIterator[ReturnType]]]],
        ],
        continuation_token: Optional[str] = None,
    ) -> None:
        _check_callable(get_next, "get_next")
        _check_callable(extract_data, "extract_data")
        self._get_next = get_next
        self._extract_data = extract_data
        self._continuation_token = _check_token(continuation_token)
        self._pages: Optional[AsyncPageIterator[ReturnType]] = None
        self._page: Optional[AsyncIterator[ReturnType]] = None
        self._fetch: AsyncFetch = _run_plain_async

    def by_page(self, continuation_token: Optional[str] = None) -> AsyncPageIterator[ReturnType]:
        """A new async iterator of pages, from ``continuation_token`` or else from where this
        pager was created to start."""
        token = _check_token(continuation_token)
        return AsyncPageIterator(
            self._get_next,
            self._extract_data,
            self._continuation_token if token is None else token,
            _fetch=self._fetch,
        )

    def __aiter__(self) -> AsyncItemPaged[ReturnType]:
        return self

    async def __anext__(self) -> ReturnType:
        if self._pages is None:
            self._pages = self.by_page()
        while True:
            if self._page is None:
                self._page = await self._pages.__anext__()  # StopAsyncIteration ends it
            try:
                return await self._page.__anext__()
            except StopAsyncIteration:
                self._page = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x}>"


def fetch_through(pager: Union[ItemPaged[Any], AsyncItemPaged[Any]], fetcher: _Fetcher) -> None:
    """Run ``pager``'s page fetches from now on (those of the page iterators it makes, too)
    through ``fetcher.fetch``, or ``fetcher.fetch_async`` for an ``AsyncItemPaged``: the seam
    ``distributed_trace`` traces a returned pager's fetches through."""
    if isinstance(pager, AsyncItemPaged):
        pager._fetch = fetcher.fetch_async
    else:
        pager._fetch = fetcher.fetch
