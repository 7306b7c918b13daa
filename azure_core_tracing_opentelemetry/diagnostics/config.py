"""``TelemetryConfig`` from a TOML file, and which filter each layer uses (env > config > default).

The file holds (every key optional)::

    [telemetry]
    kvp_diagnostics = true            # write KVP records at all
    kvp_filter = "warn,my_agent=info" # EnvFilter-style directives for the KVP layer

    [azure_init_log_path]
    path = "/var/log/azure-init.log"  # the file layer
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional, Union

from azure_core_tracing_opentelemetry.diagnostics.filter import EnvFilter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11
    import tomli as tomllib

DEFAULT_LOG_PATH = "/var/log/azure-init.log"
KVP_FILTER_ENV = "AZURE_INIT_KVP_FILTER"
LOG_FILTER_ENV = "AZURE_INIT_LOG"
DEFAULT_KVP_FILTER = "warn,azure_core_tracing=info,azure_core_tracing_opentelemetry=info"
DEFAULT_STDERR_FILTER = "error"
DEFAULT_FILE_FILTER = "info"
_SCHEMA: dict[str, dict[str, type]] = {
    "telemetry": {"kvp_diagnostics": bool, "kvp_filter": str},
    "azure_init_log_path": {"path": str},
}
_KIND_NAMES: dict[type, str] = {
    bool: "a boolean",
    str: "a string",
    int: "an integer",
    float: "a float",
    dict: "a table",
    list: "an array",
}
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TelemetryConfig:
    """What the configuration file says about diagnostics; defaults for what it leaves out."""

    kvp_diagnostics: bool = True
    kvp_filter: Optional[str] = None
    log_path: str = DEFAULT_LOG_PATH

    def __post_init__(self) -> None:
        if not isinstance(self.kvp_diagnostics, bool):
            raise TypeError(f"kvp_diagnostics must be a bool, got {self.kvp_diagnostics!r}")
        if self.kvp_filter is not None and not isinstance(self.kvp_filter, str):
            raise TypeError(f"kvp_filter must be a str or None, got {self.kvp_filter!r}")
        if not isinstance(self.log_path, str) or not self.log_path or "\x00" in self.log_path:
            raise ValueError(f"log_path must be a non-empty path, got {self.log_path!r}")


def load_config(path: Union[str, os.PathLike[str]]) -> TelemetryConfig:
    """Read ``path``; an unknown key, a wrong type or bad TOML is a ``ValueError`` naming both."""
    where = os.fspath(path)
    with open(where, "rb") as file:
        raw = file.read()
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{where}: not valid TOML: {error}") from None
    values: dict[str, Any] = {}
    for section, table in document.items():
        keys = _SCHEMA.get(section)
        if keys is None:
            raise ValueError(f"{where}: unknown key {section!r} (known: {', '.join(_SCHEMA)})")
        if not isinstance(table, dict):
            raise ValueError(f"{where}: {section!r} must be a table, got {_kind(table)}")
        for key, value in table.items():
            expected = keys.get(key)
            if expected is None:
                raise ValueError(
                    f"{where}: unknown key '{section}.{key}' (known: {', '.join(keys)})"
                )
            if type(value) is not expected:
                raise ValueError(
                    f"{where}: '{section}.{key}' must be {_KIND_NAMES[expected]}, "
                    f"got {_kind(value)}"
                )
            values[key] = value
    try:
        return TelemetryConfig(
            kvp_diagnostics=values.get("kvp_diagnostics", True),
            kvp_filter=values.get("kvp_filter"),
            log_path=values.get("path", DEFAULT_LOG_PATH),
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: 'azure_init_log_path.path': {error}") from None


def kvp_filter_for(
    config: TelemetryConfig, environ: Optional[Mapping[str, str]] = None
) -> EnvFilter:
    """``AZURE_INIT_KVP_FILTER``, else the config's ``kvp_filter``, else the default.

    An empty value counts as unset; an invalid one is logged as a WARNING and skipped.
    """
    env = os.environ if environ is None else environ
    candidates = (
        (f"environment variable {KVP_FILTER_ENV}", env.get(KVP_FILTER_ENV)),
        ("kvp_filter from the configuration", config.kvp_filter),
    )
    for source, text in candidates:
        if text is None or not text.strip():
            continue
        try:
            return EnvFilter(text)
        except ValueError as error:
            _log.warning("ignoring the %s: %s; trying the next setting", source, error)
    return EnvFilter(DEFAULT_KVP_FILTER)


def log_filters_for(environ: Optional[Mapping[str, str]] = None) -> tuple[EnvFilter, EnvFilter]:
    """The stderr and file filters: both ``AZURE_INIT_LOG`` when set and valid, else
    ``error`` for stderr and ``info`` for the file."""
    env = os.environ if environ is None else environ
    text = env.get(LOG_FILTER_ENV)
    if text is not None and text.strip():
        try:
            chosen = EnvFilter(text)
            return chosen, chosen
        except ValueError as error:
            _log.warning("ignoring environment variable %s: %s", LOG_FILTER_ENV, error)
    return EnvFilter(DEFAULT_STDERR_FILTER), EnvFilter(DEFAULT_FILE_FILTER)


def _kind(value: object) -> str:
    name = _KIND_NAMES.get(type(value), f"a {type(value).__name__}")
    return f"{name} ({value!r:.40})"
