"""Cutting UTF-8 bytes only between characters: the host rejects a record with half of one."""

from __future__ import annotations


def utf8_boundary(data: bytes, limit: int) -> int:
    """The largest cut ``<= limit`` that does not split a character (-1 when ``limit < 0``)."""
    if limit < 0:
        return -1
    if limit >= len(data):
        return len(data)
    while limit > 0 and (data[limit] & 0xC0) == 0x80:  # 10xxxxxx: inside a character
        limit -= 1
    return limit


def split_utf8(data: bytes, max_bytes: int) -> list[bytes]:
    """``data`` in pieces of at most ``max_bytes``, each whole characters; ``[b""]`` if empty."""
    if max_bytes < 4:  # the longest UTF-8 character must fit, or no piece could be cut
        raise ValueError(f"max_bytes must be at least 4, got {max_bytes}")
    if len(data) <= max_bytes:
        return [data]
    pieces = []
    start = 0
    while start < len(data):
        end = start + max_bytes
        if end >= len(data):
            end = len(data)
        else:
            cut = end
            while cut > start and (data[cut] & 0xC0) == 0x80:  # 10xxxxxx: inside a character
                cut -= 1
            end = cut if cut > start else end  # no boundary at all: not UTF-8, cut anyway
        pieces.append(data[start:end])
        start = end
    return pieces
