"""The KVP queue is flushed however the process ends: normal exit, an uncaught exception in the
main thread or another, SIGTERM (default, a previous Python handler, ignored, turned off, set up
from a thread), and a hung pool bounds each of them. Real child processes, real signals, real
pools; each child queues with a ``kvp_max_delay`` of 30 s, so what reaches its pool got there by
the flush under test, not by the writer's own timer."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Optional

import pytest

from azure_core_tracing_opentelemetry.diagnostics import (
    TelemetryConfig,
    read_kvp_pool,
    setup_layers,
)
from tests.opentelemetry.diagnostics.conftest import VM_ID

# Each child: ``layers_up(**options)`` sets the layers up on the pool and log file the test
# passes; ``queue(layers, tag)`` opens a span that never ends, logs a WARNING and adds a span
# event in it; ``ready()`` tells the parent, which then signals or waits.
PRELUDE = f"""
import atexit, json, logging, os, signal, sys, threading, time
from opentelemetry import context, trace
from azure_core_tracing_opentelemetry.diagnostics import TelemetryConfig, setup_layers

POOL, LOG, OPTIONS = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
log = logging.getLogger("agent")

def layers_up(**extra):
    options = {{"kvp_max_delay": 30.0, **OPTIONS, **extra}}
    return setup_layers(
        TelemetryConfig(log_path=LOG), kvp_pool_path=POOL, vm_id="{VM_ID}", boot_time=0.0,
        environ={{"AZURE_INIT_KVP_FILTER": "info"}}, **options,
    )

def queue(layers, tag):
    span = layers.provider.get_tracer("agent").start_span(tag + " span")
    context.attach(trace.set_span_in_context(span))
    log.warning("%s logged", tag)
    span.add_event(tag + " event")

def ready():
    print("ready", flush=True)
"""


@dataclass
class Child:
    pool: Path
    log: Path
    process: subprocess.Popen[str]

    def wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == "ready\n", line + self.finish()[1]

    def finish(self, stdin: str = "") -> tuple[str, str]:
        out, err = self.process.communicate(stdin, timeout=60)
        return out, err

    def events(self) -> list[str]:
        """The ``message=`` texts of the pool's event records, in order."""
        values = [r.value for r in read_kvp_pool(self.pool)] if self.pool.exists() else []
        return [v.split("Event: message=")[1].split(" | ")[0] for v in values if "Event:" in v]


@pytest.fixture
def child(tmp_path: Path) -> Iterator[Any]:
    started: list[Child] = []

    def start(script: str, **options: object) -> Child:
        pool, log = tmp_path / ".kvp_pool_1", tmp_path / "agent.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                PRELUDE + textwrap.dedent(script),
                str(pool),
                str(log),
                json.dumps(options),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        made = Child(pool, log, process)
        started.append(made)
        return made

    yield start
    for made in started:
        if made.process.poll() is None:
            made.process.kill()
            made.process.communicate(timeout=60)


def test_a_normal_exit_writes_what_was_queued(child: Any) -> None:
    run = child(
        """
        layers = queue(layers_up(), "exit") or None
        """
    )
    _, err = run.finish()
    assert run.process.returncode == 0, err
    assert run.events() == ["exit logged", "exit event"]


def test_an_uncaught_exception_is_flushed_after_the_previous_hook_ran(child: Any) -> None:
    # The previous hook logs the exception (a common one); an exit hook registered later runs
    # first at exit and ends the process without the writer's: only the excepthook can flush.
    run = child(
        """
        def previous(kind, error, tb):
            log.error("previous hook saw %s", kind.__name__)
            sys.__excepthook__(kind, error, tb)
        sys.excepthook = previous
        layers = layers_up()
        atexit.register(os._exit, 3)
        queue(layers, "crash")
        1 / 0
        """
    )
    _, err = run.finish()
    assert run.process.returncode == 3, err
    assert "ZeroDivisionError: division by zero" in err  # the traceback, printed as before
    assert run.events() == ["crash logged", "crash event", "previous hook saw ZeroDivisionError"]


def test_a_thread_dying_of_an_exception_is_flushed(child: Any) -> None:
    run = child(
        """
        layers = layers_up()
        def work():
            queue(layers, "thread")
            raise KeyError("gone")
        worker = threading.Thread(target=work, name="worker")
        worker.start()
        worker.join()
        os._exit(0)  # no exit hooks: only the thread's excepthook can have flushed
        """
    )
    _, err = run.finish()
    assert run.process.returncode == 0, err
    assert "Exception in thread worker" in err and "KeyError: 'gone'" in err
    assert run.events() == ["thread logged", "thread event"]


def test_sigterm_flushes_then_ends_the_process_as_sigterm_would(child: Any) -> None:
    run = child(
        """
        atexit.register(print, "atexit ran", flush=True)
        queue(layers_up(), "term")
        ready()
        time.sleep(60)
        """
    )
    run.wait_ready()
    run.process.send_signal(signal.SIGTERM)
    out, err = run.finish()
    assert run.process.returncode == -signal.SIGTERM, err
    assert "atexit ran" not in out  # the default action: no Python exit at all
    assert run.events() == ["term logged", "term event"]


def test_sigterm_flushes_then_calls_the_previous_python_handler(child: Any) -> None:
    run = child(
        """
        def previous(signum, frame):
            print("previous handler got", signum, flush=True)
            os._exit(7)
        signal.signal(signal.SIGTERM, previous)
        queue(layers_up(), "handled")
        ready()
        time.sleep(60)
        """
    )
    run.wait_ready()
    run.process.send_signal(signal.SIGTERM)
    out, err = run.finish()
    assert run.process.returncode == 7, err
    assert f"previous handler got {int(signal.SIGTERM)}" in out
    assert run.events() == ["handled logged", "handled event"]


def test_an_ignored_sigterm_stays_ignored(child: Any) -> None:
    run = child(
        """
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        layers = layers_up()
        state = "ignored" if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN else "replaced"
        queue(layers, "ignored")
        ready()
        sys.stdin.read()  # the parent sends SIGTERM, then closes stdin
        print(state, "and survived")
        """
    )
    run.wait_ready()
    run.process.send_signal(signal.SIGTERM)
    time.sleep(0.1)  # the signal is delivered at once; give it the time to kill, if it did
    out, err = run.finish()
    assert run.process.returncode == 0, err
    assert out.splitlines() == ["ignored and survived"]
    assert run.events() == ["ignored logged", "ignored event"]  # at the normal exit


def test_flush_on_sigterm_false_leaves_sigterm_as_it_was(child: Any) -> None:
    run = child(
        """
        layers = layers_up(flush_on_sigterm=False)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        queue(layers, "off")
        ready()
        time.sleep(60)
        """
    )
    run.wait_ready()
    run.process.send_signal(signal.SIGTERM)
    _, err = run.finish()
    assert run.process.returncode == -signal.SIGTERM, err
    assert run.events() == []  # nothing flushed them: still queued when the process ended


def test_set_up_from_a_thread_sigterm_is_left_alone_and_that_is_said_once(child: Any) -> None:
    run = child(
        """
        made = []
        for _ in range(2):
            worker = threading.Thread(target=lambda: made.append(layers_up()))
            worker.start()
            worker.join()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        queue(made[0], "threaded")
        ready()
        time.sleep(60)
        """
    )
    run.wait_ready()
    run.process.send_signal(signal.SIGTERM)
    _, err = run.finish()
    assert run.process.returncode == -signal.SIGTERM, err
    said = [line for line in run.log.read_text().splitlines() if "SIGTERM will not" in line]
    assert len(said) == 1, said
    assert "outside the main thread" in said[0] and " WARN " in said[0]
    assert run.events() == []


@pytest.mark.parametrize("how", ["exit", "sigterm"])
def test_a_hung_pool_costs_the_exit_one_timeout_and_one_warning(
    child: Any, tmp_path: Path, how: str
) -> None:
    # Another agent holds the pool's lock for good: the writer waits in flock, and every exit
    # path together waits exit_timeout once (not once per path), then the process ends.
    pool = tmp_path / ".kvp_pool_1"
    held = os.open(pool, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        run = child(
            """
            queue(layers_up(exit_timeout=1.0), "hung")
            ready()
            if sys.stdin.read() == "sigterm":
                time.sleep(60)
            """
        )
        run.wait_ready()
        start = time.monotonic()
        if how == "sigterm":
            run.process.send_signal(signal.SIGTERM)
        _, err = run.finish(how)
        elapsed = time.monotonic() - start
    finally:
        os.close(held)
    assert run.process.returncode == (0 if how == "exit" else -signal.SIGTERM), err
    assert 1.0 <= elapsed < 1.9, elapsed  # two exit paths each waiting would take 2 s
    said = [line for line in run.log.read_text().splitlines() if "took no write" in line]
    assert len(said) == 1, said
    assert run.events() == []


def test_a_second_sigterm_during_the_flush_ends_the_process_without_waiting_again(
    child: Any, tmp_path: Path
) -> None:
    pool = tmp_path / ".kvp_pool_1"
    held = os.open(pool, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)  # the first SIGTERM's flush waits for the pool
    try:
        run = child(
            """
            queue(layers_up(exit_timeout=3.0), "hung")
            ready()
            time.sleep(60)
            """
        )
        run.wait_ready()
        start = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        run.process.send_signal(signal.SIGTERM)
        _, err = run.finish()
        elapsed = time.monotonic() - start
    finally:
        os.close(held)
    assert run.process.returncode == -signal.SIGTERM, err
    # Flushing again on the second SIGTERM would wait 3 s more (3.3 s); skipping it ends now.
    assert elapsed < 2.0, elapsed


def test_shutdown_puts_back_the_hooks_it_replaced_and_leaves_ones_set_since(
    tmp_path: Path,
) -> None:
    saved = (signal.getsignal(signal.SIGTERM), sys.excepthook, threading.excepthook)
    calls: list[object] = []

    def handler(signum: int, frame: Optional[FrameType]) -> None:
        calls.append(signum)

    def excepthook(kind: type[BaseException], *rest: object) -> None:
        calls.append(kind)

    def thread_hook(args: Any) -> None:
        calls.append(args.exc_type)

    def setup() -> Any:
        config = TelemetryConfig(log_path=str(tmp_path / "agent.log"))
        return setup_layers(config, kvp_pool_path=str(tmp_path / "pool"), vm_id=VM_ID, environ={})

    def installed() -> tuple[Any, Any, Any]:
        return signal.getsignal(signal.SIGTERM), sys.excepthook, threading.excepthook

    try:
        signal.signal(signal.SIGTERM, handler)
        sys.excepthook, threading.excepthook = excepthook, thread_hook
        layers = setup()
        assert all(a is not b for a, b in zip(installed(), (handler, excepthook, thread_hook)))
        layers.shutdown()
        assert installed() == (handler, excepthook, thread_hook)

        # Replaced after set-up: the replacements stay, and ours, left in their chain, only
        # passes on to what it replaced (the writer it flushed is shut down).
        layers = setup()
        ours = installed()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.excepthook, threading.excepthook = sys.__excepthook__, saved[2]
        layers.shutdown()
        assert installed() == (signal.SIG_DFL, sys.__excepthook__, saved[2])
        ours[0](signal.SIGTERM, None)
        ours[1](KeyError, KeyError("x"), None)
        try:
            raise OSError("thread")
        except OSError as error:
            ours[2](threading.ExceptHookArgs((OSError, error, None, None)))
        assert calls == [signal.SIGTERM, KeyError, OSError]
    finally:
        signal.signal(signal.SIGTERM, saved[0])
        sys.excepthook, threading.excepthook = saved[1], saved[2]


def test_timing_arguments_are_checked_before_anything_starts(tmp_path: Path) -> None:
    config = TelemetryConfig(log_path=str(tmp_path / "agent.log"))
    pool = str(tmp_path / "pool")
    handlers = list(logging.getLogger().handlers)
    for bad in (0, -1.0, float("nan"), float("inf"), 61):
        with pytest.raises(ValueError, match="kvp_max_delay must be 0 < kvp_max_delay <= 60 "):
            setup_layers(config, kvp_pool_path=pool, kvp_max_delay=bad, environ={})
    for wrong in ("0.1", None, True):
        with pytest.raises(TypeError, match="kvp_max_delay must be a number of seconds"):
            setup_layers(config, kvp_pool_path=pool, kvp_max_delay=wrong, environ={})  # type: ignore[arg-type]
    for bad in (-0.5, float("nan"), 3601):
        with pytest.raises(ValueError, match="exit_timeout must be 0 <= exit_timeout <= 3600 "):
            setup_layers(config, kvp_pool_path=pool, exit_timeout=bad, environ={})
    with pytest.raises(TypeError, match="flush_on_sigterm must be a bool, got str"):
        setup_layers(config, kvp_pool_path=pool, flush_on_sigterm="no", environ={})  # type: ignore[arg-type]
    assert not (tmp_path / "pool").exists() and not (tmp_path / "agent.log").exists()
    assert logging.getLogger().handlers == handlers
