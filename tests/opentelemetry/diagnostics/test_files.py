"""The log file's missing parent directories: made 0700 whatever the umask, others untouched."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics.files import create_parent_dirs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o700, 0o777])
def test_every_missing_parent_is_0700_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        create_parent_dirs(str(tmp_path / "a" / "b" / "c" / "agent.log"))
    finally:
        os.umask(old)
    for directory in ("a", "a/b", "a/b/c"):
        assert mode(tmp_path / directory) == 0o700, directory
    assert not (tmp_path / "a" / "b" / "c" / "agent.log").exists()


def test_existing_directories_keep_their_mode_and_a_relative_path_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for existing_mode in (0o755, 0o1777, 0o750):
        existing = tmp_path / f"mode-{existing_mode:o}"
        existing.mkdir()
        existing.chmod(existing_mode)
        create_parent_dirs(str(existing / "agent.log"))
        create_parent_dirs(str(existing / "new" / "agent.log"))
        assert mode(existing) == existing_mode
        assert mode(existing / "new") == 0o700
    monkeypatch.chdir(tmp_path)
    create_parent_dirs("agent.log")  # the working directory: nothing to make
    create_parent_dirs(os.path.join("rel", "agent.log"))
    assert mode(tmp_path / "rel") == 0o700


def test_a_parent_through_a_symlinked_directory_is_made_where_the_link_points(
    tmp_path: Path,
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    create_parent_dirs(str(tmp_path / "link" / "logs" / "agent.log"))
    assert mode(tmp_path / "real" / "logs") == 0o700


def test_a_file_in_the_way_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    with pytest.raises(OSError) as caught:
        create_parent_dirs(str(tmp_path / "plain" / "logs" / "agent.log"))
    assert caught.value.errno == errno.ENOTDIR
    assert caught.value.filename == str(tmp_path / "plain")


def test_a_parent_made_meanwhile_by_another_thread_is_fine(tmp_path: Path) -> None:
    target = str(tmp_path / "x" / "y" / "z" / "agent.log")
    errors: list[BaseException] = []

    def make() -> None:
        try:
            create_parent_dirs(target)
        except BaseException as error:  # pragma: no cover - the failure being tested for
            errors.append(error)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert mode(tmp_path / "x" / "y" / "z") == 0o700
