"""The Azurite fixture itself: it skips only without node or npm, fails instead when
``AZURE_CORE_TRACING_REQUIRE_AZURITE=1`` (as .ci/run runs it), installs once under a lock
into a folder that is complete or absent, and leaves no process behind.

The install tests run a stand-in for ``npm`` (a real script, run as a real process, that
writes the package's files): a real install downloads about 190 MB, which no test can do
fast or twice. Everything else is real: the lock, the processes racing for it, the folders."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.azurite import (
    AZURITE_VERSION,
    REQUIRE_ENV,
    Azurite,
    AzuriteError,
    cache_folder,
    install,
    missing_tools,
)
from tests.conftest import start_azurite

ROOT = Path(__file__).resolve().parent.parent.parent
A_TEST = "tests/storage/test_blob_operations.py::test_a_container_is_created_and_deleted"


def test_without_node_and_npm_the_azurite_tests_skip_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="Azurite needs node and npm, which is not"):
        start_azurite()


def test_without_node_the_azurite_tests_fail_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "npm").symlink_to(shutil.which("npm") or "/usr/bin/npm")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"needs node, .*{REQUIRE_ENV}=1 requires"):
        start_azurite()


def test_a_run_without_node_and_npm_fails_when_required(tmp_path: Path) -> None:
    """The whole way, as CI runs it: pytest itself reports errors, not skips, and fails."""
    environment = {**os.environ, "PATH": str(tmp_path), REQUIRE_ENV: "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", A_TEST],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 errors" in result.stdout and "skipped" not in result.stdout
    assert f"{REQUIRE_ENV}=1 requires the Azurite tests" in result.stdout


def test_ci_requires_the_azurite_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"export {REQUIRE_ENV}=1" in ci.splitlines()


def test_the_cache_folder_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert cache_folder() == Path(f"/somewhere/cache/azure-core-tracing/azurite-{AZURITE_VERSION}")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder() == Path.home() / ".cache" / "azure-core-tracing" / cache_folder().name


def _stand_in_npm(tmp_path: Path, *, fail: bool = False) -> Path:
    """An executable that does what ``npm install --prefix <dir> azurite@<v>`` leaves behind
    (or fails as npm does), counting its runs in ``runs`` beside it."""
    script = tmp_path / "npm"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, pathlib, sys, time
            runs = pathlib.Path({str(tmp_path / "runs")!r})
            with runs.open("a") as out:
                out.write("run\\n")
            time.sleep(0.3)  # long enough for a racing install to be waiting on the lock
            if {fail!r}:
                sys.stderr.write("npm ERR! network unreachable\\n")
                sys.exit(1)
            prefix = pathlib.Path(sys.argv[sys.argv.index("--prefix") + 1])
            package = prefix / "node_modules" / "azurite"
            (package / "dist" / "src" / "blob").mkdir(parents=True)
            (package / "dist" / "src" / "blob" / "main.js").write_text("// azurite-blob")
            (package / "package.json").write_text(json.dumps({{"version": {AZURITE_VERSION!r}}}))
            """
        ),
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def _runs(tmp_path: Path) -> int:
    runs = tmp_path / "runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def test_parallel_first_runs_install_once(tmp_path: Path) -> None:
    npm = _stand_in_npm(tmp_path)
    folder = tmp_path / "cache" / f"azurite-{AZURITE_VERSION}"
    code = (
        "from pathlib import Path; from tests.azurite import install; "
        f"print(install(Path({str(folder)!r}), npm={str(npm)!r}))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60)[0].strip() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0]
    script = folder / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
    assert outputs == [str(script)] * 3
    assert _runs(tmp_path) == 1
    assert install(folder, npm=str(npm)) == script  # installed: npm is not run again
    assert _runs(tmp_path) == 1
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name, f"{folder.name}.lock"]


def test_a_failed_install_leaves_nothing_that_passes_for_one(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / f"azurite-{AZURITE_VERSION}"
    with pytest.raises(AzuriteError, match="network unreachable"):
        install(folder, npm=str(_stand_in_npm(tmp_path, fail=True)))
    assert not folder.exists()
    assert [p.name for p in folder.parent.iterdir()] == [f"{folder.name}.lock"]
    good = tmp_path / "good"
    good.mkdir()
    install(folder, npm=str(_stand_in_npm(good)))
    assert _runs(good) == 1


def test_a_folder_of_another_version_is_installed_again(tmp_path: Path) -> None:
    folder = tmp_path / f"azurite-{AZURITE_VERSION}"
    package = folder / "node_modules" / "azurite"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": "3.34.0"}))
    install(folder, npm=str(_stand_in_npm(tmp_path)))
    assert json.loads((package / "package.json").read_text())["version"] == AZURITE_VERSION
    assert _runs(tmp_path) == 1


def test_stop_ends_the_process_and_frees_the_port() -> None:
    if missing_tools():
        pytest.skip("needs node and npm")  # the fixture tests above say when this may skip
    emulator = Azurite.start(install())
    port, process = emulator.port, emulator.process
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    emulator.stop()
    assert process.poll() is not None
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    emulator.stop()  # again: nothing
