"""Real pools in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

VM_ID = "0a1b2c3d-0000-4000-8000-00000000abcd"


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    return tmp_path / ".kvp_pool_1"
