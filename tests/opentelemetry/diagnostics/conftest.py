"""Real pools in a temporary folder, a real writer thread, the real OpenTelemetry SDK."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import strategies as st
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
# What no line the layers or the dump tool write may hold raw: C0 and C1 controls, DEL, the
# Unicode line and paragraph separators and lone surrogates (the line's own LF is stripped).
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Text to forge records with: any character, and often one of those, a record's start or "\".
FORGING_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=8),
        st.sampled_from(
            [
                "\n",
                "\r\n",
                "\t",
                "\x00",
                "\x07",
                "\x08",
                "\x0b",
                "\x0c",
                "\x1b[2J",
                "\x1c",
                "\x7f",
                "\x85",
                "\x9b",
                "\u2028",
                "\u2029",
                "\ud800",
                "\\",
                "\\n",
                " ",
                "\xa0",
                "\u3000",
                "\n2024-05-01T12:00:00.000Z ERROR agent trace_id=0 span_id=0: forged",
            ]
        ),
    ),
    max_size=5,
).map("".join)


def unescape(text: str) -> str:
    """What the layers escaped, back as it was (the recipe the escaping module documents)."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


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
