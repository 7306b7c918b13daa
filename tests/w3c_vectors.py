"""Every header case of the W3C harness (test/test.py of w3c/trace-context, at Level 2 strict).

Written for this project from the harness's test list and the Level 2 spec text: each
``Vector`` is one request the harness sends (its header lines, names as sent) and what a
conforming service carries on. The suite's names (``TraceContextTest``, ``AdvancedTest``,
``TraceContext2Test`` and the test method) lead each case's id so a failure points at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

TRACE_ID = "12345678901234567890123456789012"
PARENT_ID = "1234567890123456"
SAMPLED = f"00-{TRACE_ID}-{PARENT_ID}-01"
UNSAMPLED = f"00-{TRACE_ID}-{PARENT_ID}-00"

KEY_WITHOUT_VENDOR = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
KEY_WITH_VENDOR = KEY_WITHOUT_VENDOR + "@a-z0-9_-*/"
ALL_VALUE_CHARACTERS = "".join(
    chr(c) for c in range(0x20, 0x7F) if chr(c) not in ",="
)  # printable ASCII but ',' and '='; it starts with a space, which the value keeps
THIRTY_TWO = [f"bar{n:02d}={n:02d}" for n in range(1, 33)]


@dataclass(frozen=True)
class Vector:
    """One request: ``headers`` as sent (name, value) lines, and what must be carried on.

    ``traceparent`` is the parsed value formatted (None: a new trace starts). ``tracestate``
    is the tracestate carried on, formatted ("" when there is none to carry).
    """

    case: str
    headers: tuple[tuple[str, str], ...]
    traceparent: Optional[str]
    tracestate: str = ""

    def lines(self, name: str) -> list[str]:
        """The values of every line whose header name is ``name`` (ASCII case-insensitive)."""
        return [value for key, value in self.headers if key.lower() == name]


def _v(
    case: str,
    headers: list[tuple[str, str]],
    traceparent: Optional[str],
    tracestate: str = "",
) -> Vector:
    return Vector(case, tuple(headers), traceparent, tracestate)


def _tp(value: str) -> tuple[str, str]:
    return ("traceparent", value)


def _ts(value: str) -> tuple[str, str]:
    return ("tracestate", value)


def _new_trace(case: str, traceparent: str) -> Vector:
    return _v(case, [_tp(traceparent)], None)


_T = "TraceContextTest.test_"

TRACEPARENT_VECTORS = [
    _v(_T + "both_traceparent_and_tracestate_missing", [], None),
    _v(_T + "traceparent_included_tracestate_missing", [_tp(SAMPLED)], SAMPLED),
    _v(
        _T + "traceparent_duplicated",
        [_tp(f"00-{TRACE_ID[:-1]}1-{PARENT_ID}-01"), _tp(SAMPLED)],
        None,
    ),
    _v(_T + "traceparent_header_name trace-parent", [("trace-parent", SAMPLED)], None),
    _v(_T + "traceparent_header_name trace.parent", [("trace.parent", SAMPLED)], None),
    _v(
        _T + "traceparent_header_name_valid_casing TraceParent", [("TraceParent", SAMPLED)], SAMPLED
    ),
    _v(
        _T + "traceparent_header_name_valid_casing TrAcEpArEnT", [("TrAcEpArEnT", SAMPLED)], SAMPLED
    ),
    _v(
        _T + "traceparent_header_name_valid_casing TRACEPARENT", [("TRACEPARENT", SAMPLED)], SAMPLED
    ),
    _new_trace(_T + "traceparent_version_0x00 trailing dot", SAMPLED + "."),
    _new_trace(
        _T + "traceparent_version_0x00 extra field", SAMPLED + "-what-the-future-will-be-like"
    ),
    _v(_T + "traceparent_version_0xcc", [_tp("cc" + SAMPLED[2:])], SAMPLED),
    _v(
        _T + "traceparent_version_0xcc extra field",
        [_tp("cc" + SAMPLED[2:] + "-what-the-future-will-be-like")],
        SAMPLED,
    ),
    _new_trace(
        _T + "traceparent_version_0xcc extra field after a dot",
        "cc" + SAMPLED[2:] + ".what-the-future-will-be-like",
    ),
    _new_trace(_T + "traceparent_version_0xff", "ff" + SAMPLED[2:]),
    _new_trace(_T + "traceparent_version_illegal_characters .0", ".0" + SAMPLED[2:]),
    _new_trace(_T + "traceparent_version_illegal_characters 0.", "0." + SAMPLED[2:]),
    _new_trace(_T + "traceparent_version_too_long 000", "000" + SAMPLED[2:]),
    _new_trace(_T + "traceparent_version_too_long 0000", "0000" + SAMPLED[2:]),
    _new_trace(_T + "traceparent_version_too_short", "0" + SAMPLED[2:]),
    _new_trace(_T + "traceparent_trace_id_all_zero", f"00-{'0' * 32}-{PARENT_ID}-01"),
    _new_trace(
        _T + "traceparent_trace_id_illegal_characters first", f"00-.{TRACE_ID[1:]}-{PARENT_ID}-01"
    ),
    _new_trace(
        _T + "traceparent_trace_id_illegal_characters last", f"00-{TRACE_ID[:-1]}.-{PARENT_ID}-01"
    ),
    _new_trace(_T + "traceparent_trace_id_too_long", f"00-{TRACE_ID}3-{PARENT_ID}-01"),
    _new_trace(_T + "traceparent_trace_id_too_short", f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01"),
    _new_trace(_T + "traceparent_parent_id_all_zero", f"00-{TRACE_ID}-{'0' * 16}-01"),
    _new_trace(
        _T + "traceparent_parent_id_illegal_characters first", f"00-{TRACE_ID}-.{PARENT_ID[1:]}-01"
    ),
    _new_trace(
        _T + "traceparent_parent_id_illegal_characters last", f"00-{TRACE_ID}-{PARENT_ID[:-1]}.-01"
    ),
    _new_trace(_T + "traceparent_parent_id_too_long", f"00-{TRACE_ID}-{PARENT_ID}7-01"),
    _new_trace(_T + "traceparent_parent_id_too_short", f"00-{TRACE_ID}-{PARENT_ID[:-1]}-01"),
    _new_trace(_T + "traceparent_trace_flags_illegal_characters .0", SAMPLED[:-2] + ".0"),
    _new_trace(_T + "traceparent_trace_flags_illegal_characters 0.", SAMPLED[:-2] + "0."),
    _new_trace(_T + "traceparent_trace_flags_too_long", SAMPLED[:-2] + "001"),
    _new_trace(_T + "traceparent_trace_flags_too_short", SAMPLED[:-2] + "1"),
    _v(_T + "traceparent_ows_handling leading space", [_tp(" " + SAMPLED)], SAMPLED),
    _v(_T + "traceparent_ows_handling leading tab", [_tp("\t" + SAMPLED)], SAMPLED),
    _v(_T + "traceparent_ows_handling trailing space", [_tp(SAMPLED + " ")], SAMPLED),
    _v(_T + "traceparent_ows_handling trailing tab", [_tp(SAMPLED + "\t")], SAMPLED),
    _v(_T + "traceparent_ows_handling both", [_tp("\t " + SAMPLED + " \t")], SAMPLED),
]

TRACESTATE_VECTORS = [
    _v(_T + "tracestate_included_traceparent_missing one", [_ts("foo=1")], None),
    _v(_T + "tracestate_included_traceparent_missing two", [_ts("foo=1,bar=2")], None),
    _v(
        _T + "tracestate_included_traceparent_included",
        [_tp(UNSAMPLED), _ts("foo=1,bar=2")],
        UNSAMPLED,
        "foo=1,bar=2",
    ),
    _v(
        _T + "tracestate_header_name trace-state",
        [_tp(UNSAMPLED), ("trace-state", "foo=1")],
        UNSAMPLED,
    ),
    _v(
        _T + "tracestate_header_name trace.state",
        [_tp(UNSAMPLED), ("trace.state", "foo=1")],
        UNSAMPLED,
    ),
    *(
        _v(
            _T + f"tracestate_header_name_valid_casing {name}",
            [_tp(UNSAMPLED), (name, "foo=1")],
            UNSAMPLED,
            "foo=1",
        )
        for name in ("TraceState", "TrAcEsTaTe", "TRACESTATE")
    ),
    _v(_T + "tracestate_empty_header", [_tp(UNSAMPLED), _ts("")], UNSAMPLED),
    _v(
        _T + "tracestate_empty_header after",
        [_tp(UNSAMPLED), _ts("foo=1"), _ts("")],
        UNSAMPLED,
        "foo=1",
    ),
    _v(
        _T + "tracestate_empty_header before",
        [_tp(UNSAMPLED), _ts(""), _ts("foo=1")],
        UNSAMPLED,
        "foo=1",
    ),
    _v(
        _T + "tracestate_multiple_headers_different_keys",
        [_tp(UNSAMPLED), _ts("foo=1,bar=2"), _ts("rojo=1,congo=2"), _ts("baz=3")],
        UNSAMPLED,
        "foo=1,bar=2,rojo=1,congo=2,baz=3",
    ),
    # The harness accepts keeping or dropping a duplicate; we keep the first occurrence.
    _v(
        _T + "tracestate_duplicated_keys same value",
        [_tp(UNSAMPLED), _ts("foo=1,foo=1")],
        UNSAMPLED,
        "foo=1",
    ),
    _v(
        _T + "tracestate_duplicated_keys other value",
        [_tp(UNSAMPLED), _ts("foo=1,foo=2")],
        UNSAMPLED,
        "foo=1",
    ),
    _v(
        _T + "tracestate_duplicated_keys same value two lines",
        [_tp(UNSAMPLED), _ts("foo=1"), _ts("foo=1")],
        UNSAMPLED,
        "foo=1",
    ),
    _v(
        _T + "tracestate_duplicated_keys other value two lines",
        [_tp(UNSAMPLED), _ts("foo=1"), _ts("foo=2")],
        UNSAMPLED,
        "foo=1",
    ),
    _v(
        _T + "tracestate_all_allowed_characters without vendor",
        [_tp(UNSAMPLED), _ts(f"{KEY_WITHOUT_VENDOR}={ALL_VALUE_CHARACTERS}")],
        UNSAMPLED,
        f"{KEY_WITHOUT_VENDOR}={ALL_VALUE_CHARACTERS}",
    ),
    _v(
        _T + "tracestate_all_allowed_characters with vendor",
        [_tp(UNSAMPLED), _ts(f"{KEY_WITH_VENDOR}={ALL_VALUE_CHARACTERS}")],
        UNSAMPLED,
        f"{KEY_WITH_VENDOR}={ALL_VALUE_CHARACTERS}",
    ),
    *(
        _v(
            _T + f"tracestate_ows_handling {value!r}",
            [_tp(UNSAMPLED), _ts(value)],
            UNSAMPLED,
            expected,
        )
        for value, expected in [
            ("foo=1 \t , \t bar=2, \t baz=3", "foo=1,bar=2,baz=3"),
            ("foo=1\t \t,\t \tbar=2,\t \tbaz=3", "foo=1,bar=2,baz=3"),
            (" foo=1", "foo=1"),
            ("\tfoo=1", "foo=1"),
            ("foo=1 ", "foo=1"),
            ("foo=1\t", "foo=1"),
            ("\t foo=1 \t", "foo=1"),
        ]
    ),
    *(
        _v(
            _T + f"tracestate_key_illegal_characters {value!r}",
            [_tp(UNSAMPLED), _ts(value)],
            UNSAMPLED,
        )
        for value in ("foo =1", "FOO=1", "foo.bar=1")
    ),
    _v(
        _T + "tracestate_key_illegal_vendor_format foo@",
        [_tp(UNSAMPLED), _ts("foo@=1,bar=2")],
        UNSAMPLED,
        "foo@=1,bar=2",
    ),
    _v(
        _T + "tracestate_key_illegal_vendor_format @foo",
        [_tp(UNSAMPLED), _ts("@foo=1,bar=2")],
        UNSAMPLED,
    ),
    _v(
        _T + "tracestate_key_illegal_vendor_format foo@@bar",
        [_tp(UNSAMPLED), _ts("foo@@bar=1,bar=2")],
        UNSAMPLED,
        "foo@@bar=1,bar=2",
    ),
    _v(
        _T + "tracestate_key_illegal_vendor_format foo@bar@baz",
        [_tp(UNSAMPLED), _ts("foo@bar@baz=1,bar=2")],
        UNSAMPLED,
        "foo@bar@baz=1,bar=2",
    ),
    _v(
        _T + "tracestate_member_count_limit 32",
        [_tp(UNSAMPLED), *(_ts(",".join(THIRTY_TWO[i : i + 10])) for i in range(0, 32, 10))],
        UNSAMPLED,
        ",".join(THIRTY_TWO),
    ),
    _v(
        _T + "tracestate_member_count_limit 33",
        [
            _tp(UNSAMPLED),
            *(_ts(",".join(THIRTY_TWO[i : i + 10])) for i in range(0, 30, 10)),
            _ts("bar31=31,bar32=32,bar33=33"),
        ],
        UNSAMPLED,
    ),
    *(
        _v(
            _T + f"tracestate_key_length_limit {name}",
            [_tp(UNSAMPLED), _ts("foo=1"), _ts(key + "=1")],
            UNSAMPLED,
            f"foo=1,{key}=1",
        )
        for name, key in [
            ("z*256", "z" * 256),
            ("t*241@v*14", "t" * 241 + "@" + "v" * 14),
            ("t*242@v", "t" * 242 + "@v"),
            ("t@v*15", "t@" + "v" * 15),
        ]
    ),
    _v(
        _T + "tracestate_key_length_limit z*257",
        [_tp(UNSAMPLED), _ts("foo=1"), _ts("z" * 257 + "=1")],
        UNSAMPLED,
    ),
    _v(
        _T + "tracestate_value_illegal_characters foo=bar=baz",
        [_tp(UNSAMPLED), _ts("foo=bar=baz")],
        UNSAMPLED,
    ),
    _v(
        _T + "tracestate_value_illegal_characters foo=,bar=3",
        [_tp(UNSAMPLED), _ts("foo=,bar=3")],
        UNSAMPLED,
    ),
]

_A = "AdvancedTest.test_"

ADVANCED_VECTORS = [
    _v(_A + "multiple_requests_with_valid_traceparent", [_tp(SAMPLED)], SAMPLED),
    _v(_A + "multiple_requests_without_traceparent", [], None),
    _new_trace(_A + "multiple_requests_with_illegal_traceparent", f"00-{'0' * 32}-{PARENT_ID}-01"),
]

LEVEL_2_VECTORS = [
    _v(
        "TraceContext2Test.test_propagates_random_flag",
        [_tp(f"00-{TRACE_ID}-{PARENT_ID}-02")],
        f"00-{TRACE_ID}-{PARENT_ID}-02",
    ),
]

VECTORS = TRACEPARENT_VECTORS + TRACESTATE_VECTORS + ADVANCED_VECTORS + LEVEL_2_VECTORS
VALID = [vector for vector in VECTORS if vector.traceparent is not None]
