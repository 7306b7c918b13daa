"""A request body: what it may be (``check_body``) and where a stream starts, so it can be
rewound before it is sent again (``start_position``, ``rewind``)."""

from __future__ import annotations

import io
from typing import IO, Optional, Union, cast

from azure_core_tracing.checks import is_unicode, type_name

RequestBody = Union[bytes, str, IO[bytes]]


def check_body(body: object) -> Optional[RequestBody]:
    """``body`` if it is None, bytes, UTF-8 text or a binary file-like object."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        if not is_unicode(body):  # the message says where, never what: the body may be secret
            raise ValueError("body must be text that can be written as UTF-8 (no lone surrogate)")
        return body
    if callable(getattr(body, "read", None)) and not isinstance(body, io.TextIOBase):
        return cast(IO[bytes], body)
    raise TypeError(f"body must be bytes, str or a binary file-like object, got {type_name(body)}")


def start_position(body: Optional[RequestBody]) -> int:
    """The stream position a body starts at, or -1 when it cannot be rewound."""
    if body is None or isinstance(body, (bytes, str)):
        return -1
    try:
        if body.seekable():
            return body.tell()
    except (AttributeError, OSError, ValueError):
        pass
    return -1


def rewind(body: Optional[RequestBody], position: int) -> None:
    """Seek a stream body back to ``position`` (from ``start_position``; -1: it cannot be)."""
    if position >= 0 and body is not None and not isinstance(body, (bytes, str)):
        body.seek(position)
