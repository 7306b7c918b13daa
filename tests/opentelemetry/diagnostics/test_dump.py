"""The dump tool: in-process, and once as ``python -m``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics import encode_kvp_record
from azure_core_tracing_opentelemetry.diagnostics.__main__ import main


@pytest.fixture
def filled(pool: Path) -> Path:
    pool.write_bytes(
        encode_kvp_record("first", "Start: a | End: b")
        + encode_kvp_record("long", "é" * 700)  # 1400 bytes: two chunks
        + encode_kvp_record("tricky\tkey", "line one\nline two\\")
    )
    return pool


def test_dump_prints_key_tab_value_per_record(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dump", str(filled)]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        "first\tStart: a | End: b",
        "long|0\t" + "é" * 511,
        "long|1\t" + "é" * 189,
        "tricky\\tkey\tline one\\nline two\\\\",
    ]
    assert out.err == ""


def test_dump_join_and_json(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dump", "--json", "--join", str(filled)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        {"key": "first", "value": "Start: a | End: b"},
        {"key": "long", "value": "é" * 700, "chunks": 2},
        {"key": "tricky\tkey", "value": "line one\nline two\\"},
    ]


def test_dump_says_when_a_trailing_partial_record_was_ignored(
    pool: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool.write_bytes(encode_kvp_record("whole", "1") + b"half a record")
    assert main(["dump", str(pool)]) == 0
    out = capsys.readouterr()
    assert out.out == "whole\t1\n"
    assert "13 trailing bytes are not a whole record" in out.err


def test_dump_of_a_missing_pool_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dump", str(tmp_path / "absent")]) == 1
    assert "cannot read" in capsys.readouterr().err


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
            "dump",
            "--join",
            str(filled),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["first\tStart: a | End: b", "long\t" + "é" * 700]
