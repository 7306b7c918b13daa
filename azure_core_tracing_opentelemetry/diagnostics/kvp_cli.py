"""``azure-core-tracing-kvp``: azure-init's ``libazureinit-kvp`` command line, in Python.

The thirteen verbs of ``libazureinit-kvp`` with its options, output and exit codes (0 done,
1 key missing or pool not stale, 2 usage or validation error, 3 I/O error or not a pool), and
``--pool-file`` and ``--join`` of ours. Every change is made under the locks ``KvpWriter``
takes (``kvp_store``). Text output escapes control characters as ``escape.one_line`` does;
``--json`` prints what azure-init's ``serde_json`` prints (compact, keys sorted), with DEL, C1
controls and the Unicode line separators written as JSON escapes too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, NoReturn, Optional, TextIO

from azure_core_tracing import __version__
from azure_core_tracing_opentelemetry.diagnostics.escape import one_line
from azure_core_tracing_opentelemetry.diagnostics.files import KIND_REFUSED
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import system_vm_id
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import (
    KEY_FIELD_BYTES,
    KEY_MAX_BYTES,
    RECORD_BYTES,
    VALUE_CHUNK_MAX_BYTES,
    VALUE_FIELD_BYTES,
    KvpRecord,
    decode_kvp_record,
    join_kvp_chunks,
    pack_raw_record,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_store import (
    PoolContents,
    lock_pool,
    locked_pool,
    open_pool,
    read_pool,
    record_key,
    replace_record,
    rewrite_pool,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_writer import (
    PROC_STAT_PATH,
    boot_time_from_proc_stat,
    is_stale,
)
from azure_core_tracing_opentelemetry.diagnostics.report import (
    PROVISIONING_REPORT_KEY,
    ProvisioningReport,
)

PROG = "azure-core-tracing-kvp"
DEFAULT_KVP_DIR = "/var/lib/hyperv"
POOLS = ("external", "guest", "auto", "auto-external", "auto-internal")
"""azure-init's pool names; pool ``N`` is the file ``.kvp_pool_N``, and ``N`` is its alias."""
DEFAULT_AGENT = f"{PROG}/{__version__}"
EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_IO = 0, 1, 2, 3
MAX_UNIQUE_KEYS = 1024  # azure-init's cap for write (a new key) and load
_JSON_ESCAPES = {
    code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), 0x2028, 0x2029, *range(0xD800, 0xE000)]
}


class _CommandError(Exception):
    """Ends the command with ``code`` after printing ``message`` on stderr."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class _Pool:
    name: str
    path: str
    unsafe: bool
    proc_stat: str

    @property
    def max_key(self) -> int:
        return KEY_FIELD_BYTES if self.unsafe else KEY_MAX_BYTES

    @property
    def max_value(self) -> int:
        return VALUE_FIELD_BYTES if self.unsafe else VALUE_CHUNK_MAX_BYTES


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    args = _parser().parse_args(argv)
    pool = _Pool(
        args.pool_name,
        args.pool_file
        or os.path.join(args.dir or DEFAULT_KVP_DIR, f".kvp_pool_{POOLS.index(args.pool_name)}"),
        args.unsafe,
        args.proc_stat,
    )
    out = _Output(sys.stdout, args.json)
    try:
        code: int = args.verb(pool, args, out)
        sys.stdout.flush()
    except _CommandError as failure:
        print(f"{PROG}: {one_line(str(failure))}", file=sys.stderr)
        return failure.code
    except BrokenPipeError:  # `dump | head`: the reader has what it wanted
        sys.stderr.close()
        return EXIT_OK
    return code


def run() -> NoReturn:
    """The console script's entry point."""
    sys.exit(main())


# --- the command line ------------------------------------------------------------------------

_DESCRIPTION = f"""Inspect and manipulate Hyper-V KVP pool files, as azure-init's
libazureinit-kvp does. The pool is {DEFAULT_KVP_DIR}/.kvp_pool_1 (guest) unless --pool,
--dir or --pool-file name another. Exit codes: 0 done, 1 key missing or pool not stale,
2 usage or validation error, 3 I/O error or a file that is not a pool."""


def _pool_choice(text: str) -> str:
    if text in POOLS:
        return text
    if text.isdigit() and int(text) < len(POOLS) and text == str(int(text)):
        return POOLS[int(text)]
    raise argparse.ArgumentTypeError(
        f"invalid value {text!r}: one of {', '.join(POOLS)} (or 0 to 4)"
    )


def _add_globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    def default(value: object) -> Any:
        return value if top else argparse.SUPPRESS  # a subcommand's copy overrides only if given

    options = parser.add_argument_group("global options (before or after the verb)")
    options.add_argument(
        "--pool",
        dest="pool_name",
        type=_pool_choice,
        default=default("guest"),
        metavar="POOL",
        help="the pool: external, guest, auto, auto-external, auto-internal, or 0 to 4 "
        f"(the file .kvp_pool_N in --dir; default guest, {DEFAULT_KVP_DIR}/.kvp_pool_1)",
    )
    options.add_argument(
        "--dir", default=default(None), help=f"the pool directory (default {DEFAULT_KVP_DIR})"
    )
    options.add_argument(
        "--pool-file",
        default=default(None),
        metavar="PATH",
        help="the pool file itself, instead of --pool and --dir (ours, not azure-init's)",
    )
    options.add_argument(
        "--unsafe",
        action="store_true",
        default=default(False),
        help=f"full wire limits for writes: keys to {KEY_FIELD_BYTES} bytes and values to "
        f"{VALUE_FIELD_BYTES}, not {KEY_MAX_BYTES} and {VALUE_CHUNK_MAX_BYTES}",
    )
    options.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="machine-readable JSON for commands that print",
    )
    options.add_argument(
        "--join",
        action="store_true",
        default=default(False),
        help="dump, entries and read see a value split over <key>|0, <key>|1, ... as one "
        "record <key> (ours, not azure-init's)",
    )
    # Where the boot time is read: for tests, which cannot change the real one.
    options.add_argument("--proc-stat", default=default(PROC_STAT_PATH), help=argparse.SUPPRESS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=_DESCRIPTION)
    _add_globals(parser, top=True)
    verbs = parser.add_subparsers(dest="command", required=True)

    def verb(name: str, function: Callable[..., int], text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=text, description=f"{text} {_WHERE}")
        _add_globals(sub, top=False)
        sub.set_defaults(verb=function)
        return sub

    verb("info", _info, "Print store metadata.")
    verb("dump", _dump, "Print every record in insertion order as KEY=VALUE lines.")
    verb("entries", _entries, "Print key=last_value entries sorted by key.")
    verb("read", _read_verb, "Print the last value for KEY (exit 1 if missing).").add_argument(
        "key"
    )
    write = verb("write", _write, "Write a record. Use --append to keep prior values for KEY.")
    write.add_argument(
        "--append",
        action="store_true",
        help="Append a new value instead of replacing prior records for KEY.",
    )
    write.add_argument("key")
    write.add_argument("value")
    for name, function, text in (
        ("load", _load, "Replace the pool from KEY=VALUE lines read from --file or stdin."),
        ("append-multiple", _append_multiple, "Append KEY=VALUE lines read from --file or stdin."),
    ):
        verb(name, function, text).add_argument(
            "--file", help="Read records from PATH instead of stdin.", metavar="PATH"
        )
    verb(
        "delete", _delete, "Delete every record with KEY (prints `true` if any were removed)."
    ).add_argument("key")
    verb(
        "delete-multiple",
        _delete_multiple,
        "Delete every record matching any KEY (prints removed record count).",
    ).add_argument("keys", nargs="+", metavar="KEY")
    verb("clear", _clear, "Clear the pool. Pass --if-stale to clear only when stale.").add_argument(
        "--if-stale", action="store_true", help="Only clear if the store is currently stale."
    )
    verb("is-stale", _is_stale, "Print whether the pool is stale (exit 0 if stale, 1 otherwise).")
    for name, function, text in (
        ("report-success", _report_success, "Write a success provisioning health report,"),
        ("report-failure", _report_failure, "Write a failure provisioning health report,"),
    ):
        report = verb(name, function, f"{text} overriding any existing PROVISIONING_REPORT record.")
        report.add_argument(
            "--vm-id", help="Virtual machine identifier (default: this VM's, as the host sees it)."
        )
        report.add_argument(
            "--agent", default=DEFAULT_AGENT, help=f"Reporting agent identifier ({DEFAULT_AGENT})."
        )
        if name == "report-failure":
            report.add_argument("--reason", required=True, help="Failure reason.")
            report.add_argument(
                "--documentation-url", help="Optional documentation URL describing the failure."
            )
        report.add_argument(
            "--supporting-data",
            action="append",
            default=[],
            type=_supporting_data,
            metavar="K=V[,K=V...]",
            help="Additional key=value supporting data, comma-separated; the flag may be "
            "repeated. Wrap a value in matching ' or \" to keep a comma in it.",
        )
    return parser


_WHERE = (
    f"The pool is {DEFAULT_KVP_DIR}/.kvp_pool_1 unless --pool, --dir or --pool-file say otherwise."
)


# --- the verbs -----------------------------------------------------------------------------------


def _info(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    read = _read(pool)  # once: a torn tail is noted once
    count = len(read[0].records) if read else 0
    fields: dict[str, object] = {
        "pool": pool.name if args.pool_file is None else "file",
        "path": pool.path,
        "mode": "unsafe" if pool.unsafe else "safe",
        "records": count,
        "empty": count == 0,
        "stale": read is not None and read[1],
        "max_key_size": pool.max_key,
        "max_value_size": pool.max_value,
    }
    if out.json:
        out.json_line(fields)
    else:
        for name, value in fields.items():
            out.text_line(f"{name}={_text(value)}")
    return EXIT_OK


def _dump(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    records = _records(pool, args.join)
    if out.json:
        rows: list[dict[str, object]] = []
        for record in records:
            row: dict[str, object] = {"key": record.key, "value": record.value}
            if record.chunks > 1:
                row["chunks"] = record.chunks
            rows.append(row)
        out.json_line(rows)
    else:
        for record in records:
            out.text_line(f"{_key_text(record.key)}={one_line(record.value)}")
    return EXIT_OK


def _entries(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    last = {record.key: record.value for record in _records(pool, args.join)}
    entries = dict(sorted(last.items()))
    if out.json:
        out.json_line(entries)
    else:
        for key, value in entries.items():
            out.text_line(f"{_key_text(key)}={one_line(value)}")
    return EXIT_OK


def _read_verb(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    _key_bytes(args.key, None)
    found = None
    for record in _records(pool, args.join):
        if record.key == args.key:
            found = record.value
    if found is None:
        return EXIT_NOT_FOUND
    if out.json:
        out.json_line({"key": args.key, "value": found})
    else:
        out.text_line(one_line(found))
    return EXIT_OK


def _write(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    record = _record(pool, args.key, args.value)
    with _updating(pool, create=True) as (fd, contents):
        if args.append:
            rewrite_pool(fd, contents, [*contents.records, record])
        else:
            key = record_key(record)
            keys = {record_key(existing) for existing in contents.records}
            if key not in keys and len(keys) >= MAX_UNIQUE_KEYS:
                raise _CommandError(
                    EXIT_USAGE, f"KVP unique key count exceeded maximum ({MAX_UNIQUE_KEYS})"
                )
            replace_record(fd, key, record)
    return EXIT_OK


def _load(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    records = [_record(pool, key, value) for key, value in _key_value_lines(args.file)]
    unique = {record_key(record) for record in records}
    if len(unique) > MAX_UNIQUE_KEYS:
        raise _CommandError(
            EXIT_USAGE, f"KVP unique key count exceeded maximum ({MAX_UNIQUE_KEYS})"
        )
    with _updating(pool, create=True) as (fd, contents):
        rewrite_pool(fd, contents, records)
    return EXIT_OK


def _append_multiple(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    records = [_record(pool, key, value) for key, value in _key_value_lines(args.file)]
    if records:  # nothing to add: the pool is not even created, as in azure-init
        with _updating(pool, create=True) as (fd, contents):
            rewrite_pool(fd, contents, [*contents.records, *records])
    return EXIT_OK


def _delete(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    removed = _remove(pool, [args.key])
    if out.json:
        out.json_line({"removed": removed > 0})
    else:
        out.text_line(_text(removed > 0))
    return EXIT_OK


def _delete_multiple(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    removed = _remove(pool, args.keys)
    if out.json:
        out.json_line({"removed": removed})
    else:
        out.text_line(str(removed))
    return EXIT_OK


def _clear(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    with _updating(pool, create=False) as opened:
        if opened is not None:
            fd, _ = opened
            if not args.if_stale or is_stale(os.fstat(fd), _boot_time(pool)):
                os.ftruncate(fd, 0)
    return EXIT_OK


def _is_stale(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    stale = _stale(pool)
    if out.json:
        out.json_line({"stale": stale})
    else:
        out.text_line(_text(stale))
    return EXIT_OK if stale else EXIT_NOT_FOUND


def _report_success(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    extra = _extra(args.supporting_data)
    vm_id = _vm_id(args.vm_id)
    try:
        report = ProvisioningReport.success(args.agent, vm_id, **extra)
    except ValueError as error:
        raise _CommandError(EXIT_USAGE, str(error)) from None
    return _put_report(pool, report)


def _report_failure(pool: _Pool, args: argparse.Namespace, out: _Output) -> int:
    extra = _extra(args.supporting_data)
    vm_id = _vm_id(args.vm_id)
    try:
        report = ProvisioningReport.error(
            args.reason, args.agent, vm_id, documentation_url=args.documentation_url, **extra
        )
    except ValueError as error:
        raise _CommandError(EXIT_USAGE, str(error)) from None
    return _put_report(pool, report)


# --- reading and writing the pool --------------------------------------------------------------


def _contents(pool: _Pool) -> Optional[PoolContents]:
    """The pool's records, read under the shared locks; None when there is no pool file."""
    read = _read(pool)
    return None if read is None else read[0]


def _read(pool: _Pool) -> Optional[tuple[PoolContents, bool]]:
    """The pool's records, read under the shared locks, and whether it is stale; None when
    there is no pool file. Exit 3 for a link, a directory or a file that is not a pool."""
    try:
        with locked_pool(pool.path, update=False) as fd:
            contents = read_pool(fd)
            info = os.fstat(fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _io_failure(pool, error) from None
    _check_pool(pool, contents, repairing=False)
    return contents, is_stale(info, _boot_time(pool))


def _records(pool: _Pool, join: bool) -> list[KvpRecord]:
    contents = _contents(pool)
    records = [decode_kvp_record(record) for record in contents.records] if contents else []
    return join_kvp_chunks(records) if join else records


@contextlib.contextmanager
def _updating(pool: _Pool, *, create: bool) -> Iterator[Any]:
    """The pool opened for update under the exclusive locks, and its records: ``(fd,
    contents)``; None when it is missing and not to be created."""
    try:
        fd = open_pool(pool.path, update=True, create=create)
    except FileNotFoundError as error:
        if create:  # the directory is missing
            raise _io_failure(pool, error) from None
        yield None
        return
    except OSError as error:
        raise _io_failure(pool, error) from None
    try:
        lock_pool(fd, exclusive=True)
        contents = read_pool(fd)
        _check_pool(pool, contents, repairing=True)
        yield fd, contents
    except OSError as error:
        raise _io_failure(pool, error) from None
    finally:
        os.close(fd)  # and with it both locks


def _check_pool(pool: _Pool, contents: PoolContents, *, repairing: bool) -> None:
    """A ``_CommandError`` (exit 3, one message) for a file that is not a pool; one note for a torn
    record at its end, which a change then cuts off."""
    if contents.torn_bytes and not contents.records:
        raise _CommandError(
            EXIT_IO,
            f"{pool.path} is not a KVP pool: {contents.torn_bytes} bytes, less than one "
            f"{RECORD_BYTES}-byte record",
        )
    for index, record in enumerate(contents.records):
        end = record.find(b"\x00", 0, KEY_FIELD_BYTES)
        problem = None
        if end < 0:
            problem = "has no NUL in its key field"
        elif end == 0:
            problem = "has an empty key"
        else:
            try:
                record[:end].decode("utf-8")
            except UnicodeDecodeError:
                problem = "has a key that is not UTF-8"
        if problem:
            raise _CommandError(
                EXIT_IO, f"{pool.path} is not a KVP pool: record {index + 1} {problem}"
            )
    if contents.torn_bytes:
        what = "cut off" if repairing else "ignored"
        print(
            f"{PROG}: note: {one_line(pool.path)} ends in {contents.torn_bytes} bytes that are "
            f"not a whole record; {what}",
            file=sys.stderr,
        )


def _remove(pool: _Pool, keys: Iterable[str]) -> int:
    doomed = {_key_bytes(key, None) for key in keys}
    with _updating(pool, create=False) as opened:
        if opened is None:
            return 0
        fd, contents = opened
        kept = [record for record in contents.records if record_key(record) not in doomed]
        removed = len(contents.records) - len(kept)
        if removed:
            rewrite_pool(fd, contents, kept)
        return removed


def _put_report(pool: _Pool, report: ProvisioningReport) -> int:
    record = _record(pool, PROVISIONING_REPORT_KEY, report.encode())
    with _updating(pool, create=True) as (fd, _):
        replace_record(fd, PROVISIONING_REPORT_KEY.encode(), record)
    return EXIT_OK


def _stale(pool: _Pool) -> bool:
    read = _read(pool)
    return read is not None and read[1]


def _boot_time(pool: _Pool) -> float:
    boot = boot_time_from_proc_stat(pool.proc_stat)
    if boot is None:
        raise _CommandError(EXIT_IO, f"cannot read the boot time (btime) from {pool.proc_stat}")
    return boot


def _io_failure(pool: _Pool, error: OSError) -> _CommandError:
    if isinstance(error, IsADirectoryError) or error.strerror == KIND_REFUSED:
        kind = "a directory" if os.path.isdir(pool.path) else "neither a file nor a device"
        return _CommandError(EXIT_IO, f"{pool.path} is not a KVP pool: it is {kind}")
    return _CommandError(EXIT_IO, f"{pool.path}: {error.strerror or error}")


# --- validation, as azure-init's store.rs does it ----------------------------------------------


def _key_bytes(key: str, limit: Optional[int]) -> bytes:
    if not key:
        raise _CommandError(EXIT_USAGE, "KVP key must not be empty")
    if "\x00" in key:
        raise _CommandError(EXIT_USAGE, "KVP key must not contain null bytes")
    data = _utf8(key, "key")
    if limit is not None and len(data) > limit:
        raise _CommandError(EXIT_USAGE, f"KVP key length ({len(data)}) exceeds maximum ({limit})")
    return data


def _record(pool: _Pool, key: str, value: str) -> bytes:
    key_data = _key_bytes(key, pool.max_key)
    if "\x00" in value:
        raise _CommandError(EXIT_USAGE, "KVP value must not contain null bytes")
    data = _utf8(value, "value")
    if len(data) > pool.max_value:
        raise _CommandError(
            EXIT_USAGE, f"KVP value length ({len(data)}) exceeds maximum ({pool.max_value})"
        )
    return pack_raw_record(key_data, data)


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # an argument that was not UTF-8 (surrogateescape)
        raise _CommandError(EXIT_USAGE, f"KVP {what} must be UTF-8") from None


def _key_value_lines(path: Optional[str]) -> list[tuple[str, str]]:
    try:
        if path is None:
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as file:
                data = file.read()
        text = data.decode("utf-8")
    except OSError as error:
        raise _CommandError(EXIT_IO, f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise _CommandError(EXIT_IO, "stream did not contain valid UTF-8") from None
    pairs = []
    # Rust's str::lines(): split at LF, a CR just before it is dropped, a last LF is optional.
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    terminated = len(lines) if text.endswith("\n") else len(lines) - 1
    for number, raw in enumerate(lines, 1):
        line = raw[:-1] if number <= terminated and raw.endswith("\r") else raw
        if not line:
            continue
        key, separator, value = line.partition("=")
        if not separator:
            raise _CommandError(EXIT_USAGE, f"line {number} must be in key=value format")
        pairs.append((key, value))
    return pairs


def _supporting_data(raw: str) -> list[tuple[str, str]]:
    """azure-init's ``--supporting-data``: ``k=v`` fields split at commas outside a quoted
    value; a value wholly in matching ``'`` or ``"`` keeps its commas, without the quotes.
    Empty fields (a trailing comma) are left out."""
    return [_supporting_pair(field) for field in _supporting_fields(raw) if field]


def _supporting_fields(raw: str) -> Iterator[str]:
    index, end = 0, len(raw)
    while True:
        start = index
        while index < end and raw[index] not in "=,":
            index += 1
        if index < end and raw[index] == "=":
            index += 1
            if index < end and raw[index] in "'\"":
                closing = raw.find(raw[index], index + 1)
                if closing < 0:
                    raise argparse.ArgumentTypeError(
                        f"supporting data '{raw}' has an unterminated quote"
                    )
                index = closing + 1
                if index < end and raw[index] != ",":
                    raise argparse.ArgumentTypeError(
                        f"supporting data '{raw}' has unexpected characters after a quoted value"
                    )
            else:
                while index < end and raw[index] != ",":
                    index += 1
        yield raw[start:index]
        if index >= end:
            return
        index += 1


def _supporting_pair(field: str) -> tuple[str, str]:
    key, separator, value = field.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"supporting data '{field}' must be in key=value format")
    if not key:
        raise argparse.ArgumentTypeError(f"supporting data '{field}' has an empty key")
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        value = value[1:-1]
    return key, value


def _extra(groups: list[list[tuple[str, str]]]) -> dict[str, str]:
    extra: dict[str, str] = {}
    for key, value in (pair for group in groups for pair in group):
        if key in extra:
            raise _CommandError(EXIT_USAGE, f"supporting data names {key!r} twice")
        extra[key] = value
    return extra


def _vm_id(given: Optional[str]) -> str:
    if given is not None:
        return given
    found = system_vm_id()
    if found is None:
        raise _CommandError(
            EXIT_USAGE,
            "unable to determine the current VM ID automatically; pass --vm-id explicitly",
        )
    return found


# --- output -----------------------------------------------------------------------------------


def _key_text(key: str) -> str:
    # A "=" in a key would make KEY=VALUE ambiguous: it is escaped as one_line escapes.
    return one_line(key).replace("=", "\\x3d")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return one_line(str(value))


class _Output:
    def __init__(self, stream: TextIO, json_mode: bool) -> None:
        self._stream = stream
        self.json = json_mode

    def text_line(self, line: str) -> None:
        self._stream.write(line + "\n")

    def json_line(self, value: object) -> None:
        # serde_json::to_string: compact, keys sorted (its Map is a BTreeMap), non-ASCII as is.
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        # Outside strings JSON is ASCII: these can only be inside one, where the escape is exact.
        self._stream.write(text.translate(_JSON_ESCAPES) + "\n")
