"""``KvpWriter``: appends KVP records to a pool from a background thread, in batches, under lock.

The caller's thread only appends to a bounded queue; an entry is in the pool within
``max_delay`` (0.1 s by default) while the pool takes writes. The writer thread renders entries
into records, takes the pool's exclusive ``flock`` (the lock cloud-init and azure-init take) and a
POSIX ``lockf`` (the lock ``hv_kvp_daemon`` takes while it rewrites the pool), appends the
batch with one ``write``, and lets go. It never opens the pool through a symbolic link (see
``files.py``). A forked child gets a writer of its own (a new thread, queue and locks, its copy
of the parent's descriptor closed), whenever the fork comes. Nothing it does raises into the
application: a failure is counted in ``dropped`` and logged once per kind as a WARNING.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import fcntl
import logging
import os
import stat
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any, Callable, Optional, Union

from azure_core_tracing_opentelemetry.diagnostics.files import open_for_append
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import (
    DEFAULT_EVENT_PREFIX,
    DEV_EFI_PATH,
    MIN_NAME_BYTES,
    PRODUCT_UUID_PATH,
    SYSFS_EFI_PATH,
    KvpKey,
    check_event_prefix,
    check_vm_id_text,
    name_room,
    read_vm_id,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import (
    KEY_MAX_BYTES,
    RECORD_BYTES,
    encode_kvp_record,
    pack_kvp_record,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_store import (
    lock_pool,
    open_pool,
    replace_record,
)
from azure_core_tracing_opentelemetry.diagnostics.report import PROVISIONING_REPORT_KEY

DEFAULT_KVP_POOL_PATH = "/var/lib/hyperv/.kvp_pool_1"
PROC_STAT_PATH = "/proc/stat"
Render = Callable[[Any], Iterable[tuple[Union[str, KvpKey], str]]]
"""Turns a queued item into ``(key, value)`` pairs, on the writer thread."""
# Queued: (None, key, value) from write, (render, item, None) from submit.
_Entry = tuple[Optional[Render], Any, Any]

_MAX_BATCH = 256  # entries per lock hold: keeps hv_kvp_daemon's wait short
_BUFFER_BYTES = _MAX_BATCH * RECORD_BYTES  # a batch of one-record entries, packed in place
_IDLE_WAKE_SECONDS = 1.0
DEFAULT_MAX_DELAY = 0.1
"""Seconds within which a queued entry reaches the pool, by default (``max_delay``)."""
MAX_DELAY_LIMIT = 60.0
EXIT_TIMEOUT_LIMIT = 3600.0
DEFAULT_EXIT_TIMEOUT = 5.0
"""Seconds the exit paths (``atexit``, SIGTERM, an uncaught exception) wait for the pool."""
# How long a timed wait waits while an earlier one ran out on a pool that still has not let the
# writer go: time to see it let go, no more.
_STALLED_WAIT_SECONDS = 0.1
_ASCII_KEY_MAX = KEY_MAX_BYTES  # an ASCII key of this many characters has as many bytes
_STOP = object()
# How long a fork waits for a writer to finish opening or closing the pool: both take
# microseconds on a local disk; a hung file system must not hang the application's fork.
_FORK_WAIT_SECONDS = 1.0
_log = logging.getLogger(__name__)
_live_writers: weakref.WeakSet[KvpWriter] = weakref.WeakSet()
_held_for_fork: list[KvpWriter] = []


def boot_time_from_proc_stat(path: str = PROC_STAT_PATH) -> Optional[float]:
    """Seconds since the epoch at which the system booted (``btime``), or None if unknown."""
    try:
        with open(path, encoding="ascii") as file:
            for line in file:
                if line.startswith("btime "):
                    return float(int(line.split()[1]))  # whole seconds, as the kernel writes
    except (OSError, ValueError, IndexError):
        pass
    return None


def is_stale(info: os.stat_result, boot_time: float) -> bool:
    """azure-init's rule: a pool last modified at or before boot, in whole seconds, is stale."""
    return info.st_mtime_ns // 1_000_000_000 <= boot_time


def check_vm_id(vm_id: object, event_prefix: str) -> str:
    """``vm_id`` if every record key of a writer with it and ``event_prefix`` can hold it.

    A ``TypeError`` if it is not a str; a ``ValueError`` if it holds a '|', a control
    character, a line separator or a lone surrogate, or if it leaves fewer than
    ``MIN_NAME_BYTES`` of the key for the name (``event_prefix`` checked before).
    """
    vm_id = check_vm_id_text(vm_id)
    room = name_room(event_prefix, vm_id, KEY_MAX_BYTES)
    if room < MIN_NAME_BYTES:
        raise ValueError(
            f"vm_id ({len(vm_id.encode('utf-8'))} bytes) and event_prefix "
            f"({len(event_prefix.encode('utf-8'))} bytes) leave {room} bytes for the name in a "
            f"{KEY_MAX_BYTES}-byte KVP key; at least {MIN_NAME_BYTES} are needed"
        )
    return vm_id


def check_seconds(name: str, value: object, high: float, *, zero_ok: bool) -> float:
    """``value`` as a float if it is a number of seconds from 0 (or just above) to ``high``;
    else a ``TypeError`` or ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    seconds = float(value)
    if not (0.0 <= seconds <= high) or (seconds == 0.0 and not zero_ok):  # NaN fails too
        low = "0 <=" if zero_ok else "0 <"
        raise ValueError(f"{name} must be {low} {name} <= {high:g} seconds, got {value!r}")
    return seconds


def check_max_delay(value: object, name: str = "max_delay") -> float:
    """``value`` if it can be a writer's ``max_delay``: more than 0, at most 60 seconds."""
    return check_seconds(name, value, MAX_DELAY_LIMIT, zero_ok=False)


def check_exit_timeout(value: object, name: str = "exit_timeout") -> float:
    """``value`` if it can be a writer's ``exit_timeout``: 0 (do not wait) to 3600 seconds."""
    return check_seconds(name, value, EXIT_TIMEOUT_LIMIT, zero_ok=True)


def _one_pair(item: tuple[Union[str, KvpKey], str]) -> tuple[tuple[Union[str, KvpKey], str]]:
    return (item,)


def _check_key(key: object) -> None:
    if isinstance(key, str):
        if not key or "\x00" in key or len(key.encode("utf-8", "replace")) > KEY_MAX_BYTES:
            raise ValueError(f"key must be 1 to {KEY_MAX_BYTES} UTF-8 bytes without NUL")
    elif not isinstance(key, KvpKey):
        raise TypeError(f"key must be a str or KvpKey, got {type(key).__name__}")


class KvpWriter:
    """Appends records to the KVP pool at ``path`` from a daemon thread; see ``dropped``."""

    def __init__(
        self,
        path: Union[str, os.PathLike[str]] = DEFAULT_KVP_POOL_PATH,
        *,
        event_prefix: str = DEFAULT_EVENT_PREFIX,
        vm_id: Optional[str] = None,
        product_uuid_path: str = PRODUCT_UUID_PATH,
        sysfs_efi_path: str = SYSFS_EFI_PATH,
        dev_efi_path: str = DEV_EFI_PATH,
        boot_time: Optional[float] = None,
        max_queue: int = 10_000,
        max_delay: float = DEFAULT_MAX_DELAY,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
    ) -> None:
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be a positive int, got {max_queue!r}")
        self.max_delay = check_max_delay(max_delay)
        """Seconds within which a queued entry is in the pool (while the pool takes writes)."""
        self.exit_timeout = check_exit_timeout(exit_timeout)
        """Seconds each exit path (``atexit``, SIGTERM, an uncaught exception) waits, at most."""
        # After the first entry, wait half the delay for more (unless a flush or a full batch
        # comes first): waking per entry would cost every caller a thread switch, and the
        # other half is the writer's to render and write what came.
        self._linger = self.max_delay / 2
        self.path = os.fspath(path)
        """The pool file."""
        self.event_prefix = check_event_prefix(event_prefix)
        """The first field of every event key."""
        # Checked here: a VM id no key can hold would otherwise cost every record, later.
        if vm_id is None:
            vm_id = read_vm_id(
                product_uuid_path, sysfs_efi_path=sysfs_efi_path, dev_efi_path=dev_efi_path
            )
        self.vm_id = check_vm_id(vm_id, self.event_prefix)
        """The second field of every event key."""
        self._boot_time = boot_time
        self._max_queue = max_queue
        self._closed = False
        # The writer thread is between opening the pool and closing it (a hung file system or
        # another agent's lock keeps it there) ...
        self._in_pool = False
        # ... and a timed wait ran out meanwhile: until the pool is let go, later timed waits
        # are short, so a hung pool costs an exit one timeout, not one per exit path.
        self._stalled = False
        self._dropped = 0
        self._written = 0
        self._pool_error: Optional[str] = None
        self._fd: Optional[int] = None  # the pool, while the writer thread has it open
        # Held while the pool is opened or closed and _fd set to match: a fork waits for it,
        # so a child always knows the one descriptor it got a copy of.
        self._fd_guard = threading.Lock()
        self._warned: set[str] = set()
        # Re-entrant: a SIGTERM handler's flush may warn while the main thread, interrupted,
        # holds it (counting a drop, say).
        self._state_lock = threading.RLock()
        _live_writers.add(self)  # before the thread: a fork from now on must see this writer
        self._start_thread()
        atexit.register(self._at_exit)

    @property
    def dropped(self) -> int:
        """Entries lost (full queue, closed writer, or a pool that could not be written).

        An entry is what one call queued: a ``write``, a span with its events, a log record.
        """
        return self._dropped

    @property
    def written(self) -> int:
        """Entries appended to the pool so far."""
        return self._written

    @property
    def pool_error(self) -> Optional[str]:
        """Why the last attempt to open or write the pool failed; None after a success."""
        return self._pool_error

    def write(self, key: Union[str, KvpKey], value: str) -> bool:
        """Queue one key and value (split over records if long); False if it was dropped."""
        # Checked here, not on the writer thread, so a bad key fails where it was made.
        if (
            type(key) is not str
            or not 0 < len(key) <= _ASCII_KEY_MAX
            or not key.isascii()
            or "\x00" in key
        ):
            _check_key(key)
        if type(value) is not str:
            raise TypeError(f"value must be a str, got {type(value).__name__}")
        return self._queue((None, key, value))

    def submit(self, render: Optional[Render], item: Any) -> bool:
        """Queue ``item``; the writer thread calls ``render(item)`` for its key/value pairs
        (``None``: ``item`` is one ``(key, value)`` pair)."""
        # _queue's lines, written out: this is the path of every span and log record, and a
        # Python call more is a tenth of a microsecond on the application's thread.
        pending = self._pending
        if self._closed or len(pending) >= self._max_queue:
            self._lose_on_caller()
            return False
        pending.append((_one_pair if render is None else render, item, None))
        if not self._wake.is_set():
            self._wake.set()
        elif len(pending) == _MAX_BATCH:
            self._hurry.set()
        return True

    def _queue(self, entry: _Entry) -> bool:
        # One flat tuple per entry: each allocation of a tracked object brings the cyclic
        # garbage collector nearer, and a full queue holds thousands of them.
        pending = self._pending
        if self._closed or len(pending) >= self._max_queue:
            self._lose_on_caller()
            return False
        pending.append(entry)
        if not self._wake.is_set():
            self._wake.set()
        elif len(pending) == _MAX_BATCH:
            self._hurry.set()
        return True

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until everything queued before this call is written or dropped; False if
        ``timeout`` seconds passed first (0.1 s while the pool is known to hang)."""
        if not self._thread.is_alive():
            return not self._pending
        if threading.current_thread() is self._thread:
            return False  # a render calling back in: waiting for itself would never end
        done = threading.Event()
        self._pending.append(done)
        self._wake.set()
        self._hurry.set()
        return done.wait(self._bounded(timeout)) or self._timed_out(timeout)

    def shutdown(self, timeout: Optional[float] = None) -> bool:
        """Write what is queued, stop the thread and refuse (count) later entries."""
        with self._state_lock:
            already = self._closed
            self._closed = True
        if not already:
            atexit.unregister(self._at_exit)
            self._pending.append(_STOP)
            self._wake.set()
            self._hurry.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(self._bounded(timeout))
        return not self._thread.is_alive() or self._timed_out(timeout)

    def _at_exit(self) -> None:
        self.shutdown(self.exit_timeout)

    def _bounded(self, timeout: Optional[float]) -> Optional[float]:
        if timeout is not None and self._stalled and self._in_pool:
            return min(timeout, _STALLED_WAIT_SECONDS)
        return timeout

    def _timed_out(self, timeout: Optional[float]) -> bool:
        """Always False: a wait of ``timeout`` ran out; if the pool held the writer, say so."""
        if self._in_pool:
            self._stalled = True
            self._warn_once(
                "stalled",
                "KVP pool %s took no write for %.3g s (locked by another process, or on a hung "
                "file system); records still queued are lost if the process ends",
                self.path,
                timeout or 0.0,
            )
        return False

    def _start_thread(self) -> None:
        self._pending: deque[Any] = deque()
        self._wake = threading.Event()
        self._hurry = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kvp-writer", daemon=True)
        self._thread.start()

    def _after_fork_in_child(self) -> None:
        # The parent's thread did not come along, and the parent writes its own queue.
        fd, self._fd = self._fd, None
        if fd is not None:
            # A copy of the descriptor the parent's thread was writing with: while the child
            # keeps it, the flock on it stays held, and the child's own writer (and, once the
            # parent's thread has let go, the parent's next batch) would wait for it forever.
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd_guard = threading.Lock()
        self._state_lock = threading.RLock()
        self._in_pool = self._stalled = False  # the parent's thread was there, not ours
        if not self._closed:
            self._start_thread()

    # --- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        self._buffer = bytearray(_BUFFER_BYTES)
        try:
            self._prepare_pool()
        except Exception as error:
            self._warn_once("internal", "KVP writer failed: %s", type(error).__name__)
        while True:
            self._wake.wait(_IDLE_WAKE_SECONDS)
            self._hurry.wait(self._linger)
            self._hurry.clear()
            self._wake.clear()  # before draining: an append after this sets it again
            try:
                if not self._drain():
                    return
            except Exception as error:  # a bug must not stop the thread: count, say once
                self._warn_once("internal", "KVP writer failed: %s", type(error).__name__)

    def _drain(self) -> bool:
        while True:
            entries: list[_Entry] = []
            signal: Any = None
            while len(entries) < _MAX_BATCH:
                try:
                    item = self._pending.popleft()
                except IndexError:
                    break
                if type(item) is tuple:
                    entries.append(item)
                else:
                    signal = item  # a flush marker or _STOP: write what came before it first
                    break
            if entries:
                self._write_entries(entries)
            if signal is _STOP:
                return False
            if signal is not None:
                signal.set()
            elif not entries:
                return True

    def _write_entries(self, entries: list[_Entry]) -> None:
        buffer = self._buffer
        end = 0
        ends: list[int] = []  # where each entry's records stop: a cut write keeps whole entries
        reports: list[str] = []
        for render, item, text in entries:
            start = end
            found = len(reports)
            try:
                pairs = ((item, text),) if render is None else render(item)
                for key, value in pairs:  # from write: item is the key, text the value
                    if key == PROVISIONING_REPORT_KEY:  # one record, replaced in place
                        reports.append(value)
                    else:
                        end = pack_kvp_record(buffer, end, key, value)
            except Exception as error:  # only the type: the message may quote the entry
                end = start  # what the entry packed before it failed is written over
                del reports[found:]
                self._lose(
                    1, "render", "a KVP entry could not be encoded (%s)", type(error).__name__
                )
                continue
            if end != start:
                ends.append(end)
        if ends:
            self._append(buffer, ends)
        for report in reports:  # after the batch: a first report follows the records before it
            self._replace_report(encode_kvp_record(PROVISIONING_REPORT_KEY, report))
        if len(buffer) > _BUFFER_BYTES:
            self._buffer = bytearray(_BUFFER_BYTES)  # a batch of long values: give it back

    def _prepare_pool(self) -> None:
        """Create the pool (0600) and, under the lock, empty it if it is from an earlier boot."""
        fd = self._open()
        if fd is None:
            return
        try:
            self._lock(fd)
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_size:
                boot = self._boot_time
                if boot is None:
                    boot = boot_time_from_proc_stat()
                if boot is not None and is_stale(info, boot):
                    os.ftruncate(fd, 0)
                    _log.info("emptied KVP pool %s: last written before this boot", self.path)
        except OSError as error:
            self._warn_once(
                "stale", "KVP pool %s: stale-data check failed: %s", self.path, error.strerror
            )
        finally:
            self._close(fd)  # closing drops both locks

    def _replace_report(self, record: bytes) -> None:
        """Put the ``PROVISIONING_REPORT`` record in place of the one in the pool, if any."""
        if len(record) != RECORD_BYTES:  # the host reads one record: never chunks
            self._lose(1, "report", "a KVP health report does not fit one record")
            return
        try:
            with self._fd_guard:
                fd = self._fd = open_pool(self.path, update=True, create=True)
        except OSError as error:
            self._pool_error = f"{error.strerror or error} ({self.path})"
            self._lose(1, "open", "cannot open KVP pool %s: %s", self.path, error.strerror)
            return
        try:
            try:
                lock_pool(fd, exclusive=True)
            except OSError as error:
                self._warn_once("lock", "cannot lock KVP pool %s: %s", self.path, error.strerror)
            replace_record(fd, PROVISIONING_REPORT_KEY.encode(), record)
        except OSError as error:
            self._pool_error = f"{error.strerror or error} ({self.path})"
            self._lose(1, "write", "cannot write KVP pool %s: %s", self.path, error.strerror)
            return
        finally:
            self._close(fd)
        self._pool_error = None
        self._written += 1

    def _append(self, buffer: bytearray, ends: list[int]) -> None:
        fd = self._open()
        if fd is None:
            self._lose(len(ends), None, "")
            return
        size = ends[-1]
        start = 0
        done = 0
        try:
            self._lock(fd)
            start = self._aligned_end(fd)
            with memoryview(buffer) as data:  # released before the buffer may grow again
                while done < size:  # one call, but a signal or a full disk may cut it short
                    done += os.write(fd, data[done:size])
        except OSError as error:
            kept = self._keep_whole_entries(fd, start, done, ends)
            self._pool_error = f"{error.strerror or error} ({self.path})"
            self._lose(
                len(ends) - kept,
                "write",
                "cannot write KVP pool %s: %s",
                self.path,
                error.strerror,
            )
            self._written += kept
            return
        finally:
            self._close(fd)
        self._pool_error = None
        self._written += len(ends)

    def _open(self) -> Optional[int]:
        self._in_pool = True  # an open on a hung file system hangs too
        try:
            with self._fd_guard:
                fd = self._fd = open_for_append(self.path)
            return fd
        except OSError as error:
            self._in_pool = self._stalled = False
            self._pool_error = f"{error.strerror or error} ({self.path})"
            self._warn_once("open", "cannot open KVP pool %s: %s", self.path, error.strerror)
            return None

    def _close(self, fd: int) -> None:
        try:
            with self._fd_guard:
                self._fd = None
                os.close(fd)
        finally:
            self._in_pool = self._stalled = False

    def _lock(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            fcntl.lockf(fd, fcntl.LOCK_EX)
        except OSError as error:
            # A file system without locks: a single O_APPEND write still lands whole.
            self._warn_once("lock", "cannot lock KVP pool %s: %s", self.path, error.strerror)

    def _aligned_end(self, fd: int) -> int:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return 0
        extra = info.st_size % RECORD_BYTES
        if extra:
            # Appending after a torn record would shift every later record for the host.
            os.ftruncate(fd, info.st_size - extra)
            self._warn_once(
                "torn",
                "KVP pool %s ended in %d bytes of a torn record; removed them",
                self.path,
                extra,
            )
        return info.st_size - extra

    def _keep_whole_entries(self, fd: int, start: int, done: int, ends: list[int]) -> int:
        kept = bisect.bisect_right(ends, done)
        end = ends[kept - 1] if kept else 0
        if end != done:
            with contextlib.suppress(OSError):  # a device (not a file) keeps nothing anyway
                os.ftruncate(fd, start + end)  # take back the piece of an entry
        return kept

    def _lose(self, count: int, kind: Optional[str], message: str, *args: Any) -> None:
        with self._state_lock:
            self._dropped += count
        if kind is not None:
            self._warn_once(kind, message + "; records are dropped", *args)

    def _lose_on_caller(self) -> None:
        with self._state_lock:
            self._dropped += 1
            kind = "closed" if self._closed else "full"
            first = kind not in self._warned
            self._warned.add(kind)
        if first:  # marked before logging: a KVP log handler calling back in stays quiet
            if kind == "closed":
                _log.warning("KVP writer for %s is shut down; records are dropped", self.path)
            else:
                _log.warning(
                    "KVP writer queue for %s is full (%d); records are dropped",
                    self.path,
                    self._max_queue,
                )

    def _warn_once(self, kind: str, message: str, *args: Any) -> None:
        with self._state_lock:
            first = kind not in self._warned
            self._warned.add(kind)
        if first:
            _log.warning(message, *args)


def _before_fork() -> None:
    # Between the writer thread's open() and its note of the descriptor, a child would get a
    # copy it cannot know of: wait until no writer is there.
    for writer in list(_live_writers):
        if writer._fd_guard.acquire(timeout=_FORK_WAIT_SECONDS):
            _held_for_fork.append(writer)


def _after_fork_in_parent() -> None:
    while _held_for_fork:
        _held_for_fork.pop()._fd_guard.release()


def _after_fork_in_child() -> None:
    _held_for_fork.clear()  # each writer gets a fresh guard
    for writer in list(_live_writers):
        writer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
