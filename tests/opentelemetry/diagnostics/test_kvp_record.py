from __future__ import annotations

import logging
import os
import re
import threading
import uuid
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing_opentelemetry.diagnostics import (
    KEY_FIELD_BYTES,
    KEY_MAX_BYTES,
    RECORD_BYTES,
    VALUE_CHUNK_MAX_BYTES,
    VALUE_FIELD_BYTES,
    KvpKey,
    encode_kvp_record,
    read_kvp_pool,
)
from azure_core_tracing_opentelemetry.diagnostics.escape import one_line
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import (
    event_key_head,
    new_event_key,
    new_record_id,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import pack_kvp_record
from tests.opentelemetry.diagnostics.conftest import VM_ID

RECORD_ID = "5b0e8f3a-7c1d-4e2f-9a3b-0c4d5e6f7a8b"
# Every character class of UTF-8: 1, 2, 3 and 4 bytes, with no NUL (the host's terminator).
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=3000,
)


# Mostly ASCII, around the one-record limit, with a NUL or a lone surrogate now and then: the
# edges of the packer's fast path.
ASCII_ISH = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=127),
        st.sampled_from(["\x00", "\ud800", "é", "€", "😀", "|"]),
    ),
    max_size=1100,
)
KEYS = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=260),
    st.text(max_size=300),
    st.builds(KvpKey, st.just("p"), st.just(VM_ID), st.just("INFO"), TEXT, st.just(RECORD_ID)),
)


def fields(data: bytes) -> list[tuple[bytes, bytes]]:
    """The raw key and value of each record, up to the first NUL, checking the padding."""
    assert len(data) % RECORD_BYTES == 0
    out = []
    for offset in range(0, len(data), RECORD_BYTES):
        key_field = data[offset : offset + KEY_FIELD_BYTES]
        value_field = data[offset + KEY_FIELD_BYTES : offset + RECORD_BYTES]
        key, _, key_pad = key_field.partition(b"\x00")
        value, _, value_pad = value_field.partition(b"\x00")
        assert key_pad.strip(b"\x00") == b"" and value_pad.strip(b"\x00") == b""
        out.append((key, value))
    return out


def check_records(data: bytes, value: str) -> list[str]:
    """Every record as the host needs it; returns the keys, checking they rejoin to ``value``."""
    records = fields(data)
    keys = [key.decode("utf-8") for key, _ in records]  # strict: raises on a cut character
    chunks = [chunk.decode("utf-8") for _, chunk in records]
    assert all(len(key) <= KEY_MAX_BYTES for key, _ in records)
    assert all(len(chunk) <= VALUE_CHUNK_MAX_BYTES for _, chunk in records)
    assert len(set(keys)) == len(keys)
    assert "".join(chunks) == value
    return keys


def test_the_layout_is_written_down_once() -> None:
    assert (KEY_FIELD_BYTES, VALUE_FIELD_BYTES, RECORD_BYTES) == (512, 2048, 2560)
    assert (KEY_MAX_BYTES, VALUE_CHUNK_MAX_BYTES) == (254, 1022)


def test_a_value_that_fits_is_one_record_and_its_key_gets_no_suffix() -> None:
    data = encode_kvp_record("my-key", "my-value")
    assert len(data) == RECORD_BYTES
    assert data[:6] == b"my-key" and set(data[6:KEY_FIELD_BYTES]) == {0}
    assert data[KEY_FIELD_BYTES : KEY_FIELD_BYTES + 8] == b"my-value"
    assert set(data[KEY_FIELD_BYTES + 8 :]) == {0}
    assert check_records(encode_kvp_record("k", "x" * VALUE_CHUNK_MAX_BYTES), "x" * 1022) == ["k"]
    assert check_records(encode_kvp_record("k", ""), "") == ["k"]


def test_a_2100_byte_value_is_three_chunks_with_numbered_keys() -> None:
    value = "".join(chr(ord("a") + i % 26) for i in range(2100))
    keys = check_records(encode_kvp_record("event", value), value)
    assert keys == ["event|0", "event|1", "event|2"]
    sizes = [len(v) for _, v in fields(encode_kvp_record("event", value))]
    assert sizes == [1022, 1022, 56]


@pytest.mark.parametrize("char", ["é", "€", "😀"], ids=["2-byte", "3-byte", "4-byte"])
def test_multibyte_values_are_split_between_characters(char: str) -> None:
    value = "a" + char * 1200  # the odd "a" puts every chunk edge inside a character
    data = encode_kvp_record("event", value)
    keys = check_records(data, value)
    assert len(keys) >= 2
    width = len(char.encode())
    for _, chunk in fields(data)[:-1]:
        assert len(chunk) > VALUE_CHUNK_MAX_BYTES - width  # cut at the last whole character


@settings(max_examples=150, deadline=None)
@given(value=TEXT)
def test_any_value_splits_into_valid_chunks_that_rejoin(value: str) -> None:
    check_records(encode_kvp_record(KvpKey("p", VM_ID, "INFO", "n", RECORD_ID), value), value)


@settings(max_examples=150, deadline=None)
@given(name=TEXT, value=st.sampled_from(["", "v", "w" * 5000]))
def test_any_name_is_shortened_inside_the_key(name: str, value: str) -> None:
    key = KvpKey("azure-core-tracing-0.1.0", VM_ID, "WARN", name, RECORD_ID)
    keys = check_records(encode_kvp_record(key, value), value)
    for index, text in enumerate(keys):
        suffix = "" if len(keys) == 1 else f"|{index}"
        assert text.startswith(f"azure-core-tracing-0.1.0|{VM_ID}|WARN|")
        assert text.endswith(f"|{RECORD_ID}{suffix}")
        kept = text[len(f"azure-core-tracing-0.1.0|{VM_ID}|WARN|") : -len(f"|{RECORD_ID}{suffix}")]
        clean = one_line(name).replace("|", "\u00a6")  # escaped, and no field added
        assert kept == clean or (kept.endswith("…") and clean.startswith(kept[:-1]))


def test_a_long_name_keeps_the_prefix_uuid_and_suffix_and_is_cut_between_characters() -> None:
    key = KvpKey("prefix", VM_ID, "ERROR", "€" * 300, RECORD_ID)
    data = encode_kvp_record(key, "v" * 3000)
    keys = check_records(data, "v" * 3000)
    assert [k[-2:] for k in keys] == ["|0", "|1", "|2"]
    assert all(len(k.encode()) <= KEY_MAX_BYTES for k in keys)
    assert len(keys[0].encode()) >= KEY_MAX_BYTES - 3  # filled, not cut short needlessly
    assert re.fullmatch(rf"prefix\|{VM_ID}\|ERROR\|€+…\|{RECORD_ID}\|0", keys[0])


def test_a_pipe_or_nul_in_a_name_cannot_add_a_field() -> None:
    key = KvpKey("p", VM_ID, "INFO", "a|b\x00c\nd", RECORD_ID)
    assert key.render(KEY_MAX_BYTES) == f"p|{VM_ID}|INFO|a\u00a6b\\x00c\\nd|{RECORD_ID}"


def test_a_nul_in_a_value_is_replaced_so_the_host_reads_all_of_it() -> None:
    [(_, value)] = fields(encode_kvp_record("k", "a\x00b"))
    assert value.decode() == "a\ufffdb"


@settings(max_examples=400, deadline=None)
@given(
    key=KEYS,
    value=st.one_of(ASCII_ISH, TEXT),
    offset=st.integers(0, 3),
    room=st.integers(0, 2 * RECORD_BYTES),
)
def test_packing_into_a_buffer_gives_exactly_the_encoded_bytes(
    key: str | KvpKey, value: str, offset: int, room: int
) -> None:
    # A used buffer (not zeros): every byte of the records must be written, padding included.
    start = offset * RECORD_BYTES
    buffer = bytearray(b"\xaa" * (start + room))
    try:
        expected = encode_kvp_record(key, value)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            pack_kvp_record(buffer, start, key, value)
        return
    end = pack_kvp_record(buffer, start, key, value)
    assert end == start + len(expected)
    assert bytes(buffer[start:end]) == expected
    assert buffer[:start] == b"\xaa" * start


def test_packing_checks_what_encoding_checks() -> None:
    buffer = bytearray(RECORD_BYTES)
    with pytest.raises(TypeError, match="value must be a str"):
        pack_kvp_record(buffer, 0, "k", b"v")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a str or KvpKey"):
        pack_kvp_record(buffer, 0, b"k", "v")  # type: ignore[arg-type]
    for bad_key in ("", "k" * (KEY_MAX_BYTES + 1), "a\x00b"):
        with pytest.raises(ValueError, match="1 to 254"):
            pack_kvp_record(buffer, 0, bad_key, "v")


@settings(max_examples=200, deadline=None)
@given(name=TEXT, level=st.sampled_from(["TRACE", "INFO", "ERROR"]))
def test_a_cached_key_head_and_an_id_make_the_whole_key(name: str, level: str) -> None:
    record_id = new_record_id()
    key = KvpKey("azure-core-tracing-0.1.0", VM_ID, level, name, record_id)
    head = event_key_head(key.prefix, key.vm_id, level, name, KEY_MAX_BYTES)
    assert head + record_id == key.render(KEY_MAX_BYTES)
    again = event_key_head(key.prefix, key.vm_id, level, name, KEY_MAX_BYTES)
    assert again == head  # from the cache now


def test_a_key_fitted_for_one_room_is_not_reused_for_another() -> None:
    # The same name, fitted once for a whole record and once with a chunk suffix to fit.
    key = KvpKey("p", VM_ID, "INFO", "n" * 400, RECORD_ID)
    whole = key.encoded(KEY_MAX_BYTES)
    chunked = key.encoded(KEY_MAX_BYTES - 2)
    assert (len(whole), len(chunked)) == (KEY_MAX_BYTES, KEY_MAX_BYTES - 2)
    assert KvpKey("p", VM_ID, "INFO", "n" * 400, "x|y").render(KEY_MAX_BYTES).endswith("|x\u00a6y")


def test_keys_stay_right_past_the_cache_size() -> None:
    for index in range(3000):  # more names than the cache keeps: it starts again, still right
        name = f"step-{index}"
        key = KvpKey("p", VM_ID, "WARN", name, RECORD_ID)
        assert key.render(KEY_MAX_BYTES) == f"p|{VM_ID}|WARN|{name}|{RECORD_ID}"
        assert event_key_head("p", VM_ID, "WARN", name, KEY_MAX_BYTES) == f"p|{VM_ID}|WARN|{name}|"


def test_a_str_key_that_does_not_fit_is_a_value_error() -> None:
    encode_kvp_record("k" * KEY_MAX_BYTES, "v")
    with pytest.raises(ValueError, match="1 to 254"):
        encode_kvp_record("k" * (KEY_MAX_BYTES + 1), "v")
    with pytest.raises(ValueError, match="1 to 252"):  # room for the "|0", "|1" suffix
        encode_kvp_record("k" * KEY_MAX_BYTES, "v" * 2000)
    with pytest.raises(ValueError, match="1 to 254"):
        encode_kvp_record("", "v")


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="value must be a str"):
        encode_kvp_record("k", b"v")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a str or KvpKey"):
        encode_kvp_record(1, "v")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="level must be one of"):
        encode_kvp_record(KvpKey("p", VM_ID, "VERBOSE", "n", RECORD_ID), "v")


def test_a_trailing_partial_record_is_ignored_and_reported(
    pool: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pool.write_bytes(encode_kvp_record("a", "1") + encode_kvp_record("b", "2")[:700])
    with caplog.at_level(logging.WARNING):
        records = read_kvp_pool(pool)
    assert [(r.key, r.value) for r in records] == [("a", "1")]
    assert records.partial_bytes == 700
    assert "700 bytes after 1 whole records" in caplog.text
    assert read_kvp_pool(pool, join_chunks=True).partial_bytes == 700


def test_a_pool_of_whole_records_reports_no_partial_bytes(
    pool: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pool.write_bytes(encode_kvp_record("a", "1"))
    records = read_kvp_pool(pool)
    assert records.partial_bytes == 0 and not caplog.records


def test_join_puts_complete_runs_together_at_their_first_chunk_and_leaves_the_rest(
    pool: Path,
) -> None:
    long = "z" * 1500
    chunks = fields(encode_kvp_record("ours", long))
    other = encode_kvp_record("other", "o")

    def record(key: str, value: str) -> bytes:
        return encode_kvp_record(key, value)

    pool.write_bytes(
        record(chunks[0][0].decode(), chunks[0][1].decode())
        + other  # a foreign record between two chunks
        + record(chunks[1][0].decode(), chunks[1][1].decode())
        + record("gap|0", "a")
        + record("gap|2", "c")  # index 1 missing: not joined
        + record("lone|0", "x")  # a single "|0": not a split value
        + record("twice|0", "a")
        + record("twice|0", "b")
        + record("twice|1", "c")  # a repeated index: ambiguous, not joined
    )
    joined = read_kvp_pool(pool, join_chunks=True)
    assert [(r.key, r.value) for r in joined] == [
        ("ours", long),
        ("other", "o"),
        ("gap|0", "a"),
        ("gap|2", "c"),
        ("lone|0", "x"),
        ("twice|0", "a"),
        ("twice|0", "b"),
        ("twice|1", "c"),
    ]


def test_foreign_bytes_that_are_not_utf8_are_read_with_replacement(pool: Path) -> None:
    record = bytearray(RECORD_BYTES)
    record[0:3] = b"k\xff\xfe"
    record[KEY_FIELD_BYTES : KEY_FIELD_BYTES + 2] = b"\xc3v"
    pool.write_bytes(bytes(record))
    [only] = read_kvp_pool(pool)
    assert only.key == "k\ufffd\ufffd" and only.value == "\ufffdv"


def test_record_ids_are_distinct_version_4_uuids() -> None:
    ids = [new_event_key("p", VM_ID, "INFO", "n").record_id for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:500]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122) and str(parsed) == text


def test_threads_drawing_at_once_never_share_an_id() -> None:
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(into: list[str]) -> None:
        into.extend(new_record_id() for _ in range(5000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [text for into in drawn for text in into]
    assert len(set(every)) == len(every) == 40_000


def test_a_forked_child_draws_other_record_ids_than_its_parent() -> None:
    new_record_id()  # the parent now holds ids drawn ahead: the child must not hand them out
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: harmless here
        child = os.fork()
    if child == 0:
        os.write(write_end, new_record_id().encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    theirs = os.read(read_end, 100).decode()
    os.close(read_end)
    assert len(theirs) == 36 and theirs != new_record_id()
