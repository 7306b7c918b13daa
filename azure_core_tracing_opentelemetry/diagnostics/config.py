"""``TelemetryConfig`` as azure-init loads it, and which filter each layer uses.

The sources are merged as azure-init's ``Config::load`` merges them with figment: built-in
defaults, then the base file (``/etc/azure-init.toml``), then every ``*.toml`` in the drop-in
directory (``/etc/azure-init.d/``) in lexical order, then an explicit path (a file, or a
directory of ``*.toml`` merged the same way). Later wins key by key: tables are merged
recursively, anything else (arrays included) is replaced. A path that is not a regular file is
skipped, as figment skips it. The keys this library reads (every one optional)::

    [telemetry]
    kvp_diagnostics = true            # write KVP records at all
    kvp_filter = "warn,my_agent=info" # EnvFilter-style directives for the KVP layer

    [azure_init_log_path]
    path = "/var/log/azure-init.log"  # the file layer

Every other section and key (``[ssh]``, ``[imds]``, …) is azure-init's, and ignored here.
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

BASE_CONFIG_PATH = "/etc/azure-init.toml"
DROP_IN_CONFIG_DIR = "/etc/azure-init.d"
DEFAULT_LOG_PATH = "/var/log/azure-init.log"
KVP_FILTER_ENV = "AZURE_INIT_KVP_FILTER"
LOG_FILTER_ENV = "AZURE_INIT_LOG"
DEFAULT_KVP_FILTER = "warn,azure_core_tracing=info,azure_core_tracing_opentelemetry=info"
DEFAULT_STDERR_FILTER = "error"
DEFAULT_FILE_FILTER = "info"
# (section, key) -> (the TelemetryConfig field, the TOML type): the only keys read.
_SCHEMA: dict[tuple[str, str], tuple[str, type]] = {
    ("telemetry", "kvp_diagnostics"): ("kvp_diagnostics", bool),
    ("telemetry", "kvp_filter"): ("kvp_filter", str),
    ("azure_init_log_path", "path"): ("log_path", str),
}
_SECTIONS = frozenset(section for section, _ in _SCHEMA)
_KIND_NAMES: dict[type, str] = {
    bool: "a boolean",
    str: "a string",
    int: "an integer",
    float: "a float",
    dict: "a table",
    list: "an array",
}
_log = logging.getLogger(__name__)
PathArg = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class TelemetryConfig:
    """What the configuration says about diagnostics; defaults for what it leaves out."""

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


def load_config(
    path: Optional[PathArg] = None,
    *,
    base_path: PathArg = BASE_CONFIG_PATH,
    drop_in_dir: PathArg = DROP_IN_CONFIG_DIR,
) -> TelemetryConfig:
    """Merge ``base_path``, the ``*.toml`` of ``drop_in_dir`` and ``path`` as azure-init does.

    Missing files are skipped; an unreadable file or bad TOML is a ``ValueError`` naming the
    file (and the line), a used key of the wrong type one naming the file, section and key.
    """
    merged: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}  # where each section and used key last came from
    files = [os.fspath(base_path), *_toml_files(drop_in_dir)]
    if path is not None:
        explicit = os.fspath(path)
        files.extend(_toml_files(explicit) if os.path.isdir(explicit) else [explicit])
    for where in files:
        if not os.path.isfile(where):  # figment: a missing file (or not a file) is empty
            _log.debug("configuration file %s not found, skipped", where)
            continue
        _log.debug("merging configuration file %s", where)
        _merge(merged, _read(where), origins, where)
    return _extract(merged, origins)


def _toml_files(directory: PathArg) -> list[str]:
    """The ``*.toml`` entries of ``directory``, sorted; none if it is not a directory."""
    where = os.fspath(directory)
    if not os.path.isdir(where):
        return []
    try:
        names = os.listdir(where)
    except OSError as error:
        raise ValueError(f"{where}: cannot list the directory: {error.strerror}") from None
    # Rust's Path::extension: "x.toml" has one, ".toml" (a hidden name) has none.
    chosen = [name for name in names if name.endswith(".toml") and name != ".toml"]
    # Byte order, as Rust sorts paths (and unlike a locale's collation).
    chosen.sort(key=os.fsencode)
    return [os.path.join(where, name) for name in chosen]


def _read(where: str) -> dict[str, Any]:
    try:
        with open(where, "rb") as file:
            raw = file.read()
    except OSError as error:
        raise ValueError(f"{where}: cannot read: {error.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValueError(f"{where}: not valid TOML: not UTF-8 (at line {line})") from None
    except tomllib.TOMLDecodeError as error:  # its message gives the line and column
        raise ValueError(f"{where}: not valid TOML: {error}") from None
    except RecursionError:  # the parser recurses into each nested array and inline table
        raise ValueError(f"{where}: not valid TOML here: values nested too deeply") from None


def _merge(
    into: dict[str, Any],
    incoming: Mapping[str, Any],
    origins: dict[tuple[str, ...], str],
    where: str,
    prefix: tuple[str, ...] = (),
) -> None:
    """figment's ``merge``: tables are unioned recursively, any other value replaced."""
    for key, value in incoming.items():
        name = (*prefix, key)
        if len(name) <= 2:
            origins[name] = where
        if isinstance(value, dict) and len(name) < 2:  # deeper tables are never read
            existing = into.get(key)
            if not isinstance(existing, dict):  # a table replaces what was not one
                existing = into[key] = {}
            _merge(existing, value, origins, where, name)
        else:
            into[key] = value


def _extract(merged: Mapping[str, Any], origins: Mapping[tuple[str, ...], str]) -> TelemetryConfig:
    """Only the sections and keys in ``_SCHEMA`` are read, and their types checked."""
    for section in _SECTIONS:
        table = merged.get(section)
        if table is not None and not isinstance(table, dict):
            raise ValueError(
                f"{origins[(section,)]}: [{section}] must be a table, got {_kind(table)}"
            )
    values: dict[str, Any] = {}
    for (section, key), (field, expected) in _SCHEMA.items():
        table = merged.get(section) or {}
        if key not in table:
            continue
        value = table[key]
        if type(value) is not expected:  # a bool is not an int here, nor an int a bool
            raise ValueError(
                f"{origins[(section, key)]}: [{section}] {key} must be "
                f"{_KIND_NAMES[expected]}, got {_kind(value)}"
            )
        values[field] = value
    try:
        return TelemetryConfig(**values)
    except (TypeError, ValueError) as error:
        where = origins.get(("azure_init_log_path", "path"), "configuration")
        raise ValueError(f"{where}: [azure_init_log_path] path: {error}") from None


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
            _log.warning(
                "ignoring environment variable %s: %s; using the defaults", LOG_FILTER_ENV, error
            )
    return EnvFilter(DEFAULT_STDERR_FILTER), EnvFilter(DEFAULT_FILE_FILTER)


def _kind(value: object) -> str:
    name = _KIND_NAMES.get(type(value), f"a {type(value).__name__}")
    return f"{name} ({value!r:.40})"
