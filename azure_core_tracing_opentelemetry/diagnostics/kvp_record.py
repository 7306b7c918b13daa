"""The Hyper-V KVP pool format: fixed-size records, end to end, as ``hv_kvp_daemon`` reads them.

A record is a NUL-padded UTF-8 key field followed by a NUL-padded UTF-8 value field; there is no
header. The host sees at most ``KEY_MAX_BYTES`` of a key and ``VALUE_CHUNK_MAX_BYTES`` of a value
(the kernel converts 254 and 1022 UTF-16 units, and never more units than UTF-8 bytes), so a
longer value is split, between characters, over records whose keys end in ``|0``, ``|1``, ….
A value that fits in one record keeps its key as it is, with no suffix.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import struct
from dataclasses import dataclass
from typing import List, Union

from azure_core_tracing_opentelemetry.diagnostics.kvp_key import KvpKey
from azure_core_tracing_opentelemetry.diagnostics.utf8 import split_utf8

KEY_FIELD_BYTES = 512
VALUE_FIELD_BYTES = 2048
RECORD_BYTES = KEY_FIELD_BYTES + VALUE_FIELD_BYTES
KEY_MAX_BYTES = 254
VALUE_CHUNK_MAX_BYTES = 1022
_NUL = b"\x00"
_RECORD = struct.Struct(f"{KEY_FIELD_BYTES}s{VALUE_FIELD_BYTES}s")  # pads each field with NUL
_CHUNK_KEY = re.compile(r"(.*)\|(0|[1-9][0-9]{0,8})", re.DOTALL)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KvpRecord:
    """One key and value as read from a pool; ``chunks`` records were joined to make it."""

    key: str
    value: str
    chunks: int = 1


class KvpRecords(List[KvpRecord]):
    """The records of a pool, with ``partial_bytes``: the length of an ignored trailing piece."""

    partial_bytes: int = 0


def encode_kvp_record(key: Union[str, KvpKey], value: str) -> bytes:
    """One record, or several of them end to end when ``value`` needs more than one.

    A ``KvpKey`` is shortened to fit (its name only); a ``str`` key that does not fit, with the
    chunk suffix when there is one, is a ``ValueError``. NUL, which would end a field early for
    the host, is replaced by U+FFFD.
    """
    data = _value_bytes(value)
    if len(data) <= VALUE_CHUNK_MAX_BYTES:
        return _RECORD.pack(_key_bytes(key, KEY_MAX_BYTES), data)
    chunks = split_utf8(data, VALUE_CHUNK_MAX_BYTES)
    base = _key_bytes(key, KEY_MAX_BYTES - len(f"|{len(chunks) - 1}"))
    return b"".join(
        _RECORD.pack(base + b"|%d" % index, chunk) for index, chunk in enumerate(chunks)
    )


def pack_kvp_record(buffer: bytearray, offset: int, key: Union[str, KvpKey], value: str) -> int:
    """``encode_kvp_record(key, value)`` written into ``buffer`` at ``offset``; the end offset.

    ``buffer`` grows when the records do not fit. A writer packs a whole batch into one buffer
    it keeps: no bytes object per record, no join, no fresh memory for each batch.
    """
    end = offset + RECORD_BYTES
    if (
        type(value) is str
        and len(value) <= VALUE_CHUNK_MAX_BYTES
        and value.isascii()
        and "\x00" not in value
        and end <= len(buffer)
    ):
        # The common record: an ASCII value is as many bytes as characters, so it fits one
        # record and has nothing to replace. So does the common key (checked as _key_bytes
        # does first, without the call).
        if (
            type(key) is str
            and key.isascii()
            and 0 < len(key) <= KEY_MAX_BYTES
            and "\x00" not in key
        ):
            key_bytes = key.encode("ascii")
        else:
            key_bytes = _key_bytes(key, KEY_MAX_BYTES)
        _RECORD.pack_into(buffer, offset, key_bytes, value.encode("ascii"))
        return end
    records = encode_kvp_record(key, value)
    buffer[offset : offset + len(records)] = records
    return offset + len(records)


def _value_bytes(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"value must be a str, got {type(value).__name__}")
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value.encode("utf-8", "replace")


def _key_bytes(key: Union[str, KvpKey], max_bytes: int) -> bytes:
    if type(key) is str and key.isascii() and 0 < len(key) <= max_bytes and "\x00" not in key:
        return key.encode("ascii")  # the common key: one byte per character, nothing to check
    if isinstance(key, KvpKey):
        return key.encoded(max_bytes)
    if not isinstance(key, str):
        raise TypeError(f"key must be a str or KvpKey, got {type(key).__name__}")
    encoded = key.encode("utf-8", "replace")
    if not encoded or "\x00" in key or len(encoded) > max_bytes:
        raise ValueError(
            f"key must be 1 to {max_bytes} UTF-8 bytes without NUL here, got {len(encoded)} "
            f"bytes: {key[:40]!r}…"
        )
    return encoded


def read_kvp_pool(path: Union[str, os.PathLike[str]], *, join_chunks: bool = False) -> KvpRecords:
    """The records of the pool at ``path``, in file order, each field read up to its first NUL.

    The pool is read under a shared ``flock``, so no cooperating writer is half-way through a
    batch. A trailing piece shorter than a record is ignored, as ``hv_kvp_daemon`` ignores it:
    its length is in ``partial_bytes`` and a WARNING is logged. ``join_chunks`` puts each
    complete run of ``<key>|0`` … ``<key>|<n-1>`` (n >= 2) back together as one record under
    ``<key>``, at the place of its first chunk; an incomplete run is left as it is.
    """
    with open(path, "rb") as file:
        with contextlib.suppress(OSError):  # a file system without locks: read what is there
            fcntl.flock(file.fileno(), fcntl.LOCK_SH)
            fcntl.lockf(file.fileno(), fcntl.LOCK_SH)
        data = file.read()
    count, partial = divmod(len(data), RECORD_BYTES)
    records = KvpRecords(
        _decode(data, offset) for offset in range(0, count * RECORD_BYTES, RECORD_BYTES)
    )
    if partial:
        _log.warning(
            "ignored a trailing partial KVP record: %d bytes after %d whole records in %s",
            partial,
            count,
            os.fspath(path),
        )
    result = _joined(records) if join_chunks else records
    result.partial_bytes = partial
    return result


def pack_raw_record(key: bytes, value: bytes) -> bytes:
    """One record of ``key`` and ``value`` as they are, NUL-padded: each must fit its field."""
    if len(key) > KEY_FIELD_BYTES or len(value) > VALUE_FIELD_BYTES:
        raise ValueError(
            f"a key takes at most {KEY_FIELD_BYTES} bytes, a value {VALUE_FIELD_BYTES}"
        )
    return _RECORD.pack(key, value)


def decode_kvp_record(record: bytes) -> KvpRecord:
    """The key and value of one ``RECORD_BYTES`` record, each read up to its first NUL."""
    return _decode(record, 0)


def join_kvp_chunks(records: List[KvpRecord]) -> KvpRecords:
    """``records`` with each complete chunk run joined, as ``read_kvp_pool(join_chunks=True)``."""
    return _joined(KvpRecords(records))


def _decode(data: bytes, offset: int) -> KvpRecord:
    return KvpRecord(
        _field(data, offset, offset + KEY_FIELD_BYTES),
        _field(data, offset + KEY_FIELD_BYTES, offset + RECORD_BYTES),
    )


def _field(data: bytes, start: int, end: int) -> str:
    nul = data.find(_NUL, start, end)
    return data[start : end if nul < 0 else nul].decode("utf-8", "replace")


def _joined(records: KvpRecords) -> KvpRecords:
    runs: dict[str, dict[int, int]] = {}
    for position, record in enumerate(records):
        match = _CHUNK_KEY.fullmatch(record.key)
        if match:
            indexes = runs.setdefault(match.group(1), {})
            # A repeated index makes the run ambiguous: mark it so it is left alone.
            indexes[int(match.group(2))] = -1 if int(match.group(2)) in indexes else position
    joined: dict[int, KvpRecord] = {}
    absorbed: set[int] = set()
    for base, indexes in runs.items():
        positions = [indexes.get(index, -1) for index in range(len(indexes))]
        if len(positions) < 2 or -1 in positions:
            continue
        value = "".join(records[position].value for position in positions)
        joined[min(positions)] = KvpRecord(base, value, len(positions))
        absorbed.update(positions)
    result = KvpRecords()
    for position, record in enumerate(records):
        if position in joined:
            result.append(joined[position])
        elif position not in absorbed:
            result.append(record)
    return result
