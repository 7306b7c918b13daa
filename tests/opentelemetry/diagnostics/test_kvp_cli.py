"""``azure-core-tracing-kvp`` verb by verb, as a subprocess (``python -m``), against pools our
writer wrote and pools in cloud-init's format: azure-init's ``libazureinit-kvp`` meanings,
output and exit codes, the differences docs/diagnostics.md lists, and ours (``--pool-file``,
``--join``)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from azure_core_tracing_opentelemetry.diagnostics import (
    PROVISIONING_REPORT_KEY,
    RECORD_BYTES,
    KvpWriter,
    ProvisioningReport,
    encode_kvp_record,
    read_kvp_pool,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_cli import DEFAULT_AGENT, main
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import system_vm_id
from tests.cloud_init import install as install_cloud_init
from tests.opentelemetry.diagnostics.conftest import VM_ID

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def kvp(*args: str, input: Optional[str] = None, expect: Optional[int] = 0) -> Ran:
    """The command line run in this process (each test runs its verb once as a process too:
    an interpreter start costs half a second)."""
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO((input or "").encode()))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_info:  # argparse's usage errors
                code = int(exit_info.code or 0)
    finally:
        sys.stdin = stdin
    result = Ran(code, out.getvalue(), err.getvalue())
    if expect is not None:
        assert result.returncode == expect, result
    return result


def kvp_process(*args: str, input: Optional[str] = None, expect: Optional[int] = 0) -> Ran:
    """``python -m azure_core_tracing_opentelemetry.diagnostics`` with ``args``."""
    result = subprocess.run(
        [sys.executable, "-m", "azure_core_tracing_opentelemetry.diagnostics", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert "Traceback" not in result.stderr, result.stderr
    if expect is not None:
        assert result.returncode == expect, (result.returncode, result.stdout, result.stderr)
    return Ran(result.returncode, result.stdout, result.stderr)


def at(folder: Path) -> list[str]:
    return ["--dir", str(folder)]


def pairs(pool: Path) -> list[tuple[str, str]]:
    return [(record.key, record.value) for record in read_kvp_pool(pool)]


@pytest.fixture
def ours(tmp_path: Path) -> Path:
    """A guest pool (``.kvp_pool_1``) our writer wrote: events, a duplicate key, a report."""
    pool = tmp_path / ".kvp_pool_1"
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    writer.write("b", "two")
    writer.write("a", "one")
    writer.write("b", "two again")
    writer.write("long", "é" * 700)  # two chunks: long|0, long|1
    writer.write(PROVISIONING_REPORT_KEY, ProvisioningReport.success("Agent/1", VM_ID).encode())
    assert writer.flush(5.0) and writer.shutdown(5.0)
    return pool


def cloud_init_pool(path: Path) -> list[tuple[str, str]]:
    """Records in cloud-init's HyperVKvpReportingHandler format, made as its code makes them
    (the handler itself is not installable from PyPI): ``struct.pack("512s2048s", ...)``, keys
    ``CLOUD_INIT|<incarnation>|<type>|<name>|<vm_id>|<uuid4>``, compact JSON values, and a long
    description sliced over ``<key>|0``, ``<key>|1``, … with ``msg_i``."""
    incarnation = int(time.time()) - 100
    records = []
    for event_type, name, description in (
        ("start", "init-local", "starting search for local datasources"),
        ("finish", "init-local/check-cache", "no cache found"),
    ):
        key = f"CLOUD_INIT|{incarnation}|{event_type}|{name}|{VM_ID}|{uuid.uuid4()}"
        value = json.dumps(
            {
                "name": name,
                "type": event_type,
                "ts": "2024-05-01T12:00:00+00:00",
                "msg": description,
            },
            separators=(",", ":"),
        )
        records.append((key, value))
    key = f"CLOUD_INIT|{incarnation}|finish|azure-ds|{VM_ID}|{uuid.uuid4()}"
    for index, part in enumerate(("x" * 900, "y" * 100)):
        records.append(
            (f"{key}|{index}", json.dumps({"msg_i": index, "msg": part}, separators=(",", ":")))
        )
    path.write_bytes(b"".join(struct.pack("512s2048s", k.encode(), v.encode()) for k, v in records))
    return records


# --- reading verbs -------------------------------------------------------------------------------


def test_info_prints_azure_inits_fields_and_json(ours: Path) -> None:
    text = kvp_process(*at(ours.parent), "info").stdout
    assert text.splitlines() == [
        "pool=guest",
        f"path={ours}",
        "mode=safe",
        "records=6",
        "empty=false",
        "stale=false",
        "max_key_size=254",
        "max_value_size=1022",
    ]
    as_json = kvp("info", *at(ours.parent), "--json", "--unsafe").stdout  # options after the verb
    assert as_json == (
        '{"empty":false,"max_key_size":512,"max_value_size":2048,"mode":"unsafe",'
        f'"path":{json.dumps(str(ours))},"pool":"guest","records":6,"stale":false}}\n'
    )


def test_dump_prints_every_record_in_order_and_json_as_one_array(ours: Path) -> None:
    records = pairs(ours)
    assert kvp_process(*at(ours.parent), "dump").stdout == "".join(f"{k}={v}\n" for k, v in records)
    expected = json.dumps([{"key": k, "value": v} for k, v in records], separators=(",", ":"))
    assert (
        kvp(*at(ours.parent), "--json", "dump").stdout
        == json.dumps(json.loads(expected), ensure_ascii=False, separators=(",", ":")) + "\n"
    )
    joined = kvp(*at(ours.parent), "dump", "--join").stdout.splitlines()
    assert "long=" + "é" * 700 in joined and len(joined) == len(records) - 1


def test_entries_prints_the_last_value_of_each_key_sorted(ours: Path) -> None:
    lines = kvp_process(*at(ours.parent), "entries").stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == sorted(
        ["a", "b", "long|0", "long|1", PROVISIONING_REPORT_KEY]
    )
    assert "b=two again" in lines
    as_json = json.loads(kvp(*at(ours.parent), "entries", "--json").stdout)
    assert list(as_json) == sorted(as_json) and as_json["b"] == "two again"


def test_read_prints_the_last_value_or_exits_1(ours: Path) -> None:
    assert kvp_process(*at(ours.parent), "read", "b").stdout == "two again\n"
    assert (
        kvp(*at(ours.parent), "--json", "read", "b").stdout == '{"key":"b","value":"two again"}\n'
    )
    missing = kvp(*at(ours.parent), "read", "nothing", expect=1)
    assert (missing.stdout, missing.stderr) == ("", "")
    assert kvp(*at(ours.parent), "read", "", expect=2).stderr.endswith(
        "KVP key must not be empty\n"
    )


def test_is_stale_and_info_follow_the_boot_time_equality_included(
    ours: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "stat"
    mtime = int(time.time()) - 100
    os.utime(ours, (mtime, mtime))
    for btime, stale in ((mtime - 1, False), (mtime, True), (mtime + 1, True)):
        fake.write_text(f"cpu 1\nbtime {btime}\n")
        options = [*at(ours.parent), "--proc-stat", str(fake)]
        result = kvp(*options, "is-stale", expect=0 if stale else 1)
        assert result.stdout == ("true\n" if stale else "false\n")
        assert (
            kvp(*options, "--json", "is-stale", expect=None).stdout
            == json.dumps({"stale": stale}).replace(" ", "") + "\n"
        )
    missing = kvp_process("--dir", str(tmp_path / "none"), "is-stale", expect=1)
    assert missing.stdout == "false\n"


# --- writing verbs -------------------------------------------------------------------------------


def test_write_replaces_every_prior_record_of_the_key_in_place(ours: Path) -> None:
    before = pairs(ours)
    kvp_process(*at(ours.parent), "write", "b", "three")
    after = pairs(ours)
    assert after[0] == ("b", "three") and ("b", "two again") not in after
    assert after[1:] == [pair for pair in before[1:] if pair[0] != "b"]
    kvp(*at(ours.parent), "write", "--append", "b", "four")
    assert pairs(ours)[-1] == ("b", "four")
    kvp(*at(ours.parent), "write", "new", "value")
    assert pairs(ours)[-1] == ("new", "value")


def test_write_checks_the_safe_limits_or_the_wire_limits_with_unsafe(tmp_path: Path) -> None:
    options = at(tmp_path)
    error = kvp(*options, "write", "k" * 255, "v", expect=2).stderr
    assert error.endswith("KVP key length (255) exceeds maximum (254)\n")
    error = kvp(*options, "write", "k", "é" * 512, expect=2).stderr
    assert error.endswith("KVP value length (1024) exceeds maximum (1022)\n")
    kvp(*options, "--unsafe", "write", "k" * 512, "é" * 1024)
    assert kvp(*options, "--unsafe", "write", "k", "v" * 2049, expect=2).returncode == 2
    assert pairs(tmp_path / ".kvp_pool_1") == [("k" * 512, "é" * 1024)]


def test_load_replaces_the_pool_and_append_multiple_adds_to_it(ours: Path, tmp_path: Path) -> None:
    lines = tmp_path / "records.txt"
    lines.write_text("x=1\r\n\ny=2=3\n")
    kvp_process(*at(ours.parent), "load", "--file", str(lines))
    assert pairs(ours) == [("x", "1"), ("y", "2=3")]
    kvp(*at(ours.parent), "append-multiple", input="x=4\nz=\n")
    assert pairs(ours) == [("x", "1"), ("y", "2=3"), ("x", "4"), ("z", "")]
    bad = kvp(*at(ours.parent), "load", input="a=1\nno separator\n", expect=2)
    assert bad.stderr.endswith("line 2 must be in key=value format\n")
    assert pairs(ours) == [("x", "1"), ("y", "2=3"), ("x", "4"), ("z", "")]  # untouched
    assert kvp(*at(ours.parent), "load", "--file", str(tmp_path / "absent"), expect=3).stderr


def test_delete_and_delete_multiple_print_what_they_removed(ours: Path) -> None:
    assert kvp_process(*at(ours.parent), "delete", "a").stdout == "true\n"
    assert kvp(*at(ours.parent), "--json", "delete", "a").stdout == '{"removed":false}\n'
    result = kvp(*at(ours.parent), "delete-multiple", "b", "long|1", "missing")
    assert result.stdout == "3\n"
    assert [key for key, _ in pairs(ours)] == ["long|0", PROVISIONING_REPORT_KEY]  # in order
    assert kvp(*at(ours.parent), "delete-multiple", expect=2).returncode == 2


def test_clear_empties_the_pool_and_if_stale_only_a_stale_one(ours: Path, tmp_path: Path) -> None:
    fake = tmp_path / "stat"
    fake.write_text(f"btime {int(ours.stat().st_mtime) - 10}\n")
    kvp(*at(ours.parent), "--proc-stat", str(fake), "clear", "--if-stale")
    assert len(pairs(ours)) == 6  # written since that boot: kept
    fake.write_text(f"btime {int(ours.stat().st_mtime)}\n")  # the same second: stale
    kvp_process(*at(ours.parent), "--proc-stat", str(fake), "clear", "--if-stale")
    assert ours.stat().st_size == 0
    kvp(*at(ours.parent), "write", "k", "v")
    kvp(*at(ours.parent), "clear")
    assert ours.stat().st_size == 0
    kvp("--dir", str(tmp_path / "none"), "clear")  # nothing to clear, nothing created


def test_report_success_replaces_the_writers_report_in_place(ours: Path) -> None:
    position = [key for key, _ in pairs(ours)].index(PROVISIONING_REPORT_KEY)
    kvp_process(
        *at(ours.parent),
        "report-success",
        "--vm-id",
        VM_ID,
        "--supporting-data",
        "k1='a,b',k2=v2",
        "--supporting-data",
        'k3="x"',
    )
    found = pairs(ours)
    assert [key for key, _ in found].count(PROVISIONING_REPORT_KEY) == 1
    key, value = found[position]
    assert key == PROVISIONING_REPORT_KEY
    head, _, tail = value.partition("|timestamp=")
    assert head == f"result=success|agent={DEFAULT_AGENT}|pps_type=None|vm_id={VM_ID}"
    assert tail.split("|", 1)[1] == "k1=a,b|k2=v2|k3=x"


def test_report_failure_takes_a_reason_and_ends_with_the_documentation_url(ours: Path) -> None:
    assert "--reason" in kvp(*at(ours.parent), "report-failure", "--vm-id", VM_ID, expect=2).stderr
    kvp_process(
        *at(ours.parent),
        "report-failure",
        "--vm-id",
        VM_ID,
        "--agent",
        "me/2",
        "--reason",
        "no network | retried",
        "--documentation-url",
        "https://aka.ms/linuxprovisioningerror",
        "--supporting-data",
        "step=dhcp",
    )
    [value] = [v for k, v in pairs(ours) if k == PROVISIONING_REPORT_KEY]
    fields = value.split("|timestamp=")
    assert fields[0] == (
        'result=error|"reason=no network | retried"|agent=me/2|step=dhcp|pps_type=None'
        f"|vm_id={VM_ID}"
    )
    assert fields[1].endswith("|documentation_url=https://aka.ms/linuxprovisioningerror")


def test_report_without_vm_id_uses_this_vms_or_says_to_pass_one(tmp_path: Path) -> None:
    found = system_vm_id()
    result = kvp(*at(tmp_path), "report-success", expect=2 if found is None else 0)
    if found is None:
        assert result.stderr.endswith("pass --vm-id explicitly\n")
        assert not (tmp_path / ".kvp_pool_1").exists()
    else:
        assert f"|vm_id={found}|" in pairs(tmp_path / ".kvp_pool_1")[0][1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("novalue", "must be in key=value format"),
        ("=v", "has an empty key"),
        ("k='a,b", "has an unterminated quote"),
        ("k='a,b'x", "has unexpected characters after a quoted value"),
    ],
)
def test_bad_supporting_data_is_a_usage_error(tmp_path: Path, data: str, message: str) -> None:
    """azure-init's rejected examples (cli.rs ``parse_supporting_data``); in-process."""
    options = [*at(tmp_path), "report-success", "--vm-id", VM_ID, "--supporting-data", data]
    with pytest.raises(SystemExit) as exit_info:
        main(options)
    assert exit_info.value.code == 2


def test_a_report_over_1022_bytes_is_a_usage_error(tmp_path: Path) -> None:
    result = kvp(
        *at(tmp_path), "report-failure", "--vm-id", VM_ID, "--reason", "r" * 1000, expect=2
    )
    assert "more than the 1022" in result.stderr
    assert not (tmp_path / ".kvp_pool_1").exists()


# --- pools, files and help -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("external", 0),
        ("0", 0),
        ("guest", 1),
        ("auto", 2),
        ("2", 2),
        ("auto-external", 3),
        ("auto-internal", 4),
        ("4", 4),
    ],
)
def test_pool_takes_azure_inits_names_and_aliases(tmp_path: Path, name: str, number: int) -> None:
    kvp("--pool", name, *at(tmp_path), "write", "k", "v")
    assert [path.name for path in tmp_path.iterdir()] == [f".kvp_pool_{number}"]


def test_an_unknown_pool_is_a_usage_error(tmp_path: Path) -> None:
    assert "invalid value '5'" in kvp("--pool", "5", *at(tmp_path), "info", expect=2).stderr


def test_pool_file_names_the_pool_directly(tmp_path: Path) -> None:
    pool = tmp_path / "any-name"
    kvp("--pool-file", str(pool), "write", "k", "v")
    assert pairs(pool) == [("k", "v")]
    assert "pool=file" in kvp("info", "--pool-file", str(pool)).stdout


def test_a_file_that_is_not_a_pool_is_exit_3_with_one_message_and_left_alone(
    tmp_path: Path,
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a pool\n")
    binary = tmp_path / "binary"
    binary.write_bytes(bytes(range(256)) * 20)  # 5120 bytes: two "records" of nonsense
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (tmp_path, text, binary, fifo):
        before = path.read_bytes() if path.is_file() else None
        for verb in (
            ["dump"],
            ["write", "k", "v"],
            ["report-success", "--vm-id", VM_ID],
            ["clear"],
            ["clear", "--if-stale"],
            ["is-stale"],  # not "false" (exit 1) nor "true": what is there is no pool at all
            ["info"],
        ):
            run = kvp_process if (path, verb) == (tmp_path, ["dump"]) else kvp
            result = run("--pool-file", str(path), *verb, expect=3)
            assert result.stdout == ""
            assert result.stderr.count("\n") == 1 and "is not a KVP pool" in result.stderr, (
                result.stderr
            )
        if before is not None:
            assert path.read_bytes() == before


def test_every_verb_refuses_a_symbolic_link_to_a_pool_even_is_stale(
    ours: Path, tmp_path: Path
) -> None:
    link = tmp_path / "link"
    link.symlink_to(ours)
    os.utime(ours, (0, 0))  # the target is stale: a followed link would say "true"
    for verb in (["is-stale"], ["info"], ["dump"], ["clear", "--if-stale"], ["write", "k", "v"]):
        result = kvp("--pool-file", str(link), *verb, expect=3)
        assert result.stdout == "" and "symbolic link" in result.stderr, result


def test_a_torn_tail_is_reported_once_and_cut_off_by_a_change(ours: Path) -> None:
    with ours.open("ab") as file:
        file.write(b"torn")
    result = kvp_process(*at(ours.parent), "dump")
    assert len(result.stdout.splitlines()) == 6
    assert (
        result.stderr.count("\n") == 1
        and "ends in 4 bytes that are not a whole record" in result.stderr
    )
    result = kvp(*at(ours.parent), "write", "k", "v")
    assert result.stderr.count("\n") == 1 and "cut off" in result.stderr
    assert ours.stat().st_size == 7 * RECORD_BYTES


def test_the_help_names_the_default_pool_and_every_verb() -> None:
    text = kvp_process("--help").stdout
    assert "/var/lib/hyperv/.kvp_pool_1" in text
    for verb in (
        "info",
        "dump",
        "entries",
        "read",
        "write",
        "load",
        "append-multiple",
        "delete",
        "delete-multiple",
        "clear",
        "is-stale",
        "report-success",
        "report-failure",
    ):
        assert verb in text
    assert "/var/lib/hyperv/.kvp_pool_1" in kvp("dump", "--help").stdout


def test_text_escapes_controls_and_json_is_exact(tmp_path: Path) -> None:
    pool = tmp_path / ".kvp_pool_1"
    pool.write_bytes(encode_kvp_record("k=\x1b[2J", "line\nbreak\x9b\u2028"))
    assert kvp(*at(tmp_path), "dump").stdout == "k\\x3d\\x1b[2J=line\\nbreak\\x9b\\u2028\n"
    as_json = kvp_process(*at(tmp_path), "dump", "--json").stdout
    assert as_json == '[{"key":"k=\\u001b[2J","value":"line\\nbreak\\u009b\\u2028"}]\n'
    assert json.loads(as_json) == [{"key": "k=\x1b[2J", "value": "line\nbreak\x9b\u2028"}]


# --- cloud-init's pool -----------------------------------------------------------------------


def test_a_pool_in_cloud_inits_format_reads_and_keeps_its_records(tmp_path: Path) -> None:
    pool = tmp_path / ".kvp_pool_1"
    records = cloud_init_pool(pool)
    assert kvp_process(*at(tmp_path), "dump").stdout == "".join(f"{k}={v}\n" for k, v in records)
    joined = kvp(*at(tmp_path), "--join", "--json", "dump").stdout
    last = json.loads(joined)[-1]
    assert last["chunks"] == 2 and last["key"] == records[-1][0][: -len("|1")]
    kvp(*at(tmp_path), "report-success", "--vm-id", VM_ID)
    assert pairs(pool)[:-1] == records
    assert pairs(pool)[-1][0] == PROVISIONING_REPORT_KEY


@pytest.fixture(scope="module")
def cloud_init() -> Iterator[Any]:
    """cloud-init's reporting modules, from Debian's package (tests/cloud_init.py)."""
    site = str(install_cloud_init())
    sys.path.insert(0, site)
    try:
        from cloudinit.reporting import events, handlers  # type: ignore[import-not-found]

        yield handlers, events
    finally:
        sys.path.remove(site)


def test_a_pool_written_by_cloud_inits_own_reporter(tmp_path: Path, cloud_init: Any) -> None:
    """cloud-init's own HyperVKvpReportingHandler writes the pool, a long description sliced
    over several records; every verb reads it, and a change keeps its records."""
    handlers, events = cloud_init
    pool = tmp_path / ".kvp_pool_1"
    handler = handlers.HyperVKvpReportingHandler(kvp_file_path=str(pool))
    handler.publish_event(events.ReportingEvent("start", "init-local", "searching"))
    handler.publish_event(events.FinishReportingEvent("azure-ds", "z" * 3000))
    handler.flush()
    rows = json.loads(kvp_process(*at(tmp_path), "--json", "dump").stdout)
    assert len(rows) >= 3  # the finish event's 3000 bytes take more than one record
    assert all(row["key"].startswith("CLOUD_INIT|") for row in rows)
    assert json.loads(rows[0]["value"])["msg"] == "searching"
    before = pairs(pool)
    kvp(*at(tmp_path), "report-success", "--vm-id", VM_ID)
    assert pairs(pool)[:-1] == before and pairs(pool)[-1][0] == PROVISIONING_REPORT_KEY
    [joined] = [
        r
        for r in json.loads(kvp(*at(tmp_path), "--json", "--join", "dump").stdout)
        if "azure-ds" in r["key"]
    ]
    assert joined["chunks"] >= 2


def test_the_console_script_is_the_command_line() -> None:
    import importlib
    import re

    [target] = re.findall(
        r'^azure-core-tracing-kvp = "([\w.:]+)"$', (ROOT / "pyproject.toml").read_text(), re.M
    )
    module, _, function = target.partition(":")
    assert getattr(importlib.import_module(module), function).__module__ == module
