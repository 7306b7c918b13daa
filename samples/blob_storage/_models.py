"""What the clients return."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlobProperties:
    """A blob's name and system properties, from ``get_blob_properties`` or a listing."""

    name: str
    container: str
    size: int
    etag: str
    """Quoted, as the ``ETag`` header: pass it as ``if_match`` to act only on this version."""
    last_modified: str
    content_type: str
