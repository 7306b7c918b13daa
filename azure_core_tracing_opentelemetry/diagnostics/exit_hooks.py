"""``ExitHooks``: flush the KVP queue when the process ends otherwise than by returning.

``atexit`` covers a normal exit (the writer registers itself). These cover the rest: an uncaught
exception (``sys.excepthook``, and ``threading.excepthook`` for a thread that dies of one) and
SIGTERM. Each hook does what the one before it did and flushes (each flush bounded by the
writer's ``exit_timeout``). The exception hooks call the previous hook first, so a hook that logs
the exception has its record flushed too. The SIGTERM handler flushes first, then calls the
previous Python handler, or, where that was the default, restores it and raises SIGTERM again,
so the process ends as SIGTERM would have ended it (status -SIGTERM, no ``atexit``); a second
SIGTERM arriving during that flush skips it and goes on at once. An ignored
SIGTERM is left ignored (a child process inherits that, and nothing ends to flush for), and a
handler not set from Python is left alone, as Python cannot call it.

Python sets signal handlers from the main thread only: hooks installed from another thread
leave SIGTERM as it is and say so once per process. ``remove()`` puts back each previous hook
where ours is still installed; where something replaced ours since, ours stays in its chain and
only passes on.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any, Callable, Optional

from azure_core_tracing.failures import report_tracing_failure

_log = logging.getLogger(__name__)
_said_once: set[str] = set()
_said_lock = threading.Lock()


def _say_once(kind: str, message: str) -> None:
    with _said_lock:
        first = kind not in _said_once
        _said_once.add(kind)
    if first:
        _log.warning(message)


class ExitHooks:
    """Calls ``flush`` on SIGTERM and uncaught exceptions, then what was there before."""

    def __init__(self, flush: Callable[[], object]) -> None:
        self._flush = flush
        self._active = False
        self._previous_excepthook: Callable[..., Any] = sys.excepthook
        self._previous_thread_hook: Callable[..., Any] = threading.excepthook
        self._previous_sigterm: Any = None
        self._sigterm_installed = False
        self._terminating = False
        # Bound once: a hook is recognised as ours by identity, and each attribute access
        # makes a new bound method.
        self._excepthook = self._on_uncaught
        self._thread_hook = self._on_thread_uncaught
        self._sigterm_handler = self._on_sigterm

    def install(self, *, sigterm: bool) -> None:
        """Chain the exception hooks and, if ``sigterm``, a SIGTERM handler in front."""
        self._active = True
        self._previous_excepthook = sys.excepthook
        sys.excepthook = self._excepthook
        self._previous_thread_hook = threading.excepthook
        threading.excepthook = self._thread_hook
        if sigterm:
            self._install_sigterm()

    def remove(self) -> None:
        """Stop flushing; put back each previous hook where ours is still the one installed."""
        if not self._active:
            return
        self._active = False
        if sys.excepthook is self._excepthook:
            sys.excepthook = self._previous_excepthook
        if threading.excepthook is self._thread_hook:
            threading.excepthook = self._previous_thread_hook
        if self._sigterm_installed and threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) is self._sigterm_handler:
                    signal.signal(signal.SIGTERM, self._previous_sigterm)
            except (ValueError, OSError):  # not the main interpreter: ours passes on
                pass

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            _say_once(
                "thread",
                "the diagnostics layers were set up outside the main thread, where Python "
                "cannot set signal handlers: SIGTERM will not flush the KVP queue "
                "(flush_on_sigterm=False says that is intended)",
            )
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous is signal.SIG_IGN:
            return  # nothing ends: nothing to flush for
        if previous is None:
            _say_once(
                "foreign",
                "SIGTERM has a handler not set from Python, which is kept: SIGTERM will not "
                "flush the KVP queue",
            )
            return
        try:
            signal.signal(signal.SIGTERM, self._sigterm_handler)
        except (ValueError, OSError) as error:  # a sub-interpreter, a platform without it
            _say_once("refused", f"SIGTERM will not flush the KVP queue: {error}")
            return
        self._previous_sigterm = previous
        self._sigterm_installed = True

    def _flush_now(self) -> None:
        if self._active:
            try:
                self._flush()
            except Exception as error:  # never in the way of the process ending
                report_tracing_failure(self, "flush at exit", error, "queued records are lost")

    def _on_uncaught(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: Optional[TracebackType],
    ) -> None:
        try:
            self._previous_excepthook(exc_type, exc, tb)
        finally:
            self._flush_now()

    def _on_thread_uncaught(self, args: Any) -> None:
        try:
            self._previous_thread_hook(args)
        finally:
            if not issubclass(args.exc_type, SystemExit):  # a thread's quiet exit, not fatal
                self._flush_now()

    def _on_sigterm(self, signum: int, frame: Optional[FrameType]) -> None:
        # A second SIGTERM while the first one's flush waits (Python runs the handler again
        # inside it) insists: it goes straight on, without a second wait for the pool.
        if not self._terminating:
            self._terminating = True
            try:
                self._flush_now()
            finally:
                self._terminating = False
        previous = self._previous_sigterm
        if callable(previous):
            previous(signum, frame)
            return
        # The default: end as SIGTERM ends a process, with no atexit and status -SIGTERM.
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
