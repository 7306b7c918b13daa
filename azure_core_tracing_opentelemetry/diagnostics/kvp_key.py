"""What names a KVP event: ``<event_prefix>|<vm_id>|<LEVEL>|<name>|<uuid4>``, and the VM id."""

from __future__ import annotations

import logging
import random
import uuid
from typing import NamedTuple

from azure_core_tracing import __version__
from azure_core_tracing_opentelemetry.diagnostics.utf8 import utf8_boundary

DEFAULT_EVENT_PREFIX = f"azure-core-tracing-{__version__}"
PRODUCT_UUID_PATH = "/sys/class/dmi/id/product_uuid"
ZERO_GUID = str(uuid.UUID(int=0))
KEY_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "WARN", "ERROR"})
_SEPARATOR = "|"
_SEPARATOR_STAND_IN = "\u00a6"  # a broken bar keeps a name readable without adding a field
_ELLIPSIS = "\u2026".encode()
_PREFIX_MAX_BYTES = 64
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))  # the version nibble and variant bits
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant

_HEADS_CACHED = 64  # a process has one prefix and VM id, times five levels
_heads: dict[tuple[str, str, str], bytes] = {}
_log = logging.getLogger(__name__)


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
        head = _heads.get((self.prefix, self.vm_id, self.level))
        if head is None:
            if self.level not in KEY_LEVELS:
                raise ValueError(f"level must be one of {sorted(KEY_LEVELS)}, got {self.level!r}")
            head = f"{_field(self.prefix)}|{_field(self.vm_id)}|{self.level}|".encode()
            if len(_heads) < _HEADS_CACHED:
                _heads[(self.prefix, self.vm_id, self.level)] = head
        tail = ("|" + _field(self.record_id)).encode()
        name = _field(self.name).encode("utf-8", "replace")
        room = max_bytes - len(head) - len(tail)
        if len(name) <= room:
            return head + name + tail
        if room < 0:
            raise ValueError(
                f"a key for {self.prefix!r} needs {len(head) + len(tail)} bytes before its "
                f"name, more than the {max_bytes} available"
            )
        cut = utf8_boundary(name, room - len(_ELLIPSIS))
        name = name[:cut] + _ELLIPSIS if cut >= 0 else name[: utf8_boundary(name, room)]
        return head + name + tail


def new_event_key(prefix: str, vm_id: str, level: str, name: str) -> KvpKey:
    """A key for one record, with a fresh UUID4 so no two records share it."""
    return KvpKey(prefix, vm_id, level, name, new_record_id())


def new_record_id() -> str:
    """A random (version 4) UUID, as text.

    From ``random``'s generator, reseeded in every forked child, rather than ``uuid.uuid4()``:
    these ids need to be unique, not secret, and ``uuid4`` costs a system call and several
    microseconds per record.
    """
    bits = (random.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def check_event_prefix(prefix: str) -> str:
    """Reject a prefix that would break the key's fields or leave no room for a name."""
    if not isinstance(prefix, str) or not prefix:
        raise TypeError(f"event_prefix must be a non-empty str, got {prefix!r}")
    if _SEPARATOR in prefix or "\x00" in prefix or len(prefix.encode()) > _PREFIX_MAX_BYTES:
        raise ValueError(
            f"event_prefix must hold no '|' or NUL and at most {_PREFIX_MAX_BYTES} bytes, "
            f"got {prefix!r}"
        )
    return prefix


def read_vm_id(path: str = PRODUCT_UUID_PATH) -> str:
    """The VM id: the SMBIOS product UUID, lower-cased; the zero GUID when it cannot be read."""
    try:
        with open(path, "rb") as file:
            text = file.read(128).decode("ascii").strip()
        return str(uuid.UUID(text))
    except (OSError, ValueError) as error:
        # Often unreadable without root: records are still written, under the zero GUID.
        _log.warning(
            "VM id unreadable from %s (%s); KVP keys use %s", path, type(error).__name__, ZERO_GUID
        )
        return ZERO_GUID


def _field(text: str) -> str:
    if _SEPARATOR in text or "\x00" in text:
        return text.replace(_SEPARATOR, _SEPARATOR_STAND_IN).replace("\x00", "\ufffd")
    return text
