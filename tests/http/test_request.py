"""``Request``: its checked arguments, its case-insensitive header table and its body."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any, cast

import pytest

from azure_core_tracing.http import Request


class _Name(str):
    """A str subclass header name (its methods are str's own)."""


def test_request_headers_are_case_insensitive_and_method_upper_case() -> None:
    request = Request("get", "https://h/p", {"Content-Type": "json"})
    assert request.method == "GET"
    assert request.headers["content-type"] == "json"
    request.headers["X-A"] = "1"
    assert "x-a" in request.headers


@pytest.mark.parametrize(
    "name",
    [
        "X-Ms-Client-Request-Id",
        "x-ms-client-request-id",
        _Name("X-MS-CLIENT-REQUEST-ID"),
        "missing",
        "",
        1,
        None,
        b"x-ms-client-request-id",
    ],
)
def test_the_headers_get_agrees_with_the_mapping_get(name: Any) -> None:
    """``RequestHeaders.get``, its own and quicker, answers as ``Mapping.get`` does for any key
    and default."""
    headers = Request("GET", "https://h/", headers={"x-ms-client-request-id": "id-1"}).headers
    for default in (None, "fallback"):
        assert headers.get(name, default) == Mapping.get(headers, name, default)
    assert headers.get(name) == Mapping.get(headers, name)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("", "https://h/"), ValueError, "method"),
        (("GET", "/relative"), ValueError, "url"),
        (("GET", "ftp://h/"), ValueError, "url"),
        (("GET", b"https://h/"), TypeError, "url"),
        (("GET", "https://h/", None, 42), TypeError, "body"),
    ],
)
def test_request_arguments_are_checked(args: tuple[object, ...], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Request(*args)  # type: ignore[arg-type]


def test_which_bodies_can_be_resent() -> None:
    assert Request("GET", "https://h/").can_resend()
    assert Request("PUT", "https://h/", body=b"x").can_resend()
    assert Request("PUT", "https://h/", body="x").can_resend()
    assert Request("PUT", "https://h/", body=io.BytesIO(b"x")).can_resend()

    class Pipe(io.RawIOBase):
        def seekable(self) -> bool:
            return False

    assert not Request("PUT", "https://h/", body=cast(IO[bytes], Pipe())).can_resend()


def test_rewind_body_goes_back_to_the_start_position() -> None:
    body = io.BytesIO(b"0123456789")
    body.seek(4)
    request = Request("PUT", "https://h/", body=body)
    body.read()
    request.rewind_body()
    assert body.read() == b"456789"
