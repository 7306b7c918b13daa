"""Azurite, the Azure Storage emulator, for the tests and the Blob Storage sample.

``install()`` puts the pinned npm package into a cache folder the first time (once per
machine: later runs, and runs in parallel, find it there) and ``Azurite.start`` runs its Blob
service as ``azurite-blob`` on 127.0.0.1, at a free port, with in-memory persistence, until
``stop()``. It serves the emulator's documented development account (``ACCOUNT_NAME`` and
``ACCOUNT_KEY``) at path-style URLs, ``http://127.0.0.1:<port>/devstoreaccount1/...``.

Azurite needs ``node`` and ``npm``; ``missing_tools()`` says which are not there.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Callable, Optional

AZURITE_VERSION = "3.35.0"
"""The newest Azurite that runs on Node 20 (3.36 needs Node 21, 3.37 Node 22)."""
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""The development account every Azurite serves, as its documentation gives it."""
REQUIRE_ENV = "AZURE_CORE_TRACING_REQUIRE_AZURITE"
"""Set to 1 (as .ci/run does), the Azurite tests fail where they would skip."""

_PACKAGE = Path("node_modules", "azurite")
_BLOB_MAIN = _PACKAGE / "dist" / "src" / "blob" / "main.js"  # what bin/azurite-blob runs
_INSTALL_TIMEOUT = 900.0
_START_TIMEOUT = 60.0


class AzuriteError(RuntimeError):
    """Azurite could not be installed or started (node and npm were there)."""


def missing_tools(path: Optional[str] = None) -> list[str]:
    """Which of ``node`` and ``npm`` are not on ``path`` (``PATH`` by default)."""
    return [tool for tool in ("node", "npm") if shutil.which(tool, path=path) is None]


def cache_folder() -> Path:
    """Where the pinned Azurite is installed: ``$XDG_CACHE_HOME`` (else ``~/.cache``)
    ``/azure-core-tracing/azurite-<version>``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "azure-core-tracing", f"azurite-{AZURITE_VERSION}")


def _installed(folder: Path) -> bool:
    try:
        package = json.loads((folder / _PACKAGE / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return package.get("version") == AZURITE_VERSION and (folder / _BLOB_MAIN).is_file()


def install(folder: Optional[Path] = None, *, npm: str = "npm") -> Path:
    """The Blob service's script in ``folder`` (``cache_folder()`` by default), after
    installing the pinned package there if it is not.

    npm runs under an exclusive lock on ``<folder>.lock``, so parallel runs install once, and
    installs into a temporary folder beside ``folder`` that is renamed into place only when
    complete: an install that failed or was interrupted is never taken for one."""
    folder = folder or cache_folder()
    if _installed(folder):
        return folder / _BLOB_MAIN
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{folder}.lock", "a+b") as lock:
        _lock(lock.fileno())
        if _installed(folder):  # another run installed it while this one waited
            return folder / _BLOB_MAIN
        shutil.rmtree(folder, ignore_errors=True)  # a folder left by hand, not ours
        staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=folder.parent))
        try:
            _npm_install(npm, staging)
            if not _installed(staging):
                raise AzuriteError(f"npm installed no azurite {AZURITE_VERSION} in {staging}")
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder / _BLOB_MAIN


def _lock(descriptor: int) -> None:
    import fcntl  # POSIX: the tests run on Linux and macOS

    fcntl.flock(descriptor, fcntl.LOCK_EX)


def _npm_install(npm: str, prefix: Path) -> None:
    command = [
        npm,
        "install",
        "--prefix",
        str(prefix),
        f"azurite@{AZURITE_VERSION}",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
    ]
    try:
        result = subprocess.run(
            command,
            cwd=prefix,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AzuriteError(f"{' '.join(command)} failed: {error}") from None
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()[-2000:]
        raise AzuriteError(f"{' '.join(command)} exited with {result.returncode}:\n{said}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> Optional[Callable[[], None]]:
    """On Linux, a hook that has the child killed when the thread that started it ends, so
    a test run killed outright leaves no emulator behind; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


class Azurite:
    """A running Azurite Blob service on 127.0.0.1; ``stop()`` (or ``with``) ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, workspace: Path) -> None:
        self.process = process
        self.port = port
        self._workspace = workspace
        atexit.register(self.stop)

    @property
    def blob_endpoint(self) -> str:
        """The development account's Blob endpoint (path style)."""
        return f"http://127.0.0.1:{self.port}/{ACCOUNT_NAME}"

    @classmethod
    def start(cls, script: Path, *, node: str = "node", attempts: int = 3) -> Azurite:
        """Start ``script`` (what ``install`` returned) at a free port and wait until it
        accepts connections; a port taken in between is tried again with another."""
        for attempt in range(attempts):
            workspace = Path(tempfile.mkdtemp(prefix="azurite-"))
            port = free_port()
            log = workspace / "azurite.log"
            with open(log, "wb") as output:
                process = subprocess.Popen(
                    [
                        node,
                        str(script),
                        "--blobHost",
                        "127.0.0.1",
                        "--blobPort",
                        str(port),
                        # In memory: nothing is written, so the workspace (the working folder:
                        # Azurite refuses --location beside --inMemoryPersistence) stays empty.
                        "--inMemoryPersistence",
                        "--extentMemoryLimit",
                        "256",
                        "--disableTelemetry",
                        "--silent",
                    ],
                    cwd=workspace,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent(),  # noqa: PLW1509 - one C call, no Python state
                )
            emulator = cls(process, port, workspace)
            if emulator._wait_until_listening():
                return emulator
            said = log.read_text(encoding="utf-8", errors="replace").strip()
            emulator.stop()
            if attempt == attempts - 1 or "EADDRINUSE" not in said:
                raise AzuriteError(f"Azurite did not start on 127.0.0.1:{port}:\n{said}")
        raise AssertionError("unreachable")

    def _wait_until_listening(self) -> bool:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0),
            ):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        """End the process (terminate, then kill) and remove its workspace; again: nothing."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._workspace, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()
