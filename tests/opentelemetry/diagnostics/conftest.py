"""Real pools in a temporary folder and a real writer thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics import KvpWriter

VM_ID = "0a1b2c3d-0000-4000-8000-00000000abcd"
DIAGNOSTICS_LOGGER = "azure_core_tracing_opentelemetry.diagnostics"


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    return tmp_path / ".kvp_pool_1"


@pytest.fixture
def writer(pool: Path) -> Iterator[KvpWriter]:
    kvp = KvpWriter(pool, vm_id=VM_ID, boot_time=0.0)
    yield kvp
    kvp.shutdown(5.0)
