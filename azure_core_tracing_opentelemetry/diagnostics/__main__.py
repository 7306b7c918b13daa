"""``python -m azure_core_tracing_opentelemetry.diagnostics dump [--json] [--join] [PATH]``.

Prints the records of a KVP pool: ``<key><TAB><value>`` per line, each escaped as
``escape.one_line`` says (a tab inside them is ``\\t``, ESC ``\\x1b``, U+2028 ``\\u2028``), or
one JSON object per line with ``--json``, where DEL, C1 controls and U+2028/U+2029 are written
as JSON escapes too. Either way no control character of a record reaches the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional

from azure_core_tracing_opentelemetry.diagnostics.escape import one_line
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import KvpRecord, read_kvp_pool
from azure_core_tracing_opentelemetry.diagnostics.kvp_writer import DEFAULT_KVP_POOL_PATH

# json.dumps escapes C0 controls but leaves DEL, C1 and the Unicode separators as they are.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), 0x2028, 0x2029]}


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; 0 on success, 1 when the pool cannot be read."""
    parser = argparse.ArgumentParser(
        prog="python -m azure_core_tracing_opentelemetry.diagnostics",
        description="Tools for the VM provisioning diagnostics.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump", help="print the records of a Hyper-V KVP pool")
    dump.add_argument("path", nargs="?", default=DEFAULT_KVP_POOL_PATH, help="the pool file")
    dump.add_argument("--json", action="store_true", help="one JSON object per record")
    dump.add_argument("--join", action="store_true", help="rejoin values split over records")
    args = parser.parse_args(argv)
    try:
        records = read_kvp_pool(args.path, join_chunks=args.join)
    except OSError as error:
        print(f"cannot read {args.path}: {error.strerror or error}", file=sys.stderr)
        return 1
    try:
        for record in records:
            sys.stdout.write(_json_line(record) if args.json else _text_line(record))
        sys.stdout.flush()
    except BrokenPipeError:  # `dump | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    if records.partial_bytes:
        print(
            f"note: {records.partial_bytes} trailing bytes are not a whole record; ignored",
            file=sys.stderr,
        )
    return 0


def _text_line(record: KvpRecord) -> str:
    return f"{one_line(record.key)}\t{one_line(record.value)}\n"


def _json_line(record: KvpRecord) -> str:
    fields: dict[str, object] = {"key": record.key, "value": record.value}
    if record.chunks > 1:
        fields["chunks"] = record.chunks
    # Outside strings JSON is ASCII: these can only be inside one, where the escape is exact.
    return json.dumps(fields, ensure_ascii=False).translate(_JSON_ESCAPES) + "\n"


if __name__ == "__main__":
    sys.exit(main())
