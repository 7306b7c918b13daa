"""What names a KVP event: ``<event_prefix>|<vm_id>|<LEVEL>|<name>|<uuid4>``, and the VM id."""

from __future__ import annotations

import binascii
import logging
import os
import random
import re
import struct
import uuid
from typing import NamedTuple, Optional

from azure_core_tracing import __version__
from azure_core_tracing_opentelemetry.diagnostics.escape import has_control, one_line
from azure_core_tracing_opentelemetry.diagnostics.utf8 import utf8_boundary

DEFAULT_EVENT_PREFIX = f"azure-core-tracing-{__version__}"
PRODUCT_UUID_PATH = "/sys/class/dmi/id/product_uuid"
SYSFS_EFI_PATH = "/sys/firmware/efi"  # present on a UEFI (Gen2) VM running Linux
DEV_EFI_PATH = "/dev/efi"  # and on BSD
ZERO_GUID = str(uuid.UUID(int=0))
_ID_SHAPE = ZERO_GUID  # as long as every record id
KEY_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "WARN", "ERROR"})
_SEPARATOR = "|"
_SEPARATOR_STAND_IN = "\u00a6"  # a broken bar keeps a name readable without adding a field
_ELLIPSIS = "\u2026".encode()
_PREFIX_MAX_BYTES = 64
MIN_NAME_BYTES = 32
"""The fewest bytes a writer's prefix and VM id must leave for a name, at the longest level."""
_LONGEST_LEVEL_BYTES = max(len(level) for level in KEY_LEVELS)
_FIELD_SEPARATORS = 4
_IDS_PER_DRAW = 256
# One 128-bit id per slot: clear the version nibble and variant bits, set version 4 and the
# RFC 4122 variant, in every slot of one integer at once.
_UUID4_CLEAR = sum(
    (((1 << 128) - 1) & ~((0xF000 << 64) | (0xC000 << 48))) << (128 * slot)
    for slot in range(_IDS_PER_DRAW)
)
_UUID4_SET = sum(((0x4000 << 64) | (0x8000 << 48)) << (128 * slot) for slot in range(_IDS_PER_DRAW))
_UUID_FIELDS = struct.Struct("8s4s4s4s12s" * _IDS_PER_DRAW)  # hex digits of 8-4-4-4-12 groups
_UUID_STRIDE = 37  # 36 characters and the dash that joins it to the next id
_spare_ids: list[str] = []

_FITTED_CACHED = 1024  # a process has one prefix and VM id, five levels, and its names
_fitted: dict[tuple[str, str, str, str, int], bytes] = {}
_key_heads: dict[tuple[str, str, str, str, int], str] = {}
_log = logging.getLogger(__name__)
_HYPHENATED = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The uuid crate's Uuid::parse_str forms (simple, hyphenated, braced, URN), which vm_id.rs
# takes after lower-casing; Python's uuid.UUID also takes hyphens anywhere and "urn:" inside.
_UUID_FORMS = re.compile(
    rf"[0-9a-f]{{32}}|{_HYPHENATED}|\{{{_HYPHENATED}\}}|urn:uuid:{_HYPHENATED}"
)
_RUST_ASCII_WHITESPACE = " \t\n\x0b\x0c\r"  # str.strip would also take \x1c-\x1f
_PRODUCT_UUID_MAX_BYTES = 65536  # sysfs gives 37; read whole, as vm_id.rs does, up to this


class KvpKey(NamedTuple):
    """The parts of an event key; only the name is shortened to fit, never mid-character.

    A named tuple, not a frozen dataclass: one is made per record, on the writer's thread.
    """

    prefix: str
    vm_id: str
    level: str
    name: str
    record_id: str

    def render(self, max_bytes: int) -> str:
        """The key in at most ``max_bytes`` UTF-8 bytes; a cut name ends with ``…``."""
        return self.encoded(max_bytes).decode("utf-8")

    def encoded(self, max_bytes: int) -> bytes:
        """``render`` as UTF-8 bytes; a ``ValueError`` for a level not in ``KEY_LEVELS``."""
        record_id = self.record_id
        if _SEPARATOR in record_id or not record_id.isprintable():
            record_id = _field(record_id)
        tail = ("|" + record_id).encode()
        room = max_bytes - len(tail)
        # Only the id differs between the records of one span or logger: the rest is fitted
        # once per (prefix, VM id, level, name, room).
        fitted_key = (self.prefix, self.vm_id, self.level, self.name, room)
        fitted = _fitted.get(fitted_key)
        if fitted is None:
            fitted = self._fitted(room, len(tail), max_bytes)
            if len(_fitted) >= _FITTED_CACHED:
                _fitted.clear()  # many names (ids in span names?): keep the recent ones
            _fitted[fitted_key] = fitted
        return fitted + tail

    def _fitted(self, room: int, tail_bytes: int, max_bytes: int) -> bytes:
        if self.level not in KEY_LEVELS:
            raise ValueError(f"level must be one of {sorted(KEY_LEVELS)}, got {self.level!r}")
        head = f"{_field(self.prefix)}|{_field(self.vm_id)}|{self.level}|".encode()
        name = _field(self.name).encode("utf-8", "replace")
        room -= len(head)
        if len(name) <= room:
            return head + name
        if room < 0:
            raise ValueError(
                f"a key for {self.prefix!r} needs {len(head) + tail_bytes} bytes before its "
                f"name, more than the {max_bytes} available"
            )
        cut = utf8_boundary(name, room - len(_ELLIPSIS))
        return head + (name[:cut] + _ELLIPSIS if cut >= 0 else name[: utf8_boundary(name, room)])


def event_key_head(prefix: str, vm_id: str, level: str, name: str, max_bytes: int) -> str:
    """A key for a value that takes one record, up to its id: add ``new_record_id()`` to it.

    The same text as ``new_event_key(prefix, vm_id, level, name).render(max_bytes)`` before
    the id (every id has the same length), made once per name rather than per record.
    """
    head_key = (prefix, vm_id, level, name, max_bytes)
    head = _key_heads.get(head_key)
    if head is None:
        head = KvpKey(prefix, vm_id, level, name, _ID_SHAPE).render(max_bytes)[: -len(_ID_SHAPE)]
        if len(_key_heads) >= _FITTED_CACHED:
            _key_heads.clear()
        _key_heads[head_key] = head
    return head


def new_event_key(prefix: str, vm_id: str, level: str, name: str) -> KvpKey:
    """A key for one record, with a fresh UUID4 so no two records share it."""
    return KvpKey(prefix, vm_id, level, name, new_record_id())


def new_record_id() -> str:
    """A random (version 4) UUID, as text.

    From ``random``'s generator (reseeded in every forked child) rather than ``uuid.uuid4()``:
    these ids need to be unique, not secret, and ``uuid4`` costs a system call and several
    microseconds per record. Drawn 256 at a time: one draw, one hex conversion and one join
    cost less than formatting each id alone. It pays: 0.23 µs an id against 2.3 µs for
    ``str(uuid.uuid4())`` (timeit, on the 2-core development machine), where the whole
    caller cost of a span is meant to stay under 2 µs.
    """
    while True:
        try:
            return _spare_ids.pop()  # atomic: threads never share an id
        except IndexError:
            _spare_ids.extend(_draw_record_ids())


def _draw_record_ids() -> list[str]:
    bits = (random.getrandbits(128 * _IDS_PER_DRAW) & _UUID4_CLEAR) | _UUID4_SET
    digits = binascii.hexlify(bits.to_bytes(16 * _IDS_PER_DRAW, "big"))
    text = b"-".join(_UUID_FIELDS.unpack(digits)).decode("ascii")
    return [text[start : start + 36] for start in range(0, len(text), _UUID_STRIDE)]


def check_event_prefix(prefix: str) -> str:
    """Reject a prefix that would break the key's fields or leave no room for a name."""
    if not isinstance(prefix, str) or not prefix:
        raise TypeError(f"event_prefix must be a non-empty str, got {prefix!r}")
    # has_control first: it finds the lone surrogates that encode() would raise on.
    if (
        _SEPARATOR in prefix
        or has_control(prefix)
        or len(prefix.encode("utf-8")) > _PREFIX_MAX_BYTES
    ):
        raise ValueError(
            f"event_prefix must hold no '|', control character, line separator or lone "
            f"surrogate, and at most {_PREFIX_MAX_BYTES} UTF-8 bytes, got {prefix!r}"
        )
    return prefix


def check_vm_id_text(vm_id: object) -> str:
    """Reject a VM id that is not a str, or holds a '|', a control character, a line
    separator or a lone surrogate (which has no UTF-8)."""
    if not isinstance(vm_id, str):
        raise TypeError(f"vm_id must be a str, got {type(vm_id).__name__}")
    if _SEPARATOR in vm_id or has_control(vm_id):
        raise ValueError(
            f"vm_id must hold no '|', control character, line separator or lone surrogate, "
            f"got {vm_id!r}"
        )
    return vm_id


def name_room(prefix: str, vm_id: str, key_bytes: int) -> int:
    """The bytes a key of ``key_bytes`` leaves for the name at the longest level, with its id.

    Check ``prefix`` and ``vm_id`` first: they must encode as UTF-8.
    """
    fixed = _FIELD_SEPARATORS * len(_SEPARATOR) + _LONGEST_LEVEL_BYTES + len(_ID_SHAPE)
    return key_bytes - len(prefix.encode("utf-8")) - len(vm_id.encode("utf-8")) - fixed


def read_vm_id(
    path: str = PRODUCT_UUID_PATH,
    *,
    sysfs_efi_path: str = SYSFS_EFI_PATH,
    dev_efi_path: str = DEV_EFI_PATH,
) -> str:
    """The VM id as the host and IMDS report it; the zero GUID when it cannot be read.

    ``system_vm_id`` with the same paths, or ``ZERO_GUID`` (and one WARNING) where that is None.
    """
    vm_id = system_vm_id(path, sysfs_efi_path=sysfs_efi_path, dev_efi_path=dev_efi_path)
    if vm_id is None:
        # Often unreadable without root: records are still written, under the zero GUID.
        _log.warning("VM id unreadable from %s; KVP keys use %s", path, ZERO_GUID)
        return ZERO_GUID
    return vm_id


def system_vm_id(
    path: str = PRODUCT_UUID_PATH,
    *,
    sysfs_efi_path: str = SYSFS_EFI_PATH,
    dev_efi_path: str = DEV_EFI_PATH,
) -> Optional[str]:
    """The SMBIOS system UUID at ``path``, lower-cased, as azure-init's ``vm_id.rs`` reads it.

    On a Gen1 VM (BIOS: neither ``sysfs_efi_path`` nor ``dev_efi_path`` exists) the first three
    fields are byte-swapped: SMBIOS 2.3 stores them little-endian, Linux prints them big-endian,
    and the host and IMDS use the little-endian reading. None when the file cannot be read or
    does not hold a UUID.
    """
    try:
        with open(path, "rb") as file:
            raw = file.read(_PRODUCT_UUID_MAX_BYTES + 1)
        text = raw.decode("ascii").strip(_RUST_ASCII_WHITESPACE).lower()
    except (OSError, ValueError):
        return None
    if len(raw) > _PRODUCT_UUID_MAX_BYTES or not _UUID_FORMS.fullmatch(text):
        return None
    system_uuid = uuid.UUID(text)
    if os.path.exists(sysfs_efi_path) or os.path.exists(dev_efi_path):
        return str(system_uuid)  # Gen2 (UEFI, SMBIOS 3.1): as the firmware gives it
    return str(uuid.UUID(bytes=system_uuid.bytes_le))


def _field(text: str) -> str:
    # Controls escaped (NUL, which ends the key for the host, among them), then '|' stood in for.
    text = one_line(text)
    if _SEPARATOR in text:
        return text.replace(_SEPARATOR, _SEPARATOR_STAND_IN)
    return text


if hasattr(os, "register_at_fork"):
    # The parent keeps drawing from the ids it holds: a child must not hand out the same ones.
    os.register_at_fork(after_in_child=_spare_ids.clear)
