"""The VM id as the host and IMDS see it: the SMBIOS UUID, byte-swapped on a Gen1 VM."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing_opentelemetry.diagnostics import ZERO_GUID, KvpWriter, read_vm_id
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import system_vm_id

# azure-init's own vectors (libazureinit-kvp/src/vm_id.rs tests).
SMBIOS = "550e8400-e29b-41d4-a716-446655440000"
GEN1 = "00840e55-9be2-d441-a716-446655440000"


@pytest.fixture
def product_uuid(tmp_path: Path) -> Path:
    path = tmp_path / "product_uuid"
    path.write_text(SMBIOS.upper() + "\n")  # kernels before 4.15 print it upper-case
    return path


def firmware(tmp_path: Path, *present: str) -> dict[str, str]:
    paths = {"sysfs_efi_path": str(tmp_path / "efi"), "dev_efi_path": str(tmp_path / "dev-efi")}
    for name in present:
        Path(paths[name]).mkdir()
    return paths


def test_on_a_gen1_vm_the_first_three_fields_are_byte_swapped(
    tmp_path: Path, product_uuid: Path
) -> None:
    """Neither /sys/firmware/efi nor /dev/efi: a BIOS (Gen1) VM, as vm_id.rs and cloud-init
    tell it."""
    assert read_vm_id(str(product_uuid), **firmware(tmp_path)) == GEN1
    assert system_vm_id(str(product_uuid), **firmware(tmp_path)) == GEN1


@pytest.mark.parametrize("present", ["sysfs_efi_path", "dev_efi_path"])
def test_on_a_uefi_vm_it_is_the_uuid_lower_cased(
    tmp_path: Path, product_uuid: Path, present: str
) -> None:
    assert read_vm_id(str(product_uuid), **firmware(tmp_path, present)) == SMBIOS


@settings(max_examples=30)  # each example writes and reads a file
@given(st.uuids())
def test_the_swap_is_cloud_inits_byte_swap_system_uuid(value: uuid.UUID) -> None:
    """cloud-init's identity.byte_swap_system_uuid: ``UUID(bytes=UUID(text).bytes_le)``; and
    swapping twice gives the UUID back."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "product_uuid"
        path.write_text(str(value))
        swapped = system_vm_id(str(path), **firmware(Path(folder)))
        assert swapped == str(uuid.UUID(bytes=value.bytes_le))
        assert swapped is not None
        path.write_text(swapped)
        assert system_vm_id(str(path), **firmware(Path(folder))) == str(value)


def test_read_vm_id_with_a_path_alone_keeps_its_contract(
    tmp_path: Path, product_uuid: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``read_vm_id(path)``: the id (swapped as the real firmware says), or the zero GUID and
    one WARNING when the file is missing or holds no UUID."""
    assert read_vm_id(str(product_uuid)) in (SMBIOS, GEN1)
    for content in (None, "", "not a uuid"):
        path = tmp_path / "other"
        if content is not None:
            path.write_text(content)
        with caplog.at_level(logging.WARNING):
            caplog.clear()
            assert read_vm_id(str(path)) == ZERO_GUID
            assert system_vm_id(str(path)) is None
        assert [r.getMessage() for r in caplog.records] == [
            f"VM id unreadable from {path}; KVP keys use {ZERO_GUID}"
        ]


@pytest.mark.parametrize(
    "content",
    [
        SMBIOS.replace("-", ""),
        "{" + SMBIOS + "}",
        "URN:UUID:" + SMBIOS.upper(),
        " " * 200 + SMBIOS + "\n\t\r\x0b\x0c",  # trimmed however long, as Rust's trim()
    ],
)
def test_the_forms_uuid_parse_str_takes_are_read(tmp_path: Path, content: str) -> None:
    path = tmp_path / "product_uuid"
    path.write_text(content)
    assert system_vm_id(str(path), **firmware(tmp_path, "sysfs_efi_path")) == SMBIOS


@pytest.mark.parametrize(
    "content",
    [
        SMBIOS[:35],  # short
        SMBIOS + "0",  # long
        SMBIOS + " x",
        "550e8400e29b-41d4-a716-446655440000",  # hyphens elsewhere: Python's UUID took these
        "5-5-0-e-8400e29b41d4a716446655440000",
        "urn:" + SMBIOS.replace("-", ""),
        "550e8400urn:e29b41d4a716446655440000",
        "uuid:" + SMBIOS,
        "\x1c" + SMBIOS,  # not whitespace to Rust
        SMBIOS + " " * 70000,  # past what a product_uuid can be
        "\u0661" * 32,  # digits, but not ASCII ones
    ],
)
def test_what_uuid_parse_str_refuses_is_no_vm_id(tmp_path: Path, content: str) -> None:
    path = tmp_path / "product_uuid"
    path.write_text(content)
    assert system_vm_id(str(path), **firmware(tmp_path, "sysfs_efi_path")) is None


def test_the_writer_keys_records_with_the_hosts_vm_id(tmp_path: Path, product_uuid: Path) -> None:
    paths = firmware(tmp_path)
    writer = KvpWriter(
        tmp_path / "pool",
        product_uuid_path=str(product_uuid),
        sysfs_efi_path=paths["sysfs_efi_path"],
        dev_efi_path=paths["dev_efi_path"],
        boot_time=0.0,
    )
    assert writer.vm_id == GEN1
    writer.shutdown(5.0)
