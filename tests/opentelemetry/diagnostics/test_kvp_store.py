"""One ``PROVISIONING_REPORT``, replaced in place under the writer's locks, by the writer, the
layers and the command line, also from real processes writing the same pool at once."""

from __future__ import annotations

import logging
import multiprocessing
import os
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics import (
    PROVISIONING_REPORT_KEY,
    RECORD_BYTES,
    KvpLogHandler,
    KvpWriter,
    ProvisioningReport,
    encode_kvp_record,
    read_kvp_pool,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_cli import main as kvp_cli
from azure_core_tracing_opentelemetry.diagnostics.kvp_store import (
    lock_pool,
    locked_pool,
    open_pool,
    replace_record,
)
from tests.opentelemetry.diagnostics.conftest import VM_ID, written

REPORT = PROVISIONING_REPORT_KEY.encode()


def keys(pool: Path) -> list[str]:
    return [record.key for record in read_kvp_pool(pool)]


def test_the_writer_replaces_the_report_in_place_and_removes_older_copies(pool: Path) -> None:
    """A pool from an earlier agent holding two reports: the new one takes the first's place,
    the second goes, and every other record keeps its order."""
    pool.write_bytes(
        encode_kvp_record("event-1", "a")
        + encode_kvp_record(PROVISIONING_REPORT_KEY, "result=success|old")
        + encode_kvp_record("event-2", "b")
        + encode_kvp_record(PROVISIONING_REPORT_KEY, "result=error|older")
        + encode_kvp_record("event-3", "c")
    )
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    report = ProvisioningReport.success("A/1", VM_ID)
    writer.write("event-4", "d")
    writer.write(PROVISIONING_REPORT_KEY, report.encode())
    writer.write("event-5", "e")
    records = written(writer, pool)
    writer.shutdown(5.0)
    assert [(r.key, r.value) for r in records] == [
        ("event-1", "a"),
        (PROVISIONING_REPORT_KEY, report.encode()),
        ("event-2", "b"),
        ("event-3", "c"),
        ("event-4", "d"),
        ("event-5", "e"),
    ]


def test_reports_logged_through_the_layer_replace_each_other(writer: KvpWriter, pool: Path) -> None:
    logger = logging.getLogger("provisioning.reports")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = KvpLogHandler(writer)
    logger.addHandler(handler)
    try:
        logger.info("first event")
        failure = ProvisioningReport.error("no network", "A/1", VM_ID, step="dhcp")
        logger.info("failed", extra={"health_report": failure})
        logger.info("second event")
        assert writer.flush(5.0)  # the second report in a later batch, the first in the pool
        place = [r.key for r in written(writer, pool)].index(PROVISIONING_REPORT_KEY)
        success = ProvisioningReport.success("A/1", VM_ID)
        logger.info("retried", extra={"health_report": success})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    records = written(writer, pool)
    assert [r.value for r in records if r.key == PROVISIONING_REPORT_KEY] == [success.encode()]
    assert [r.key for r in records].index(PROVISIONING_REPORT_KEY) == place  # the first's place


def test_a_report_on_a_device_is_written_and_on_a_full_disk_counted_as_lost() -> None:
    """Mocked nowhere: /dev/null takes the record, /dev/full (a full disk) refuses it."""
    quiet = KvpWriter("/dev/null", vm_id=VM_ID, boot_time=0.0)
    quiet.write(PROVISIONING_REPORT_KEY, "result=success")
    assert quiet.flush(5.0) and quiet.shutdown(5.0)
    assert (quiet.written, quiet.dropped) == (1, 0)
    full = KvpWriter("/dev/full", vm_id=VM_ID, boot_time=0.0)
    full.write(PROVISIONING_REPORT_KEY, "result=success")
    assert full.flush(5.0) and full.shutdown(5.0)
    assert (full.written, full.dropped) == (0, 1)
    assert full.pool_error is not None and "No space left" in full.pool_error


def test_replace_record_cuts_a_torn_tail_before_appending(pool: Path) -> None:
    pool.write_bytes(encode_kvp_record("whole", "1") + b"torn")
    with locked_pool(str(pool), update=True) as fd:
        assert not replace_record(fd, REPORT, encode_kvp_record(PROVISIONING_REPORT_KEY, "r"))
    assert pool.stat().st_size == 2 * RECORD_BYTES
    assert keys(pool) == ["whole", PROVISIONING_REPORT_KEY]


def test_open_pool_refuses_a_symbolic_link_and_a_hard_link(tmp_path: Path, pool: Path) -> None:
    pool.write_bytes(b"")
    link = tmp_path / "link"
    link.symlink_to(pool)
    with pytest.raises(OSError, match="symbolic link"):
        open_pool(str(link), update=True)
    hard = tmp_path / "hard"
    os.link(pool, hard)
    with pytest.raises(OSError, match="hard link"):
        open_pool(str(hard), update=True)


def _writer_process(pool: str, index: int, rounds: int) -> None:
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    for round_ in range(rounds):
        writer.write(f"writer-{index}-event-{round_}", "x" * 500)
        if round_ % 5 == 0:
            report = ProvisioningReport.success(f"writer-{index}/{round_}", VM_ID)
            writer.write(PROVISIONING_REPORT_KEY, report.encode())
        if round_ % 7 == 0:
            writer.flush(5.0)  # many batches: many lock holds to interleave with
    writer.shutdown(10.0)
    assert writer.dropped == 0


def _cli_process(pool: str, index: int, rounds: int) -> None:
    for round_ in range(rounds):
        assert kvp_cli(["--pool-file", pool, "write", f"cli-{index}-{round_}", "v"]) == 0
        agent = f"--agent=cli-{index}/{round_}"
        assert kvp_cli(["--pool-file", pool, "report-success", "--vm-id", VM_ID, agent]) == 0


def test_processes_writing_one_pool_at_once_leave_one_report_and_every_record(
    pool: Path,
) -> None:
    """Real processes (two writers, two command lines) at once: the locks keep every record
    whole, nothing is lost, and there is one PROVISIONING_REPORT at the end."""
    context = multiprocessing.get_context("fork")  # spawn would import everything 4 times
    writers, clis, rounds = 2, 2, 60
    processes = [
        context.Process(target=_writer_process, args=(str(pool), index, rounds))
        for index in range(writers)
    ] + [
        context.Process(target=_cli_process, args=(str(pool), index, rounds // 3))
        for index in range(clis)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert pool.stat().st_size % RECORD_BYTES == 0
    found = keys(pool)
    assert found.count(PROVISIONING_REPORT_KEY) == 1
    expected = {f"writer-{i}-event-{r}" for i in range(writers) for r in range(rounds)}
    expected |= {f"cli-{i}-{r}" for i in range(clis) for r in range(rounds // 3)}
    assert sorted(key for key in found if key != PROVISIONING_REPORT_KEY) == sorted(expected)
    with locked_pool(str(pool), update=False) as fd:
        lock_pool(fd, exclusive=False)  # a reader's shared lock, taken again: no deadlock


def _held(pool: Path) -> int:
    """The pool's exclusive locks, held by this process until the descriptor is closed."""
    fd = os.open(pool, os.O_RDWR | os.O_CREAT, 0o600)
    lock_pool(fd, exclusive=True)
    return fd


def test_the_writer_waits_for_the_lock_to_replace_the_report(pool: Path) -> None:
    writer = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    assert writer.flush(5.0)  # started: the pool prepared
    fd = _held(pool)
    try:
        writer.write(PROVISIONING_REPORT_KEY, "result=success")
        assert not writer.flush(0.3)  # waiting on the lock
        assert pool.stat().st_size == 0  # (reading it here would wait on the lock as well)
    finally:
        os.close(fd)
    assert writer.flush(5.0) and writer.shutdown(5.0)
    assert keys(pool) == [PROVISIONING_REPORT_KEY]


def test_the_command_line_waits_for_the_lock_to_write(pool: Path) -> None:
    import subprocess
    import sys

    fd = _held(pool)
    try:
        command = [sys.executable, "-m", "azure_core_tracing_opentelemetry.diagnostics"]
        child = subprocess.Popen([*command, "--pool-file", str(pool), "write", "k", "v"])
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(1.0)  # the interpreter starts in about half of that, then waits
        assert pool.stat().st_size == 0
    finally:
        os.close(fd)
    assert child.wait(30) == 0
    assert keys(pool) == ["k"]
