"""Where a URL's authority (user info, host and port) is, as RFC 3986 reads it."""

from __future__ import annotations


def authority_bounds(url: str) -> tuple[int, int]:
    """The start and end of ``url``'s authority: after ``//``, up to the first ``/``, ``?`` or
    ``#``; an empty span at the end of ``url`` where it has no ``//``."""
    start = url.find("//")
    if start < 0:
        return len(url), len(url)
    start += 2
    end = len(url)
    for delimiter in "/?#":
        at = url.find(delimiter, start, end)
        if at != -1:
            end = at
    return start, end
