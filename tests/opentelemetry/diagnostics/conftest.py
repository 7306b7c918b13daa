"""Real pools in a temporary folder, a real writer thread, the real OpenTelemetry SDK."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from opentelemetry.sdk.trace import TracerProvider

from azure_core_tracing_opentelemetry.diagnostics import (
    EnvFilter,
    KvpLogHandler,
    KvpRecord,
    KvpSpanProcessor,
    KvpWriter,
    read_kvp_pool,
)

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


def written(writer: KvpWriter, pool: Path) -> list[KvpRecord]:
    """What ``writer`` has written to ``pool`` once everything queued is through."""
    assert writer.flush(5.0)
    return list(read_kvp_pool(pool))


@dataclass
class KvpSdk:
    """An SDK provider whose only span processor is the KVP one, and a tracer from it."""

    sdk: TracerProvider
    writer: KvpWriter
    pool: Path

    def records(self) -> list[KvpRecord]:
        return written(self.writer, self.pool)


def kvp_sdk(writer: KvpWriter, pool: Path, directives: Optional[str] = None) -> KvpSdk:
    sdk = TracerProvider()
    selected = None if directives is None else EnvFilter(directives)
    sdk.add_span_processor(KvpSpanProcessor(writer, selected))
    return KvpSdk(sdk, writer, pool)


@pytest.fixture
def kvp(writer: KvpWriter, pool: Path) -> Iterator[KvpSdk]:
    made = kvp_sdk(writer, pool)
    yield made
    made.sdk.shutdown()


@pytest.fixture
def kvp_logger(writer: KvpWriter) -> Iterator[logging.Logger]:
    """A logger of its own (not propagating) with an unfiltered KVP handler."""
    logger = logging.getLogger("provisioning.test")
    handler = KvpLogHandler(writer)
    logger.addHandler(handler)
    logger.setLevel(1)
    logger.propagate = False
    yield logger
    logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)
