"""``ProvisioningReport``: the health report the host reads under ``PROVISIONING_REPORT``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional, Union

from azure_core_tracing.http import HttpSanitizer
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import VALUE_CHUNK_MAX_BYTES

PROVISIONING_REPORT_KEY = "PROVISIONING_REPORT"
HEALTH_REPORT_FIELD = "health_report"
"""The span event attribute, or ``logging`` ``extra`` field, that carries a report."""
PPS_TYPES = ("None", "PreprovisionedOSDisk", "Running", "Savable", "Unknown")
"""azure-init's ``ReportPpsType`` wire strings (IMDS ``ppsType``)."""
REPORT_MAX_BYTES = VALUE_CHUNK_MAX_BYTES  # the host reads one record: azure-init's safe limit
_RESERVED = frozenset(
    {"result", "reason", "agent", "pps_type", "vm_id", "timestamp", "documentation_url"}
)
_NEEDS_QUOTES = ("|", '"', "\r", "\n")
_URL_SANITIZER = HttpSanitizer()
ExtraValue = Union[str, int, float, bool]


@dataclass(frozen=True)
class ProvisioningReport:
    """A provisioning outcome, encoded as azure-init encodes it: ``key=value`` fields joined by
    ``|``, at most ``REPORT_MAX_BYTES`` (a ``ValueError`` beyond)."""

    result: str
    agent: str
    vm_id: str
    timestamp: datetime
    reason: Optional[str] = None
    extra: tuple[tuple[str, str], ...] = ()
    pps_type: str = "None"
    documentation_url: Optional[str] = None

    def __post_init__(self) -> None:
        if self.result not in ("success", "error"):
            raise ValueError(f"result must be 'success' or 'error', got {self.result!r}")
        if (self.result == "error") != (self.reason is not None):
            raise ValueError("an error report needs a reason, and only an error report has one")
        if not isinstance(self.timestamp, datetime) or self.timestamp.utcoffset() is None:
            raise ValueError(f"timestamp must be a timezone-aware datetime, got {self.timestamp!r}")
        if not isinstance(self.pps_type, str) or self.pps_type not in PPS_TYPES:
            raise ValueError(
                f"pps_type must be one of {', '.join(PPS_TYPES)}; got {self.pps_type!r}"
            )
        if self.documentation_url is not None and self.result != "error":
            raise ValueError("only an error report has a documentation_url")
        size = len(self.encode().encode("utf-8", "surrogatepass"))
        if size > REPORT_MAX_BYTES:
            raise ValueError(
                f"the encoded report is {size} UTF-8 bytes, more than the {REPORT_MAX_BYTES} "
                "of the one KVP record the host reads"
            )

    @classmethod
    def success(
        cls, agent: str, vm_id: str, *, pps_type: str = "None", **extra: ExtraValue
    ) -> ProvisioningReport:
        """A success report, time-stamped now; ``extra`` fields follow in the order given."""
        return cls(
            "success",
            _text("agent", agent),
            _text("vm_id", vm_id),
            _now(),
            None,
            _extra(extra),
            pps_type,
        )

    @classmethod
    def error(
        cls,
        reason: str,
        agent: str,
        vm_id: str,
        *,
        pps_type: str = "None",
        documentation_url: Optional[str] = None,
        **extra: ExtraValue,
    ) -> ProvisioningReport:
        """A failure report with its ``reason``, time-stamped now; ``documentation_url`` (its
        query values redacted as the HTTP sanitizer does) is the last field when given."""
        if documentation_url is not None:
            documentation_url = _URL_SANITIZER.sanitize_url(
                _text("documentation_url", documentation_url)
            )
        return cls(
            "error",
            _text("agent", agent),
            _text("vm_id", vm_id),
            _now(),
            _text("reason", reason),
            _extra(extra),
            pps_type,
            documentation_url,
        )

    def encode(self) -> str:
        """The report as the host parses it; a field holding ``|``, ``"``, CR or LF is quoted
        with ``"`` and its ``"`` doubled, as the ``csv`` crate azure-init uses does."""
        extra = [f"{name}={value}" for name, value in self.extra]
        tail = [f"pps_type={self.pps_type}", f"vm_id={self.vm_id}", f"timestamp={_rfc3339(self)}"]
        if self.result == "error":
            fields = ["result=error", f"reason={self.reason}", f"agent={self.agent}", *extra, *tail]
            if self.documentation_url is not None:
                fields.append(f"documentation_url={self.documentation_url}")
        else:
            fields = ["result=success", f"agent={self.agent}", *tail, *extra]
        return "|".join(_quoted(field) for field in fields)

    def __str__(self) -> str:
        return self.encode()


def _rfc3339(report: ProvisioningReport) -> str:
    # chrono's to_rfc3339(): as many fraction digits as the time needs (none, 3 or 6 here).
    stamp = report.timestamp.astimezone(timezone.utc)
    micro = stamp.microsecond
    if micro == 0:
        spec = "seconds"
    elif micro % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return stamp.isoformat(timespec=spec)


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
