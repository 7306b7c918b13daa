"""``dump``'s output: text lines escaped, JSON exact; in-process, and once as ``python -m``."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azure_core_tracing_opentelemetry.diagnostics import encode_kvp_record, read_kvp_pool
from azure_core_tracing_opentelemetry.diagnostics.__main__ import main
from tests.opentelemetry.diagnostics.conftest import FORGING_TEXT, RAW_CONTROL, unescape

# What a terminal acts on: ESC sequences (colour, clearing, the title), VT, BEL, backspace,
# DEL, C1's CSI and NEL, the Unicode line separators.
TERMINAL_CONTROLS = "\x1b[2J\x1b]0;owned\x07\x0b\x08\x7f\x9b31m\x85\u2028\u2029\x00"


@pytest.fixture
def filled(pool: Path) -> Path:
    pool.write_bytes(
        encode_kvp_record("first", "Start: a | End: b")
        + encode_kvp_record("long", "é" * 700)  # 1400 bytes: two chunks
        + encode_kvp_record("tricky\tkey", "line one\nline two\\")
    )
    return pool


def dump(pool: Path, *options: str) -> list[str]:
    return ["--pool-file", str(pool), "dump", *options]


def test_dump_prints_key_equals_value_per_record(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(dump(filled)) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        "first=Start: a | End: b",
        "long|0=" + "é" * 511,
        "long|1=" + "é" * 189,
        "tricky\\tkey=line one\\nline two\\\\",
    ]
    assert out.err == ""


def test_dump_join_and_json(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(dump(filled, "--json", "--join")) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON array, as azure-init prints it
    assert json.loads(out) == [
        {"key": "first", "value": "Start: a | End: b"},
        {"chunks": 2, "key": "long", "value": "é" * 700},
        {"key": "tricky\tkey", "value": "line one\nline two\\"},
    ]


def test_dump_never_writes_a_terminal_control_from_a_record(
    pool: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text output shows every control of a record escaped; the JSON output is exact
    JSON of the same record, its controls written as JSON escapes."""
    pool.write_bytes(encode_kvp_record("key=" + TERMINAL_CONTROLS[:-4], "v=" + TERMINAL_CONTROLS))
    [record] = read_kvp_pool(pool)
    assert main(dump(pool)) == 0
    text = capsys.readouterr().out
    assert text.endswith("\n"), repr(text)
    key, value = text[:-1].split("=", 1)  # a "=" in the key is escaped: the first is the one
    assert RAW_CONTROL.search(key + value) is None, repr(text)
    assert (unescape(key), unescape(value)) == (record.key, record.value)
    assert main(dump(pool, "--json")) == 0
    line = capsys.readouterr().out
    assert RAW_CONTROL.search(line[:-1]) is None and line.endswith("\n"), repr(line)
    assert json.loads(line) == [{"key": record.key, "value": record.value}]


@given(
    pairs=st.lists(
        st.tuples(
            # A str key is 1 to 254 bytes without NUL: at most 4 bytes for each of 60 characters.
            FORGING_TEXT.map(lambda key: ("k" + key.replace("\x00", ""))[:60]),
            FORGING_TEXT,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_record_is_one_escaped_line_of_text_and_one_exact_json_line(
    pairs: list[tuple[str, str]],
) -> None:
    """Whatever a pool holds, each record is one line, free of raw controls, that un-escapes
    (text) or decodes (JSON) to the record as read."""
    with tempfile.TemporaryDirectory() as folder:
        pool = Path(folder) / "pool"
        pool.write_bytes(b"".join(encode_kvp_record(key, value) for key, value in pairs))
        records = read_kvp_pool(pool)
        outputs = []
        for mode in ([], ["--json"]):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert main(dump(pool, *mode)) == 0
            outputs.append(out.getvalue())
    text, as_json = outputs
    assert text.endswith("\n") and len(text.splitlines()) == len(records), repr(text)
    rows = [line.split("=", 1) for line in text.splitlines()]  # a key's own "=" is escaped
    assert all(RAW_CONTROL.search(key + value) is None for key, value in rows), repr(text)
    assert RAW_CONTROL.search(as_json[:-1]) is None and as_json.endswith("\n"), repr(as_json)
    assert [(unescape(key), unescape(value)) for key, value in rows] == [
        (r.key, r.value) for r in records
    ]
    assert json.loads(as_json) == [{"key": r.key, "value": r.value} for r in records]


def test_dump_says_once_when_a_trailing_partial_record_was_ignored(
    pool: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pool.write_bytes(encode_kvp_record("whole", "1") + b"half a record")
    assert main(dump(pool)) == 0
    out = capfd.readouterr()
    assert out.out == "whole=1\n"
    assert out.err.count("\n") == 1, out.err  # one line, not the library's WARNING as well
    assert "ends in 13 bytes that are not a whole record; ignored" in out.err


def test_dump_of_a_missing_pool_is_empty_as_in_azure_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(dump(tmp_path / "absent")) == 0
    assert main(dump(tmp_path / "absent", "--json")) == 0
    assert capsys.readouterr() == ("[]\n", "")


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "dump" in capsys.readouterr().err


def test_the_module_runs_as_a_command(filled: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "azure_core_tracing_opentelemetry.diagnostics",
            *dump(filled, "--join"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["first=Start: a | End: b", "long=" + "é" * 700]
