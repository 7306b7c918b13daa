from __future__ import annotations

from collections.abc import Iterator
from typing import Optional, SupportsIndex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing.tracecontext import (
    MAX_HEADER_TEXT,
    RANDOM_TRACE_ID_FLAG,
    SAMPLED_FLAG,
    TraceParent,
    TraceState,
)
from tests.w3c_vectors import PARENT_ID, SAMPLED, TRACE_ID, VALID, VECTORS, Vector

# -- the W3C harness's header cases ------------------------------------------------------


def _carried(vector: Vector) -> tuple[Optional[str], str]:
    """What a service carries on for this request: traceparent parsed, tracestate kept."""
    traceparent = TraceParent.parse(vector.lines("traceparent"))
    if traceparent is None:
        return None, ""  # a tracestate without a valid traceparent is discarded
    tracestate = TraceState.parse(vector.lines("tracestate"))
    return traceparent.format(), "" if tracestate is None else tracestate.format()


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.case)
def test_w3c_header_case_through_the_parser(vector: Vector) -> None:
    assert _carried(vector) == (vector.traceparent, vector.tracestate)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v.case)
def test_w3c_valid_case_round_trips(vector: Vector) -> None:
    traceparent = TraceParent.parse(vector.lines("traceparent"))
    assert traceparent is not None
    assert traceparent.format() == vector.traceparent
    assert TraceParent.parse(traceparent.format()) == traceparent
    tracestate = TraceState.parse(vector.lines("tracestate"))
    if tracestate is not None:
        assert tracestate.format() == vector.tracestate
        assert TraceState.parse(tracestate.format()) == tracestate


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if len(v.lines("traceparent")) == 1], ids=lambda v: v.case
)
def test_one_line_as_str_or_as_a_list_parses_alike(vector: Vector) -> None:
    (line,) = vector.lines("traceparent")
    assert TraceParent.parse(line) == TraceParent.parse([line]) == TraceParent.parse((line,))


@pytest.mark.parametrize(
    "value",
    [
        "foo=1,@bar=2",  # one invalid member discards all
        "foo=bar=baz",
        "foo=",
        "=1",
        "foo",
        "foo=1,bar",
        "foo=b\ta",  # a tab is not a value character
        "FOO=1",
        ",".join(f"k{n}=v" for n in range(33)),
        ",".join(f"k{n}=v" for n in range(32)) + ",k0=v",  # 33 members, one a duplicate
        "foo=" + "x" * 257,
        "z" * 257 + "=1",
    ],
)
def test_an_invalid_tracestate_is_none(value: str) -> None:
    assert TraceState.parse(value) is None


# -- traceparent, rule by rule -----------------------------------------------------------


def test_the_parsed_fields() -> None:
    parsed = TraceParent.parse(SAMPLED)
    assert parsed == TraceParent(TRACE_ID, PARENT_ID, SAMPLED_FLAG)
    assert parsed.sampled and not parsed.random_trace_id


def test_the_random_trace_id_flag_is_kept() -> None:
    parsed = TraceParent.parse(f"00-{TRACE_ID}-{PARENT_ID}-03")
    assert parsed is not None
    assert parsed.random_trace_id and parsed.sampled
    assert parsed.format().endswith("-03")


@pytest.mark.parametrize(
    ("flags", "kept"), [("ff", "03"), ("fc", "00"), ("06", "02"), ("81", "01")]
)
def test_flags_this_level_does_not_define_are_set_to_zero(flags: str, kept: str) -> None:
    parsed = TraceParent.parse(f"00-{TRACE_ID}-{PARENT_ID}-{flags}")
    assert parsed is not None
    assert parsed.format() == f"00-{TRACE_ID}-{PARENT_ID}-{kept}"


@pytest.mark.parametrize(
    "value",
    [
        f"01-{TRACE_ID}-{PARENT_ID}-01",
        f"fe-{TRACE_ID}-{PARENT_ID}-01-",
        f"cc-{TRACE_ID}-{PARENT_ID}-01-anything at all; even spaces",
        f"cc-{TRACE_ID}-{PARENT_ID}-ff-x",
    ],
)
def test_a_higher_version_is_read_forward_compatibly_and_formatted_as_00(value: str) -> None:
    parsed = TraceParent.parse(value)
    assert parsed is not None
    assert parsed.format().startswith(f"00-{TRACE_ID}-{PARENT_ID}-0")


@pytest.mark.parametrize(
    "value",
    [
        f"{SAMPLED},{SAMPLED}",  # a comma-joined duplicate
        f"{SAMPLED}, {SAMPLED}",
        f"cc-{TRACE_ID}-{PARENT_ID}-01-x,cc-{TRACE_ID}-{PARENT_ID}-01",
        f"cc-{TRACE_ID}-{PARENT_ID}-01-x,",
        f"CC-{TRACE_ID}-{PARENT_ID}-01",
        f"0A-{TRACE_ID}-{PARENT_ID}-01",
        f"00-{'ABCDEF' * 5}AB-{PARENT_ID}-01",  # the suite's ids are all digits: upper() is a no-op
        f"00-{TRACE_ID}-{'ABCDEF' * 2}ABCD-01",
        f"00-{TRACE_ID}-{PARENT_ID}-0A",
        f"00-{TRACE_ID}-{PARENT_ID}-01-",
        f"cc-{TRACE_ID}-{PARENT_ID}-01x",
        f"cc-{TRACE_ID}-{PARENT_ID}",
        f"00_{TRACE_ID}_{PARENT_ID}_01",
        f"\n{SAMPLED}",  # only spaces and tabs are optional white space
        f"{SAMPLED}\r",
        f"{SAMPLED}\v",
        f"\xa0{SAMPLED}",
        f"{SAMPLED}\u3000",
        "00-" + "\u0661" * 32 + f"-{PARENT_ID}-01",  # Arabic-Indic digits are digits, not hex
        f"00-{TRACE_ID}-" + "\uff11" * 16 + "-01",  # so are full-width ones
        "",
        " \t ",
    ],
)
def test_an_invalid_traceparent_is_none(value: str) -> None:
    assert TraceParent.parse(value) is None


@pytest.mark.parametrize("lines", [[], [SAMPLED, SAMPLED], [SAMPLED, ""], ["", SAMPLED]])
def test_anything_but_exactly_one_traceparent_line_is_none(lines: list[str]) -> None:
    assert TraceParent.parse(lines) is None


# -- hostile and odd inputs --------------------------------------------------------------


class _Exploding:
    def __iter__(self) -> Iterator[str]:
        yield "foo=1"
        raise RuntimeError("a getter gone wrong")


class _Sneaky(str):
    """A str whose methods lie; parse must work on the characters themselves."""

    def __len__(self) -> int:
        return 0

    def strip(self, chars: Optional[str] = None) -> str:
        return "00-" + "f" * 32 + "-" + "f" * 16 + "-01"

    def split(self, sep: Optional[str] = None, maxsplit: SupportsIndex = -1) -> list[str]:
        return ["evil=1"]


ODD_INPUTS: list[object] = [
    None,
    0,
    1.5,
    True,
    object(),
    SAMPLED.encode(),
    bytearray(SAMPLED.encode()),
    memoryview(SAMPLED.encode()),
    {"traceparent": SAMPLED},
    [SAMPLED.encode()],
    [None],
    [1],
    [[SAMPLED]],
    {SAMPLED},  # a set has no order, and order matters
    frozenset({"foo=1"}),
    _Exploding(),
    (b"x",),
]


@pytest.mark.parametrize("header", ODD_INPUTS, ids=repr)
def test_any_input_parses_without_raising(header: object) -> None:
    TraceParent.parse(header)  # type: ignore[arg-type]
    TraceState.parse(header)  # type: ignore[arg-type]


@pytest.mark.parametrize("header", ODD_INPUTS[1:], ids=repr)
def test_what_is_not_text_is_invalid(header: object) -> None:
    assert TraceParent.parse(header) is None  # type: ignore[arg-type]
    assert TraceState.parse(header) is None  # type: ignore[arg-type]


def test_absent_headers() -> None:
    assert TraceParent.parse(None) is None
    assert TraceState.parse(None) == TraceState()
    assert TraceState.parse([]) == TraceState()


def test_a_generator_of_lines_is_read_once_in_order() -> None:
    assert TraceParent.parse(line for line in [SAMPLED]) == TraceParent.parse(SAMPLED)
    parsed = TraceState.parse(line for line in ["a=1", "b=2"])
    assert parsed is not None and parsed.format() == "a=1,b=2"


def test_a_str_subclass_is_read_for_its_characters() -> None:
    assert TraceParent.parse(_Sneaky(SAMPLED)) == TraceParent.parse(SAMPLED)
    assert TraceState.parse(_Sneaky("foo=1")) == TraceState((("foo", "1"),))
    assert TraceState.parse([_Sneaky("a=1"), "b=2"]) == TraceState((("a", "1"), ("b", "2")))


def test_header_text_up_to_the_limit_is_examined_and_beyond_it_is_invalid() -> None:
    padding = " " * (MAX_HEADER_TEXT - len(SAMPLED))
    assert TraceParent.parse(padding + SAMPLED) == TraceParent.parse(SAMPLED)
    assert TraceParent.parse(" " + padding + SAMPLED) is None
    assert TraceState.parse(padding + "foo=1" + " " * (len(SAMPLED) - 5)) is not None
    assert TraceState.parse(padding + "foo=1" + " " * (len(SAMPLED) - 4)) is None


def test_many_lines_count_against_the_limit() -> None:
    # Each line costs its length plus one separator: a flood of empty lines is bounded too.
    assert TraceState.parse([""] * (MAX_HEADER_TEXT // 2)) == TraceState()
    assert TraceState.parse([""] * (MAX_HEADER_TEXT + 1)) is None
    assert TraceState.parse(iter(lambda: "", None)) is None  # endless: stops at the limit


def test_a_megabyte_of_separators_or_of_one_member_is_rejected_or_skipped() -> None:
    assert TraceState.parse("," * (MAX_HEADER_TEXT - 1)) == TraceState()
    assert TraceState.parse("a" * (MAX_HEADER_TEXT - 3) + "=1") is None
    assert TraceState.parse("a=" + " " * (MAX_HEADER_TEXT - 3) + "1") is None
    assert TraceParent.parse(f"cc-{TRACE_ID}-{PARENT_ID}-01-" + "x" * (MAX_HEADER_TEXT - 60))


def test_control_characters_and_unicode_in_tracestate_are_invalid() -> None:
    for bad in ["foo=1\x00", "foo=\x7f", "foo=caf\xe9", "f\u00f6o=1", "foo=1\n", "\uff46oo=1"]:
        assert TraceState.parse(bad) is None, repr(bad)
    assert TraceState.parse("foo=\ud800") is None  # a lone surrogate
    assert TraceParent.parse(SAMPLED[:-1] + "\ud800") is None


def test_lists_and_tuples_of_lines_parse_as_any_iterable_does() -> None:
    lines = ["a=1", " ,b=2", ""]
    expected = TraceState((("a", "1"), ("b", "2")))
    assert TraceState.parse(lines) == TraceState.parse(tuple(lines)) == expected
    assert TraceState.parse(iter(lines)) == TraceState.parse([_Sneaky("a=1"), " ,b=2"]) == expected
    too_many = [""] * (MAX_HEADER_TEXT + 2)
    assert TraceState.parse(too_many) is None
    assert TraceState.parse(tuple(too_many)) is None
    assert TraceState.parse(iter(too_many)) is None


# -- tracestate, rule by rule ------------------------------------------------------------


def test_a_value_keeps_its_leading_spaces_and_loses_trailing_ones() -> None:
    parsed = TraceState.parse("foo=  bar  ,baz=1")
    assert parsed is not None
    assert parsed["foo"] == "  bar"
    assert parsed.format() == "foo=  bar,baz=1"


def test_keys_and_values_at_their_longest() -> None:
    key, value = "k" * 256, "v" * 256
    assert TraceState.parse(f"{key}={value}") == TraceState(((key, value),))
    assert TraceState.parse(f"{key}={value}v") is None


def test_empty_members_are_skipped_and_do_not_count() -> None:
    members = ",".join(f"k{n}=v" for n in range(32))
    parsed = TraceState.parse([" , ,", members + ",,\t,", ""])
    assert parsed is not None and len(parsed) == 32


def test_a_duplicated_key_keeps_its_first_value_and_place() -> None:
    parsed = TraceState.parse(["a=1,b=2", "a=3,c=4"])
    assert parsed is not None
    assert parsed.entries == (("a", "1"), ("b", "2"), ("c", "4"))


# -- the value types ---------------------------------------------------------------------


def test_tracestate_is_an_ordered_mapping() -> None:
    state = TraceState((("b", "2"), ("a", "1")))
    assert list(state) == ["b", "a"]
    assert len(state) == 2
    assert state.get("a") == "1" and state.get("zz") is None and state["b"] == "2"
    assert "a" in state and "zz" not in state
    assert dict(state.items()) == {"a": "1", "b": "2"}
    assert state.entries == (("b", "2"), ("a", "1"))
    assert state != TraceState((("a", "1"), ("b", "2")))  # order is part of the value
    assert hash(state) == hash(TraceState((("b", "2"), ("a", "1"))))
    assert not TraceState() and TraceState().format() == ""


@pytest.mark.parametrize(
    ("entries", "error", "named"),
    [
        ((("Foo", "1"),), ValueError, "key"),
        ((("foo", "a,b"),), ValueError, "value"),
        ((("foo", "1 "),), ValueError, "value"),
        ((("foo", ""),), ValueError, "value"),
        ((("foo", "1"), ("foo", "2")), ValueError, "twice"),
        (tuple((f"k{n}", "v") for n in range(33)), ValueError, "32"),
        (((1, "1"),), TypeError, "key"),
        ((("foo", 1),), TypeError, "value"),
        ((("foo",),), TypeError, "pairs"),
        ("foo=1", TypeError, "pairs"),
        (5, TypeError, "pairs"),
    ],
)
def test_tracestate_rejects_invalid_entries(entries: object, error: type, named: str) -> None:
    with pytest.raises(error, match=named):
        TraceState(entries)  # type: ignore[arg-type]


def test_with_entry_puts_the_entry_first() -> None:
    state = TraceState((("a", "1"), ("b", "2"), ("c", "3")))
    assert state.with_entry("b", "9").entries == (("b", "9"), ("a", "1"), ("c", "3"))
    assert state.with_entry("new@vendor", "x").format() == "new@vendor=x,a=1,b=2,c=3"
    assert state.entries == (("a", "1"), ("b", "2"), ("c", "3"))  # unchanged


def test_with_entry_beyond_32_members_removes_the_right_most() -> None:
    full = TraceState(tuple((f"k{n}", "v") for n in range(32)))
    added = full.with_entry("new", "v")
    assert len(added) == 32
    assert list(added)[:2] == ["new", "k0"] and "k31" not in added
    assert len(full.with_entry("k5", "w")) == 32  # updating needs no room


def test_with_entry_truncates_large_entries_first_then_from_the_right() -> None:
    large_1 = ("big1", "x" * 130)
    large_2 = ("big2", "y" * 130)
    small = [(f"s{n}", "v" * 20) for n in range(12)]  # 12 * 23 characters
    state = TraceState((large_1, small[0], large_2, *small[1:]))
    assert len(state.format()) > 512
    truncated = state.with_entry("new", "1")
    assert len(truncated.format()) <= 512
    # big2 (the right-most large entry) goes first; that is enough here.
    assert truncated.entries == (("new", "1"), large_1, *small)

    more = TraceState((large_1, large_2, *[(f"m{n}", "v" * 80) for n in range(6)]))
    truncated = more.with_entry("new", "1")
    assert len(truncated.format()) <= 512
    assert "big1" not in truncated and "big2" not in truncated
    assert list(truncated) == ["new", "m0", "m1", "m2", "m3", "m4", "m5"]

    no_large = TraceState(tuple((f"m{n}", "v" * 100) for n in range(6)))
    assert list(no_large.with_entry("new", "1")) == ["new", "m0", "m1", "m2", "m3"]


def test_with_entry_keeps_the_new_entry_even_when_it_alone_is_large() -> None:
    state = TraceState((("a", "1"),))
    entry = ("k" * 256, "v" * 256)
    assert state.with_entry(*entry).entries == (entry,)


@pytest.mark.parametrize(
    ("key", "value", "error", "named"),
    [
        ("@x", "1", ValueError, "key"),
        ("x", "a=b", ValueError, "value"),
        (None, "1", TypeError, "key"),
    ],
)
def test_with_entry_rejects_an_invalid_entry(
    key: object, value: object, error: type, named: str
) -> None:
    with pytest.raises(error, match=named):
        TraceState().with_entry(key, value)  # type: ignore[arg-type]


def test_without_entry() -> None:
    state = TraceState((("a", "1"), ("b", "2")))
    assert state.without_entry("a").entries == (("b", "2"),)
    assert state.without_entry("zz") is state


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        (("ABCDEF" * 5 + "AB", PARENT_ID), ValueError, "trace_id"),
        (("0" * 32, PARENT_ID), ValueError, "trace_id"),
        ((TRACE_ID, "0" * 16), ValueError, "parent_id"),
        ((TRACE_ID, PARENT_ID + "0"), ValueError, "parent_id"),
        ((TRACE_ID, PARENT_ID, 4), ValueError, "trace_flags"),
        ((TRACE_ID, PARENT_ID, -1), ValueError, "trace_flags"),
        ((TRACE_ID, PARENT_ID, True), TypeError, "trace_flags"),
        ((int(TRACE_ID, 16), PARENT_ID), TypeError, "trace_id"),
        ((TRACE_ID, None), TypeError, "parent_id"),
    ],
)
def test_traceparent_rejects_invalid_fields(
    arguments: tuple[object, ...], error: type, named: str
) -> None:
    with pytest.raises(error, match=named):
        TraceParent(*arguments)  # type: ignore[arg-type]


def test_child_keeps_the_trace_and_flags_under_a_new_parent_id() -> None:
    parent = TraceParent(TRACE_ID, PARENT_ID, SAMPLED_FLAG | RANDOM_TRACE_ID_FLAG)
    child = parent.child()
    assert child.trace_id == TRACE_ID and child.parent_id != PARENT_ID
    assert child.trace_flags == parent.trace_flags
    assert parent.child("00f067aa0ba902b7").parent_id == "00f067aa0ba902b7"
    unsampled = parent.child(sampled=False)
    assert not unsampled.sampled and unsampled.random_trace_id
    assert TraceParent(TRACE_ID, PARENT_ID).child(sampled=True).trace_flags == SAMPLED_FLAG
    with pytest.raises(ValueError, match="parent_id"):
        parent.child("0" * 16)


def test_new_trace_is_random_and_says_so() -> None:
    first, second = TraceParent.new_trace(), TraceParent.new_trace(sampled=True)
    assert first.trace_id != second.trace_id
    assert first.random_trace_id and not first.sampled
    assert second.random_trace_id and second.sampled
    assert TraceParent.parse(first.format()) == first


def test_values_are_frozen() -> None:
    with pytest.raises(AttributeError):
        TraceParent.parse(SAMPLED).trace_id = "x"  # type: ignore[union-attr,misc]
    with pytest.raises(AttributeError):
        TraceState().entries = ()  # type: ignore[misc]


# -- properties --------------------------------------------------------------------------

_HEX = "0123456789abcdef"
_VALID_TRACEPARENT = st.builds(
    lambda version, trace_id, parent_id, flags, tail, ows: (
        f"{ows}{version}-{trace_id}-{parent_id}-{flags}{'' if version == '00' else tail}{ows}"
    ),
    st.sampled_from(["00", "01", "cc", "fe"]),
    st.text(_HEX, min_size=32, max_size=32),
    st.text(_HEX, min_size=16, max_size=16),
    st.text(_HEX, min_size=2, max_size=2),
    st.sampled_from(["", "-", "-future"]),
    st.sampled_from(["", " ", "\t", " \t"]),
)
_TRACEPARENT_LIKE = _VALID_TRACEPARENT | st.builds(
    lambda version, trace_id, parent_id, flags, tail, ows: (
        f"{ows}{version}-{trace_id}-{parent_id}-{flags}{tail}{ows}"
    ),
    st.sampled_from(["00", "01", "cc", "fe", "ff", "0g", "A0"]),
    st.text(_HEX, min_size=31, max_size=33),
    st.text(_HEX, min_size=15, max_size=17),
    st.text(_HEX + "xX", min_size=1, max_size=3),
    st.sampled_from(["", "-", "-future", ".x", ",x", f",{SAMPLED}"]),
    st.sampled_from(["", " ", "\t", " \t"]),
)
_MEMBER = st.builds(
    lambda key, value, ows: f"{ows}{key}={value}{ows}",
    st.from_regex(r"[a-z0-9][a-z0-9_\-*/@]{0,20}|[A-Z@ .][a-z]{0,3}", fullmatch=True),
    st.from_regex(
        r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,8}[\x21-\x2b\x2d-\x3c\x3e-\x7e]|=| ", fullmatch=True
    ),
    st.sampled_from(["", " ", "\t"]),
)
_TRACESTATE_LINE = st.lists(_MEMBER | st.just(""), max_size=40).map(",".join)
_ANY_TEXT = st.text() | st.text(alphabet=st.characters(max_codepoint=0x7F))


@settings(max_examples=400)
@given(_ANY_TEXT | _TRACEPARENT_LIKE | st.lists(_ANY_TEXT | _TRACEPARENT_LIKE, max_size=3))
def test_any_traceparent_text_parses_without_raising_and_round_trips(
    header: str | list[str],
) -> None:
    parsed = TraceParent.parse(header)
    if parsed is not None:
        assert TraceParent.parse(parsed.format()) == parsed
        assert len(parsed.format()) == 55


@settings(max_examples=400)
@given(_ANY_TEXT | _TRACESTATE_LINE | st.lists(_ANY_TEXT | _TRACESTATE_LINE, max_size=5))
def test_any_tracestate_text_parses_without_raising_and_round_trips(
    header: str | list[str],
) -> None:
    parsed = TraceState.parse(header)
    if parsed is not None:
        assert TraceState.parse(parsed.format()) == parsed
        assert TraceState.parse([parsed.format()]) == parsed
        assert len(parsed) <= 32


@given(
    _TRACESTATE_LINE,
    st.from_regex(r"[a-z][a-z0-9@]{0,10}", fullmatch=True),
    st.text(_HEX, min_size=1, max_size=200),
)
def test_with_entry_always_gives_a_parseable_state_with_the_entry_first(
    line: str, key: str, value: str
) -> None:
    state = TraceState.parse(line)
    if state is None:
        return
    updated = state.with_entry(key, value)
    assert updated.entries[0] == (key, value)
    assert TraceState.parse(updated.format()) == updated
    assert len(updated) <= 32
    assert len(updated) == 1 or len(updated.format()) <= 512
