"""``Transport``: what ``HttpTransport`` and ``AsyncHttpTransport`` (in ``http.transport``) both
are, so the client options can check a transport without importing the HTTP layer above them."""

from __future__ import annotations

from abc import ABC


class Transport(ABC):  # noqa: B024 - a marker: each kind declares its own abstract send
    """The base of both transport kinds; a pipeline checks the kind it needs when it is built."""
