from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from azure_core_tracing_opentelemetry.diagnostics import (
    DEFAULT_KVP_POOL_PATH,
    RECORD_BYTES,
    ZERO_GUID,
    KvpWriter,
    encode_kvp_record,
    read_kvp_pool,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import new_event_key
from azure_core_tracing_opentelemetry.diagnostics.kvp_writer import boot_time_from_proc_stat
from tests.opentelemetry.diagnostics.conftest import DIAGNOSTICS_LOGGER, VM_ID, written


def run_python(
    script: str, *args: str, prefix: Iterable[str] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith(DIAGNOSTICS_LOGGER)
    ]


@pytest.fixture
def held_lock(pool: Path) -> Iterator[int]:
    """Another agent holding the pool's flock, so the writer thread waits."""
    fd = os.open(pool, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield fd
    os.close(fd)


def test_the_default_pool_is_the_one_hv_kvp_daemon_reads() -> None:
    assert DEFAULT_KVP_POOL_PATH == "/var/lib/hyperv/.kvp_pool_1"


def test_every_record_is_whole_and_the_file_a_multiple_of_the_record_size(
    pool: Path, writer: KvpWriter
) -> None:
    for index in range(300):  # more than one batch
        writer.write(f"key-{index}", "v" * (index * 7))
    assert writer.flush(5.0)
    size = pool.stat().st_size
    chunks = sum(max(1, -(-index * 7 // 1022)) for index in range(300))  # ceil(bytes / 1022)
    assert size % RECORD_BYTES == 0 and size // RECORD_BYTES == chunks == 460
    records = read_kvp_pool(pool, join_chunks=True)
    assert [(r.key, r.value) for r in records] == [(f"key-{i}", "v" * (i * 7)) for i in range(300)]
    assert (writer.written, writer.dropped, writer.pool_error) == (300, 0, None)


def test_chunks_written_to_a_real_pool_rejoin_exactly(pool: Path, writer: KvpWriter) -> None:
    values = ["x" * 2100, "é€😀" * 200, "short"]  # 2100 bytes, 1800 bytes, 5 bytes
    for value in values:
        writer.write("event-" + str(len(value)), value)
    assert writer.flush(5.0)
    assert [r.key for r in read_kvp_pool(pool)] == [
        "event-2100|0",
        "event-2100|1",
        "event-2100|2",
        "event-600|0",
        "event-600|1",
        "event-5",
    ]
    joined = read_kvp_pool(pool, join_chunks=True)
    assert [(r.key, r.value, r.chunks) for r in joined] == [
        ("event-2100", values[0], 3),
        ("event-600", values[1], 2),
        ("event-5", "short", 1),
    ]


def test_a_missing_pool_is_created_with_mode_0600_whatever_the_umask(pool: Path) -> None:
    old = os.umask(0)  # the widest umask: only the mode passed to open counts
    try:
        kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
        assert kvp.flush(5.0)
    finally:
        os.umask(old)
    kvp.shutdown(5.0)
    assert stat.S_IMODE(pool.stat().st_mode) == 0o600


def test_an_existing_pool_keeps_its_mode(pool: Path) -> None:
    pool.touch(mode=0o644)
    os.chmod(pool, 0o644)
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kvp.write("k", "v")
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert stat.S_IMODE(pool.stat().st_mode) == 0o644


def test_a_pool_from_before_this_boot_is_emptied_at_start(pool: Path) -> None:
    pool.write_bytes(encode_kvp_record("old", "from the last boot") * 3)
    now = time.time()
    os.utime(pool, (now - 3600, now - 3600))
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=now - 60)  # booted a minute ago
    kvp.write("new", "this boot")
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert [(r.key, r.value) for r in read_kvp_pool(pool)] == [("new", "this boot")]


def test_a_pool_written_since_this_boot_is_kept(pool: Path) -> None:
    pool.write_bytes(encode_kvp_record("earlier", "this boot"))
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=time.time() - 60)
    kvp.write("later", "this boot too")
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert [r.key for r in read_kvp_pool(pool)] == ["earlier", "later"]


def test_the_boot_time_comes_from_proc_stat(tmp_path: Path) -> None:
    real = boot_time_from_proc_stat()
    assert real is not None and 0 < real < time.time()
    fake = tmp_path / "stat"
    fake.write_text("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n")
    assert boot_time_from_proc_stat(str(fake)) == 1700000000.0
    fake.write_text("cpu  1 2 3\n")
    assert boot_time_from_proc_stat(str(fake)) is None
    assert boot_time_from_proc_stat(str(tmp_path / "absent")) is None


def test_a_missing_directory_costs_records_not_the_application(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kvp = KvpWriter(tmp_path / "no" / "such" / "dir" / ".kvp_pool_1", vm_id=VM_ID, boot_time=0.0)
    for _ in range(3):
        assert kvp.write("k", "v")  # queued: the application is not told
        assert kvp.flush(5.0)
    assert kvp.shutdown(5.0)
    assert (kvp.written, kvp.dropped) == (0, 3)
    assert kvp.pool_error is not None and "No such file or directory" in kvp.pool_error
    [warning] = warnings_from(caplog)
    assert "cannot open KVP pool" in warning and "No such file or directory" in warning


def test_an_unwritable_pool_costs_records_not_the_application(tmp_path: Path) -> None:
    # As root, file modes bind nobody; setpriv drops the capabilities that let root through,
    # so the kernel's own permission check refuses the open (EACCES), as for any agent.
    pool = tmp_path / ".kvp_pool_1"
    pool.write_bytes(b"")
    pool.chmod(0o400)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) is needed to test EACCES as root"
        prefix = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--"]
    result = run_python(
        """
        import logging, sys
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
        from azure_core_tracing_opentelemetry.diagnostics import KvpWriter
        writer = KvpWriter(sys.argv[1], vm_id="vm", boot_time=0.0)
        for _ in range(5):
            writer.write("k", "v")
        print("flushed", writer.flush(10), "dropped", writer.dropped, "written", writer.written)
        print("the application goes on")
        """,
        str(pool),
        prefix=prefix,
    )
    assert result.returncode == 0, result.stderr
    assert "flushed True dropped 5 written 0" in result.stdout
    assert "the application goes on" in result.stdout
    warning_lines = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warning_lines) == 1, result.stderr
    assert "cannot open KVP pool" in warning_lines[0] and "Permission denied" in warning_lines[0]
    assert "Traceback" not in result.stderr
    assert pool.stat().st_size == 0


def test_a_full_disk_costs_records_not_the_application(caplog: pytest.LogCaptureFixture) -> None:
    # /dev/full is the kernel's own full disk: every write to it fails with ENOSPC.
    kvp = KvpWriter("/dev/full", vm_id=VM_ID, boot_time=0.0)
    for _ in range(4):
        kvp.write("k", "v")
        assert kvp.flush(5.0)
    assert kvp.shutdown(5.0)
    assert (kvp.written, kvp.dropped) == (0, 4)
    [warning] = warnings_from(caplog)
    assert "cannot write KVP pool /dev/full" in warning and "No space left on device" in warning


def test_a_write_cut_short_keeps_whole_entries_only(pool: Path) -> None:
    # The kernel's file-size limit (RLIMIT_FSIZE) stops a write part-way, as a filling disk
    # does: the writer must take back the piece so the pool stays whole records.
    result = run_python(
        """
        import fcntl, os, resource, signal, sys
        from azure_core_tracing_opentelemetry.diagnostics import KvpWriter
        path = sys.argv[1]
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = 2560 * 3 + 1000
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        other = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(other, fcntl.LOCK_EX)  # hold the writer back so all five go in one batch
        writer = KvpWriter(path, vm_id="vm", boot_time=0.0)
        for index in range(5):
            writer.write(f"k{index}", "v")
        fcntl.flock(other, fcntl.LOCK_UN)
        writer.flush(10)
        print(writer.written, writer.dropped, os.path.getsize(path))
        """,
        str(pool),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "2", str(3 * RECORD_BYTES)]
    assert "File too large" in result.stderr and result.stderr.count("WARNING") <= 1
    assert [r.key for r in read_kvp_pool(pool)] == ["k0", "k1", "k2"]


def test_a_full_queue_drops_and_warns_once(
    pool: Path, held_lock: int, caplog: pytest.LogCaptureFixture
) -> None:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0, max_queue=5)
    accepted = [kvp.write(f"k{i}", "v") for i in range(20)]  # the writer waits for the lock
    assert accepted == [True] * 5 + [False] * 15
    assert kvp.dropped == 15
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert [r.key for r in read_kvp_pool(pool)] == [f"k{i}" for i in range(5)]
    [warning] = warnings_from(caplog)
    assert "queue" in warning and "full" in warning


def test_flush_times_out_while_another_agent_holds_the_lock(pool: Path, held_lock: int) -> None:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kvp.write("k", "v")
    assert kvp.flush(0.2) is False
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert kvp.written == 1


def test_a_pool_that_holds_the_writer_costs_one_timed_wait_and_one_warning(
    pool: Path, held_lock: int, caplog: pytest.LogCaptureFixture
) -> None:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kvp.write("k", "v")
    assert kvp.flush(0.3) is False
    start = time.monotonic()
    assert kvp.flush(5.0) is False and kvp.flush(5.0) is False  # the pool still holds it
    assert time.monotonic() - start < 1.0
    [warning] = warnings_from(caplog)
    assert "took no write for 0.3 s" in warning and str(pool) in warning
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    assert kvp.flush(5.0) and kvp.written == 1  # let go: waits wait in full again
    fcntl.flock(held_lock, fcntl.LOCK_EX)
    kvp.write("k2", "v")
    assert kvp.flush(0.3) is False
    start = time.monotonic()
    assert kvp.shutdown(5.0) is False and time.monotonic() - start < 1.0
    assert len(warnings_from(caplog)) == 1  # once per writer
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    kvp.shutdown(5.0)


def test_a_busy_writer_is_no_hung_pool(pool: Path, caplog: pytest.LogCaptureFixture) -> None:
    # A wait that runs out while the writer renders (not while the pool holds it) is no
    # stall: no warning, and the next wait waits in full.
    gate = threading.Event()

    def slow(item: object) -> list[tuple[str, str]]:
        gate.wait(10.0)
        return [("slow", "v")]

    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kvp.submit(slow, None)
    assert kvp.flush(0.2) is False
    threading.Timer(0.3, gate.set).start()
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert warnings_from(caplog) == []


def test_a_flush_from_the_writers_own_thread_returns_instead_of_waiting_for_itself(
    pool: Path, writer: KvpWriter
) -> None:
    results: list[bool] = []

    def calls_back(item: object) -> list[tuple[str, str]]:
        results.append(writer.flush(5.0))
        return [("k", "v")]

    start = time.monotonic()
    writer.submit(calls_back, None)
    assert writer.flush(5.0) and results == [False] and time.monotonic() - start < 2.0


def test_a_torn_record_at_the_end_is_removed_before_appending(
    pool: Path, writer: KvpWriter, caplog: pytest.LogCaptureFixture
) -> None:
    pool.write_bytes(encode_kvp_record("whole", "1") + b"torn" * 25)
    writer.write("next", "2")
    assert writer.flush(5.0)
    assert pool.stat().st_size == 2 * RECORD_BYTES
    assert [r.key for r in read_kvp_pool(pool)] == ["whole", "next"]
    [warning] = warnings_from(caplog)
    assert "100 bytes of a torn record" in warning


def test_after_shutdown_entries_are_counted_as_dropped_with_one_warning(
    pool: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kvp.write("before", "1")
    assert kvp.shutdown(5.0)
    assert kvp.shutdown(5.0)  # again: harmless
    assert kvp.write("after", "2") is False and kvp.write("after", "3") is False
    assert kvp.flush(1.0)
    assert (kvp.written, kvp.dropped) == (1, 2)
    assert [r.key for r in read_kvp_pool(pool)] == ["before"]
    [warning] = warnings_from(caplog)
    assert "shut down" in warning


def test_shutdown_unregisters_the_exit_hook_so_the_writer_can_be_freed(pool: Path) -> None:
    kept = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kept_ref = weakref.ref(kept)
    freed = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    freed_ref = weakref.ref(freed)
    freed.shutdown(5.0)
    del kept, freed
    gc.collect()
    assert freed_ref() is None
    still = kept_ref()  # the exit hook holds it until shutdown
    assert still is not None
    still.shutdown(5.0)


def test_what_is_queued_is_written_at_interpreter_exit(pool: Path) -> None:
    result = run_python(
        """
        import sys
        from azure_core_tracing_opentelemetry.diagnostics import KvpWriter
        writer = KvpWriter(sys.argv[1], vm_id="vm", boot_time=0.0)
        for index in range(500):
            writer.write(f"k{index}", "v" * 100)
        # no flush, no shutdown: the exit hook does it
        """,
        str(pool),
    )
    assert result.returncode == 0, result.stderr
    assert len(read_kvp_pool(pool)) == 500


def test_an_entry_that_cannot_be_rendered_is_counted_and_the_writer_goes_on(
    pool: Path, writer: KvpWriter, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(item: Any) -> Iterable[tuple[str, str]]:
        raise RuntimeError("secret=hunter2")

    for _ in range(2):
        assert writer.submit(broken, None)
    writer.write("fine", "1")
    assert writer.flush(5.0)
    assert (writer.written, writer.dropped) == (1, 2)
    [warning] = warnings_from(caplog)
    assert "RuntimeError" in warning and "hunter2" not in caplog.text


def test_submit_without_a_render_takes_one_pair_and_counts_a_bad_one(
    pool: Path, writer: KvpWriter
) -> None:
    assert writer.submit(None, ("pair", "1"))
    assert writer.submit(None, "not a pair")  # found out on the writer thread, never raised
    writer.write("after", "2")
    assert [(r.key, r.value) for r in written(writer, pool)] == [("pair", "1"), ("after", "2")]
    assert (writer.written, writer.dropped) == (2, 1)


def test_an_entry_that_fails_half_way_leaves_none_of_its_records(
    pool: Path, writer: KvpWriter, held_lock: int, caplog: pytest.LogCaptureFixture
) -> None:
    def half(item: Any) -> Iterator[tuple[str, str]]:
        yield "half-1", "packed before the failure"
        raise RuntimeError("secret=hunter2")

    writer.write("before", "0")  # held back: all three go in one batch, packed in one buffer
    assert writer.submit(half, None)
    writer.write("after", "2")
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    assert [(r.key, r.value) for r in written(writer, pool)] == [("before", "0"), ("after", "2")]
    assert (writer.written, writer.dropped) == (2, 1)
    assert pool.stat().st_size == 2 * RECORD_BYTES and "hunter2" not in caplog.text


def test_entries_larger_than_a_batch_buffer_are_written_whole_and_later_ones_too(
    pool: Path, writer: KvpWriter, held_lock: int
) -> None:
    big = "é" * 200_000  # 400,000 bytes: 392 records, more than the writer's buffer holds
    writer.write("small", "s")
    assert writer.submit(lambda _: [("big", big), ("next", "n")], None)
    writer.write("last", "l")
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    assert writer.flush(10.0)
    for round_number in range(2):  # and again once the writer has given the large buffer back
        writer.write(f"again-{round_number}", "a" * 1022)
        assert writer.flush(10.0)
    records = read_kvp_pool(pool, join_chunks=True)
    assert [(r.key, r.chunks) for r in records] == [
        ("small", 1),
        ("big", 392),
        ("next", 1),
        ("last", 1),
        ("again-0", 1),
        ("again-1", 1),
    ]
    assert records[1].value == big and records[4].value == "a" * 1022
    assert writer.dropped == 0 and pool.stat().st_size == (392 + 5) * RECORD_BYTES


def test_bad_arguments_are_rejected_on_the_callers_thread(pool: Path, writer: KvpWriter) -> None:
    with pytest.raises(TypeError, match="value must be a str"):
        writer.write("k", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a str or KvpKey"):
        writer.write(b"k", "v")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 to 254"):
        writer.write("k" * 255, "v")
    with pytest.raises(ValueError, match="1 to 254"):
        writer.write("a\x00b", "v")
    with pytest.raises(ValueError, match="max_queue"):
        KvpWriter(pool, max_queue=0)
    with pytest.raises(ValueError, match="vm_id"):
        KvpWriter(pool, vm_id="a|b")
    with pytest.raises(ValueError, match="event_prefix"):
        KvpWriter(pool, vm_id=VM_ID, event_prefix="a|b")
    with pytest.raises(TypeError, match="event_prefix"):
        KvpWriter(pool, vm_id=VM_ID, event_prefix="")
    assert writer.dropped == 0


def test_the_vm_id_is_the_lowercased_product_uuid_or_the_zero_guid(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    product_uuid = tmp_path / "product_uuid"
    product_uuid.write_text("4C4C4544-0042-3510-8052-B4C04F4D4E31\n")
    pool = tmp_path / "pool"
    made = KvpWriter(
        pool,
        product_uuid_path=str(product_uuid),
        sysfs_efi_path=str(tmp_path),  # exists: a UEFI (Gen2) VM, whose UUID is not swapped
        boot_time=0.0,
    )
    assert made.vm_id == "4c4c4544-0042-3510-8052-b4c04f4d4e31"
    made.shutdown(5.0)
    assert not warnings_from(caplog)
    for content in (None, b"not a uuid", b"\xff\xfe" * 1000):
        if content is None:
            product_uuid.unlink()
        else:
            product_uuid.write_bytes(content)
        made = KvpWriter(pool, product_uuid_path=str(product_uuid), boot_time=0.0)
        assert made.vm_id == ZERO_GUID
        made.shutdown(5.0)
    assert len(warnings_from(caplog)) == 3
    assert all("VM id unreadable" in w for w in warnings_from(caplog))


def test_many_threads_write_whole_records(pool: Path) -> None:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0, max_queue=100_000)

    def work(thread: int) -> None:
        for index in range(500):
            kvp.write(f"t{thread}-{index}", f"{thread}:{index}:" + "é" * (index % 700))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert kvp.flush(10.0) and kvp.shutdown(5.0)
    records = read_kvp_pool(pool, join_chunks=True)
    assert len(records) == 4000 and kvp.dropped == 0
    assert {r.key for r in records} == {f"t{t}-{i}" for t in range(8) for i in range(500)}
    for record in records:
        number, index = record.key[1:].split("-")
        assert record.value == f"{number}:{index}:" + "é" * (int(index) % 700)


def test_four_processes_writing_at_once_leave_8000_whole_records(pool: Path) -> None:
    # A barrier, not a clock, makes them overlap (a clock fails on a busy machine): each
    # writes half its records, waits until every other has written half too, then the rest.
    script = """
        import sys, time
        from pathlib import Path
        from azure_core_tracing_opentelemetry.diagnostics import KvpWriter
        path, tag = sys.argv[1], sys.argv[2]
        barrier = Path(path).parent
        writer = KvpWriter(path, vm_id="vm", boot_time=0.0)
        for index in range(2000):
            if index == 1000:
                assert writer.flush(60)
                (barrier / f"half-{tag}").touch()
                deadline = time.time() + 60
                while len(list(barrier.glob("half-*"))) < 4 and time.time() < deadline:
                    time.sleep(0.001)
                print("met" if len(list(barrier.glob("half-*"))) == 4 else "alone")
            writer.write(f"p{tag}-{index}", f"{tag}:{index}:" + "v" * (index % 1500))
            if index % 25 == 0:
                time.sleep(0.0005)  # small batches: the processes take turns at the lock
        assert writer.shutdown(60)
        print(writer.written, writer.dropped)
        """
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), str(pool), str(tag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in range(4)
    ]
    outputs = [process.communicate(timeout=180) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert all(out.split() == ["met", "2000", "0"] for out, _ in outputs), outputs

    assert pool.stat().st_size % RECORD_BYTES == 0
    records = read_kvp_pool(pool, join_chunks=True)
    assert records.partial_bytes == 0
    assert len(records) == 8000
    order: dict[str, list[int]] = {}
    for record in records:
        tag, index = record.key[1:].split("-")
        assert record.value == f"{tag}:{index}:" + "v" * (int(index) % 1500)
        order.setdefault(tag, []).append(int(index))
    assert order == {str(tag): list(range(2000)) for tag in range(4)}  # each in its own order


def test_a_forked_child_writes_with_its_own_thread_and_nothing_twice(
    pool: Path, held_lock: int
) -> None:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    kvp.write("parent-before-fork", "1")
    time.sleep(0.1)  # the writer thread has the pool open and waits for the lock another holds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: known, handled
        child = os.fork()
    if child == 0:
        code = 1
        try:
            code = 0 if kvp.write("child", "2") and kvp.flush(10.0) else 3
        finally:
            os._exit(code)
    # Once the other agent lets go, the parent's thread locks the descriptor the child got a
    # copy of; unless the child closed its copy, the lock would outlive the parent's batch.
    fcntl.flock(held_lock, fcntl.LOCK_UN)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    assert sorted(r.key for r in read_kvp_pool(pool)) == ["child", "parent-before-fork"]


def test_a_symlink_planted_at_the_pool_path_is_never_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """In a pool directory anyone may write to, the writer does not write through a symbolic
    link another user put at the pool path: its records are dropped, said once."""
    shared = tmp_path / "hyperv"
    shared.mkdir()
    shared.chmod(0o777)
    target = tmp_path / "shadow"
    target.write_bytes(b"root:x:0:0\n")
    link = shared / ".kvp_pool_1"
    link.symlink_to(target)
    if os.geteuid() == 0:
        os.lchown(link, 65534, 65534)  # nobody's link, as an unprivileged user would leave it
    kvp = KvpWriter(link, vm_id=VM_ID, boot_time=time.time())
    for _ in range(3):
        kvp.write("k", "v")
        assert kvp.flush(5.0)
    assert kvp.shutdown(5.0)
    assert (kvp.written, kvp.dropped) == (0, 3)
    assert target.read_bytes() == b"root:x:0:0\n" and link.is_symlink()
    assert kvp.pool_error is not None and "symbolic link" in kvp.pool_error
    [warning] = warnings_from(caplog)
    assert "cannot open KVP pool" in warning and "symbolic link" in warning


# The 254-byte key holds the prefix, the VM id, four "|", "ERROR" and a 36-character id: with
# the one-byte prefix "p", a VM id of 176 bytes leaves exactly 32 for the name.
ROOMY_VM_ID = "v" * 176


@pytest.mark.parametrize(
    ("vm_id", "why"),
    [
        pytest.param("é" * 89, "30 bytes", id="178-bytes-in-89-characters"),
        pytest.param("v" * 240, "-32 bytes", id="no-room-at-all"),
        pytest.param("vm\n2024-05-01T12:00:00.000Z ERROR forged", "control", id="LF"),
        pytest.param("vm\x1b[2J", "control", id="ESC"),
        pytest.param("vm\x85", "control", id="NEL"),
        pytest.param("vm\u2028", "control", id="U+2028"),
        pytest.param("vm\ud800", "control", id="lone-surrogate"),
    ],
)
def test_a_vm_id_no_key_can_hold_is_refused_at_construction(
    pool: Path, vm_id: str, why: str
) -> None:
    """A VM id that leaves fewer than 32 bytes for a name (bytes, not characters), holds a
    control character or line separator, or is not UTF-8 is a ``ValueError`` naming it,
    before any thread starts."""
    threads = threading.active_count()
    with pytest.raises(ValueError, match="vm_id") as raised:
        KvpWriter(pool, event_prefix="p", vm_id=vm_id, boot_time=0.0)
    assert why in str(raised.value)
    assert threading.active_count() == threads and not pool.exists()


def test_a_vm_id_is_taken_up_to_32_bytes_left_for_the_name_and_refused_past_it(
    pool: Path,
) -> None:
    """At the limit a record still has room for the start of its name, even when chunked;
    one byte more is refused."""
    kvp = KvpWriter(pool, event_prefix="p", vm_id=ROOMY_VM_ID, boot_time=0.0)
    assert kvp.submit(None, (new_event_key("p", ROOMY_VM_ID, "ERROR", "n" * 100), "v" * 3000))
    assert kvp.flush(5.0) and kvp.shutdown(5.0)
    records = read_kvp_pool(pool)
    assert len(records) == 3 and kvp.dropped == 0
    assert all(r.key.startswith(f"p|{ROOMY_VM_ID}|ERROR|nnnnnnnnnnnnnnnnn") for r in records)
    with pytest.raises(ValueError, match=r"vm_id .*31 bytes"):
        KvpWriter(pool, event_prefix="p", vm_id=ROOMY_VM_ID + "v", boot_time=0.0)


@pytest.mark.parametrize(
    "prefix",
    ["agent\n", "agent\x1b[2J", "agent\x9b", "agent\u2029", "\udcff"],
    ids=["LF", "ESC", "CSI", "U+2029", "lone-surrogate"],
)
def test_an_event_prefix_with_a_control_or_no_utf8_is_refused(pool: Path, prefix: str) -> None:
    """A prefix holding a control character or line separator, or not UTF-8, is a
    ``ValueError`` naming it."""
    with pytest.raises(ValueError, match="event_prefix"):
        KvpWriter(pool, vm_id=VM_ID, event_prefix=prefix)


def test_a_vm_id_that_is_not_a_str_is_a_type_error(pool: Path) -> None:
    """The wrong type is a ``TypeError`` naming the argument."""
    with pytest.raises(TypeError, match="vm_id must be a str"):
        KvpWriter(pool, vm_id=b"0a1b2c3d")  # type: ignore[arg-type]


def _wait_for(pid: int, seconds: float) -> int:
    """The child's exit code, or -9 after killing it when it has not ended in ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -9


@contextlib.contextmanager
def _busy_writer(pool: Path) -> Iterator[tuple[KvpWriter, list[int]]]:
    """A writer whose thread opens, locks, writes and closes the pool over and over, with the
    interpreter switching threads as often as it can, so forks land in every part of that."""
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    stop = threading.Event()
    count = [0]

    def churn() -> None:
        while not stop.is_set():
            kvp.write(f"parent-{count[0]}", "p")
            count[0] += 1
            kvp.flush(5.0)  # one batch, one open of the pool, per record

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    thread = threading.Thread(target=churn)
    thread.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: handled
            yield kvp, count
    finally:
        stop.set()
        thread.join(10.0)
        sys.setswitchinterval(interval)
        kvp.shutdown(5.0)


def _check_pool(kvp: KvpWriter, pool: Path, parent_records: int, children: list[str]) -> None:
    """Whole records: each child's once, and every one the parent wrote, in its order."""
    assert kvp.dropped == 0
    records = read_kvp_pool(pool)
    assert records.partial_bytes == 0
    keys = [r.key for r in records]
    assert sorted(k for k in keys if k.startswith("child")) == sorted(children)
    assert [k for k in keys if k.startswith("parent")] == [
        f"parent-{index}" for index in range(parent_records)
    ]


def test_a_fork_while_the_writer_opens_or_holds_the_pool_leaves_child_and_parent_writing(
    pool: Path,
) -> None:
    """Forked at any point of the writer's open, lock, write and close, a child writes with
    its own thread (within seconds, not forever), and the parent's writer goes on."""
    children: list[str] = []
    with _busy_writer(pool) as (kvp, count):
        deadline = time.monotonic() + 4.0
        while len(children) < 100 and time.monotonic() < deadline:
            name = f"child-{len(children)}"
            child = os.fork()
            if child == 0:
                code = 1
                try:
                    code = 0 if kvp.write(name, "c") and kvp.flush(3.0) else 3
                finally:
                    os._exit(code)
            assert _wait_for(child, 10.0) == 0, f"{name} could not write (3) or hung (-9)"
            children.append(name)
        assert kvp.flush(5.0), "the parent's writer stalled"
    _check_pool(kvp, pool, count[0], children)
    assert len(children) >= 10


def _child_writes(kvp: KvpWriter, name: str) -> None:
    if not (kvp.write(name, "c") and kvp.flush(3.0)):
        sys.exit(3)


def test_multiprocessing_children_forked_from_a_busy_writer_write_their_records(
    pool: Path,
) -> None:
    """``multiprocessing`` with the fork start method: every child's record is written, each
    once, and the parent's too."""
    forking = multiprocessing.get_context("fork")
    children: list[str] = []
    with _busy_writer(pool) as (kvp, count):
        deadline = time.monotonic() + 4.0
        while len(children) < 200 and time.monotonic() < deadline:
            name = f"child-{len(children)}"
            process = forking.Process(target=_child_writes, args=(kvp, name))
            process.start()
            process.join(10.0)
            if process.exitcode is None:
                process.kill()
                process.join()
            assert process.exitcode == 0, f"{name} could not write (3) or hung (None, -9)"
            children.append(name)
        assert kvp.flush(5.0), "the parent's writer stalled"
    _check_pool(kvp, pool, count[0], children)
    assert len(children) >= 5


@pytest.mark.parametrize("planted", ["hard link", "fifo"])
def test_a_hard_link_or_fifo_planted_at_the_pool_path_is_never_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, planted: str
) -> None:
    """A hard link to another file is not written through; a FIFO does not block the writer."""
    target = tmp_path / "shadow"
    target.write_bytes(b"root:x:0:0\n")
    pool = tmp_path / ".kvp_pool_1"
    if planted == "hard link":
        os.link(target, pool)
    else:
        os.mkfifo(pool)
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=time.time())
    kvp.write("k", "v")
    assert kvp.flush(5.0)
    assert kvp.shutdown(5.0)
    assert (kvp.written, kvp.dropped) == (0, 1)
    assert target.read_bytes() == b"root:x:0:0\n"
    [warning] = warnings_from(caplog)
    assert "cannot open KVP pool" in warning


def test_a_pool_modified_in_the_boot_second_is_stale_as_azure_init_says(
    pool: Path, tmp_path: Path
) -> None:
    """Stale when the modification time in whole seconds is at or before ``btime``: equality
    included, a fraction of a second after it too (it is the same whole second)."""
    fake_stat = tmp_path / "stat"
    btime = int(time.time()) - 60
    fake_stat.write_text(f"cpu  1 2 3\nbtime {btime}\nprocesses 5\n")
    boot = boot_time_from_proc_stat(str(fake_stat))
    assert boot == btime
    for mtime, emptied in (
        (btime - 1, True),
        (btime, True),
        (btime + 0.999, True),
        (btime + 1, False),
    ):
        pool.write_bytes(encode_kvp_record("old", "before"))
        os.utime(pool, (mtime, mtime))
        kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=boot)
        kvp.write("new", "after")
        assert kvp.flush(5.0) and kvp.shutdown(5.0)
        expected = ["new"] if emptied else ["old", "new"]
        assert [r.key for r in read_kvp_pool(pool)] == expected, mtime


def test_a_stale_pool_is_emptied_once_before_the_first_write_not_at_every_batch(
    pool: Path,
) -> None:
    """A boot time ahead of every write keeps the pool stale by the rule: only the writer's
    start empties it, and each later batch is kept."""
    pool.write_bytes(encode_kvp_record("old", "from the last boot"))
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=time.time() + 3600)
    for index in range(3):
        kvp.write(f"batch-{index}", "this boot")
        assert kvp.flush(5.0)
    assert kvp.shutdown(5.0)
    assert [r.key for r in read_kvp_pool(pool)] == ["batch-0", "batch-1", "batch-2"]
