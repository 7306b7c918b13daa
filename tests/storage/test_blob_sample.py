"""``python -m samples.blob_storage`` (samples/blob_storage/__main__.py) against the real
Azurite: each call printed as its span tree, the SAS read, the errors with Storage's codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from samples.blob_storage.__main__ import PROG
from tests.azurite import Azurite, missing_tools

ROOT = Path(__file__).resolve().parent.parent.parent


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "samples.blob_storage", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def _check_output(out: str) -> None:
    try:
        _check_trees(out)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- the sample printed:\n{out}") from None


def _check_trees(out: str) -> None:
    roots = re.findall(r"^└─ (BlobStorageClient\.\w+)  \[INTERNAL\].*  (OK|ERROR)  ", out, re.M)
    assert roots == [
        ("BlobStorageClient.create_container", "OK"),
        *[("BlobStorageClient.upload_blob", "OK")] * 5,
        ("BlobStorageClient.get_blob_properties", "OK"),
        ("BlobStorageClient.download_blob", "OK"),
        ("BlobStorageClient.download_blob", "ERROR"),
        ("BlobStorageClient.create_container", "ERROR"),
        ("BlobStorageClient.delete_container", "OK"),
    ]
    tries = re.findall(
        r"^   └─ HTTP (\w+) #0  \[CLIENT\].*serviceRequestId=[0-9a-f-]{36}$", out, re.M
    )
    assert len(tries) == len(roots)
    listing = out.split("└─ list notes  [INTERNAL]", 1)[1].splitlines()[1:7]
    assert [line.split("  [")[0] for line in listing] == [
        "   ├─ BlobStorageClient.list_blobs",
        "   │  └─ HTTP GET #0",
        "   ├─ BlobStorageClient.list_blobs",
        "   │  └─ HTTP GET #0",
        "   └─ BlobStorageClient.list_blobs",
        "      └─ HTTP GET #0",
    ]
    assert "comp=list&maxresults=2&marker=REDACTED" in listing[3]
    assert f"listed: {[f'notes/{n}.txt' for n in range(5)]}" in out
    assert "read with a SAS: b'note 2'" in out
    assert "sig=REDACTED" in out and "restype=container" in out
    assert "ResourceNotFoundError: BlobNotFound (404)" in out
    assert "ResourceExistsError: ContainerAlreadyExists (409)" in out


def test_the_sample_runs_against_the_azurite_it_is_given(azurite: Azurite) -> None:
    out = _run("--endpoint", azurite.blob_endpoint, "--container", "sample-given")
    assert f"Blob endpoint: {azurite.blob_endpoint}" in out
    _check_output(out)


def test_the_sample_starts_azurite_itself_without_an_endpoint(azurite: Azurite) -> None:
    assert not missing_tools()  # the azurite fixture skipped (or failed) otherwise
    out = _run()
    assert out.startswith("starting Azurite"), out
    assert f"Blob endpoint: {azurite.blob_endpoint}" not in out  # its own, on another port
    _check_output(out)


def test_the_sample_is_named_as_it_is_run() -> None:
    assert PROG == "python -m samples.blob_storage"
