"""``ProvisioningReport``: the health report the host reads under ``PROVISIONING_REPORT``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional, Union

PROVISIONING_REPORT_KEY = "PROVISIONING_REPORT"
HEALTH_REPORT_FIELD = "health_report"
"""The span event attribute, or ``logging`` ``extra`` field, that carries a report."""
DOCUMENTATION_URL = "https://aka.ms/linuxprovisioningerror"
_PPS_TYPE = "None"
_RESERVED = frozenset(
    {"result", "reason", "agent", "pps_type", "vm_id", "timestamp", "documentation_url"}
)
_NEEDS_QUOTES = ("|", '"', "\r", "\n")
ExtraValue = Union[str, int, float, bool]


@dataclass(frozen=True)
class ProvisioningReport:
    """A provisioning outcome, encoded as ``key=value`` fields joined by ``|``."""

    result: str
    agent: str
    vm_id: str
    timestamp: datetime
    reason: Optional[str] = None
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.result not in ("success", "error"):
            raise ValueError(f"result must be 'success' or 'error', got {self.result!r}")
        if (self.result == "error") != (self.reason is not None):
            raise ValueError("an error report needs a reason, and only an error report has one")
        if not isinstance(self.timestamp, datetime) or self.timestamp.utcoffset() is None:
            raise ValueError(f"timestamp must be a timezone-aware datetime, got {self.timestamp!r}")

    @classmethod
    def success(cls, agent: str, vm_id: str, **extra: ExtraValue) -> ProvisioningReport:
        """A success report, time-stamped now; ``extra`` fields follow in the order given."""
        return cls(
            "success", _text("agent", agent), _text("vm_id", vm_id), _now(), None, _extra(extra)
        )

    @classmethod
    def error(cls, reason: str, agent: str, vm_id: str, **extra: ExtraValue) -> ProvisioningReport:
        """A failure report with its ``reason``, time-stamped now."""
        return cls(
            "error",
            _text("agent", agent),
            _text("vm_id", vm_id),
            _now(),
            _text("reason", reason),
            _extra(extra),
        )

    def encode(self) -> str:
        """The report as the host parses it; a field holding ``|``, ``"``, CR or LF is quoted."""
        stamp = self.timestamp.astimezone(timezone.utc).isoformat(timespec="microseconds")
        extra = [f"{name}={value}" for name, value in self.extra]
        tail = [f"pps_type={_PPS_TYPE}", f"vm_id={self.vm_id}", f"timestamp={stamp}"]
        if self.result == "error":
            fields = [
                "result=error",
                f"reason={self.reason}",
                f"agent={self.agent}",
                *extra,
                *tail,
                f"documentation_url={DOCUMENTATION_URL}",
            ]
        else:
            fields = ["result=success", f"agent={self.agent}", *tail, *extra]
        return "|".join(_quoted(field) for field in fields)

    def __str__(self) -> str:
        return self.encode()


def _quoted(field: str) -> str:
    if any(mark in field for mark in _NEEDS_QUOTES):
        return '"' + field.replace('"', '""') + '"'
    return field


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def _extra(fields: dict[str, ExtraValue]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for name, value in fields.items():
        if name in _RESERVED or not name or any(mark in name for mark in ("=", *_NEEDS_QUOTES)):
            raise ValueError(
                f"extra field name {name!r} is reserved or holds '=', '|', '\"', CR or LF"
            )
        if not isinstance(value, (str, int, float, bool)):
            kind = type(value).__name__
            raise TypeError(f"extra field {name!r} must be a str, int, float or bool, got {kind}")
        pairs.append((name, str(value)))
    return tuple(pairs)
