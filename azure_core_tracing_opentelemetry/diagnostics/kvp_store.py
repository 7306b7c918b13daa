"""A KVP pool as a store: read, replace and remove records in place, under the writer's locks.

``KvpWriter`` appends; replacing a record (the one ``PROVISIONING_REPORT``, a ``write`` of the
command line) and removing records need the pool opened for reading and writing. Every change
here is made holding the pool's exclusive ``flock`` and POSIX ``lockf``, the locks the writer,
cloud-init, azure-init and ``hv_kvp_daemon`` take, and keeps the pool whole records: a torn
record left at the end by someone else is cut off first, as the writer does before appending.
The pool is never opened through a symbolic link, and is created with mode 0600.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Optional

from azure_core_tracing_opentelemetry.diagnostics.files import open_checked
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import (
    KEY_FIELD_BYTES,
    RECORD_BYTES,
)

_READ_FLAGS = os.O_RDONLY
_UPDATE_FLAGS = os.O_RDWR


@dataclass
class PoolContents:
    """The whole records of a pool as bytes, and the length of a torn piece after them."""

    records: list[bytes]
    torn_bytes: int
    regular: bool
    """False for a character device (``/dev/null``): nothing can be read back or rewritten."""


def open_pool(path: str, *, update: bool, create: bool = False) -> int:
    """A descriptor for the pool at ``path``: a regular file with one name, or a character device.

    ``update`` opens it for reading and writing (created with mode 0600 when ``create``), else
    for reading. An ``OSError`` when it cannot be opened or is none of those; for a symbolic
    link, one with ``errno.ELOOP`` whose ``strerror`` is ``files.SYMLINK_REFUSED``.
    """
    flags = (_UPDATE_FLAGS | (os.O_CREAT if create else 0)) if update else _READ_FLAGS
    return open_checked(path, flags, single_name=update)


def lock_pool(fd: int, *, exclusive: bool) -> None:
    """Take ``flock`` (cloud-init's and azure-init's lock) and ``lockf`` (``hv_kvp_daemon``'s).

    Both are let go when ``fd`` is closed. An ``OSError`` from a file system without locks.
    """
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    fcntl.lockf(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


@contextlib.contextmanager
def locked_pool(path: str, *, update: bool, create: bool = False) -> Iterator[int]:
    """``open_pool`` and ``lock_pool`` (exclusive when ``update``), closed on leaving."""
    fd = open_pool(path, update=update, create=create)
    try:
        lock_pool(fd, exclusive=update)
        yield fd
    finally:
        os.close(fd)


def read_pool(fd: int) -> PoolContents:
    """Every whole record of the pool open at ``fd``, from its start."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return PoolContents([], 0, regular=False)
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    data = b"".join(chunks)
    count, torn = divmod(len(data), RECORD_BYTES)
    records = [
        data[start : start + RECORD_BYTES] for start in range(0, count * RECORD_BYTES, RECORD_BYTES)
    ]
    return PoolContents(records, torn, regular=True)


def record_key(record: bytes) -> bytes:
    """A record's key field up to its first NUL, as ``hv_kvp_daemon`` reads it."""
    end = record.find(b"\x00", 0, KEY_FIELD_BYTES)
    return record[: KEY_FIELD_BYTES if end < 0 else end]


def rewrite_pool(fd: int, old: PoolContents, new: Sequence[bytes]) -> None:
    """Make the pool ``new``: only the records from the first that differs are written again."""
    if not old.regular:
        if new:
            _write_all(fd, b"".join(new), None)
        return
    same = 0
    for before, after in zip(old.records, new):
        if before != after:
            break
        same += 1
    tail = b"".join(new[same:])
    if tail:
        _write_all(fd, tail, same * RECORD_BYTES)
    if len(new) != len(old.records) or old.torn_bytes:
        os.ftruncate(fd, len(new) * RECORD_BYTES)
    elif not tail:
        os.utime(fd)  # nothing changed, but the pool was written this boot: not stale


def replace_record(fd: int, key: bytes, record: bytes) -> bool:
    """Put ``record`` in place of the first record under ``key`` and remove any later ones;
    append it when there is none. True when one was replaced.

    The caller holds the exclusive lock on ``fd`` (``lock_pool``).
    """
    contents = read_pool(fd)
    records: list[bytes] = []
    replaced = False
    for existing in contents.records:
        if record_key(existing) != key:
            records.append(existing)
        elif not replaced:
            records.append(record)
            replaced = True
    if not replaced:
        records.append(record)
    rewrite_pool(fd, contents, records)
    return replaced


def _write_all(fd: int, data: bytes, offset: Optional[int]) -> None:
    done = 0
    with memoryview(data) as view:
        while done < len(data):
            if offset is None:
                done += os.write(fd, view[done:])
            else:
                done += os.pwrite(fd, view[done:], offset + done)
