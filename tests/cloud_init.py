"""cloud-init's own code, for the tests that read pools its KVP reporter writes.

cloud-init is not on PyPI. ``install()`` fetches Debian's ``cloud-init`` package and the one
module of its dependencies that its reporting handlers import at load time (``python3-yaml``)
with ``apt-get download``, unpacks them with ``dpkg-deb -x`` into a cache folder the first time
(once per machine; later runs find it there) and returns the folder to put on ``sys.path``.
Both are pure Python as far as the reporter goes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_PACKAGES = ("cloud-init", "python3-yaml")
_TIMEOUT = 300.0


class CloudInitError(RuntimeError):
    """cloud-init's package could not be fetched or unpacked."""


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME`` (else ``~/.cache``) ``/azure-core-tracing/cloud-init``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base, "azure-core-tracing", "cloud-init")


def install() -> Path:
    """The folder holding the ``cloudinit`` and ``yaml`` packages, fetched if missing."""
    folder = cache_folder()
    site = folder / "usr" / "lib" / "python3" / "dist-packages"
    if (site / "cloudinit" / "reporting" / "handlers.py").is_file():
        return site
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise CloudInitError(f"{tool} is needed to fetch Debian's cloud-init package")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as work:
        if _run(["apt-get", "download", *_PACKAGES], work).returncode != 0:
            _run(["apt-get", "update"], work)  # a fresh machine may have no package lists yet
            _check(_run(["apt-get", "download", *_PACKAGES], work))
        unpacked = Path(work, "root")
        for deb in sorted(Path(work).glob("*.deb")):
            _check(_run(["dpkg-deb", "-x", str(deb), str(unpacked)], work))
        try:
            os.rename(unpacked, folder)
        except OSError:
            if not folder.is_dir():  # else another run put it there meanwhile
                raise
    return site


def _run(command: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT, check=False
    )


def _check(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        raise CloudInitError(f"{' '.join(result.args)} failed: {result.stderr.strip()}")
