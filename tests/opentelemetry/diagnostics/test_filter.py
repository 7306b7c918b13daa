from __future__ import annotations

import logging
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing_opentelemetry.diagnostics import EnvFilter, Level

T, D, I, W, E = Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR  # noqa: E741


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("trace", T),
        ("DEBUG", D),
        ("Info", I),
        ("warn", W),
        ("WARNING", W),
        ("error", E),
        ("OFF", Level.OFF),
        (" info ", I),
    ],
)
def test_levels_in_any_case(text: str, level: Level) -> None:
    assert Level.parse(text) is level


def test_logging_levels_map_onto_key_levels() -> None:
    assert Level.from_logging(logging.CRITICAL) is E
    assert Level.from_logging(logging.ERROR) is E
    assert Level.from_logging(logging.WARNING) is W
    assert Level.from_logging(logging.INFO) is I
    assert Level.from_logging(logging.DEBUG) is D
    assert Level.from_logging(5) is T
    assert [level.logging_level for level in (T, D, I, W, E)] == [1, 10, 20, 30, 40]


def test_a_bare_level_applies_to_every_target() -> None:
    selected = EnvFilter("warn")
    assert not selected.enabled("anything", I)
    assert selected.enabled("anything", W) and selected.enabled("anything", E)


def test_a_target_alone_enables_every_level_and_others_are_off() -> None:
    selected = EnvFilter("my_agent")
    assert selected.enabled("my_agent", T)
    assert selected.enabled("my_agent.ssh", T)
    assert not selected.enabled("other", E)


def test_the_longest_matching_target_wins_whatever_the_order() -> None:
    for text in ("info,a=warn,a::b=debug", "a::b=debug,a=warn,info"):
        selected = EnvFilter(text)
        assert selected.enabled("a.b.c", D)
        assert selected.enabled("a.b", D)
        assert not selected.enabled("a.c", I) and selected.enabled("a.c", W)
        assert not selected.enabled("z", D) and selected.enabled("z", I)


def test_targets_match_whole_dotted_components_and_colons_equal_dots() -> None:
    selected = EnvFilter("error,azure=debug,lib::http=trace")
    assert selected.enabled("azure.core", D)
    assert not selected.enabled("azure_core", D)  # a different name, not a child
    assert selected.enabled("lib.http", T) and selected.enabled("lib::http::client", T)
    assert selected.threshold("lib.httpx") is E


def test_off_disables_a_target_and_no_record_is_ever_off_level() -> None:
    selected = EnvFilter("trace,noisy=off")
    assert not selected.enabled("noisy.sub", E)
    assert not selected.enabled("quiet", Level.OFF)


def test_the_last_directive_for_a_target_wins_and_empty_items_are_skipped() -> None:
    selected = EnvFilter("a=error, ,a=debug,")
    assert selected.enabled("a", D)


def test_most_verbose_is_the_lowest_level_enabled_anywhere() -> None:
    assert EnvFilter("warn,x=debug").most_verbose is D
    assert EnvFilter("error").most_verbose is E
    assert EnvFilter("off").most_verbose is Level.OFF
    assert EnvFilter("x").most_verbose is T


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("info,foo=loud", "foo=loud"),
        ("=info", "=info"),
        ("foo bar", "foo bar"),
        ("foo[span=info", "foo[span=info"),
        ("[]=info", "[]=info"),
        ("a[b]c=info", "a[b]c=info"),
        ("[b{}]=info", "[b{}]=info"),
        ("[b{x=}]=info", "[b{x=}]=info"),
        ("[b{x=1=2}]=info", "[b{x=1=2}]=info"),
        ("[b{x}y]=info", "[b{x}y]=info"),
        ("[b{x,x=1}]=info", "[b{x,x=1}]=info"),
        ("[{ x }]=info", "[{ x }]=info"),
        ("[b}]=info", "[b}]=info"),
        ("[b{name=a.*}]=info", "[b{name=a.*}]=info"),
        ("[b{name=(x|y)}]=info", "[b{name=(x|y)}]=info"),
        ("[span]=6", "[span]=6"),
        ("6", "6"),
        ("-1", "-1"),
        ("a=-1", "a=-1"),
        ("a=b=c", "a=b=c"),
        ("foo=", "foo="),
        ("a..b", "a..b"),
        ("a/b=info", "a/b=info"),
    ],
)
def test_an_invalid_directive_is_a_value_error_quoting_it(text: str, bad: str) -> None:
    with pytest.raises(ValueError, match="invalid filter directive") as caught:
        EnvFilter(text)
    assert repr(bad) in str(caught.value)


@pytest.mark.parametrize(
    ("number", "level"),
    [("0", Level.OFF), ("1", E), ("2", W), ("3", I), ("4", D), ("5", T), ("03", I)],
)
def test_a_level_may_be_tracings_number_alone_or_in_a_directive(number: str, level: Level) -> None:
    """tracing's LevelFilter: 0 off, 1 error, 2 warn, 3 info, 4 debug, 5 trace."""
    assert EnvFilter(number).threshold("any.target") is level
    assert EnvFilter(f"off,agent={number}").threshold("agent.x") is level
    assert EnvFilter(f"[span]={number}").most_verbose is level


def test_span_and_field_directives_parse_as_envfilter_reads_them() -> None:
    assert str(EnvFilter("a::b[provision{vm=gen1,n=2}]=debug")) == (
        "a.b[provision{n=2,vm=gen1}]=debug"
    )
    assert str(EnvFilter("[provision]")) == "[provision]=trace"  # no level: every level
    assert str(EnvFilter("[{user}]=4,warn")) == "warn,[{user}]=debug"
    assert str(EnvFilter("[HTTP GET]=info")) == "[HTTP GET]=info"  # a span name with a space
    # A comma inside the braces separates fields, not directives.
    assert str(EnvFilter("info,[s{a=1,b=x}]=trace,c=warn")) == "info,c=warn,[s{a=1,b=x}]=trace"
    assert EnvFilter("[s]=debug,[s]=error").most_verbose is E  # the last for a span wins


def test_targets_may_be_any_python_identifier_characters() -> None:
    assert EnvFilter("café.thé=debug,__main__=warn,my-agent").enabled("café.thé.x", D)


def test_an_empty_filter_and_a_wrong_type_are_rejected() -> None:
    with pytest.raises(ValueError, match="no directive"):
        EnvFilter(" , ")
    with pytest.raises(TypeError, match="directives must be a str"):
        EnvFilter(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown level"):
        Level.parse("loud")


def test_many_distinct_targets_are_answered_alike_past_the_cache_bound() -> None:
    selected = EnvFilter("warn,t5000=debug")
    for index in range(6000):
        expected = D if index == 5000 else W
        assert selected.threshold(f"t{index}") is expected
    assert selected.threshold("t5000") is D


NAMES = st.sampled_from(["a", "a.b", "a.b.c", "b", "b.a", "azure", "azure_core"])
LEVELS = st.sampled_from(["trace", "debug", "info", "warn", "error", "off"])


def reference(directives: list[tuple[Optional[str], str]], target: str) -> Level:
    """Plainly: the last directive for the longest target that is the target or its parent."""
    best: Optional[tuple[int, Level]] = None
    default = Level.OFF
    for name, level in directives:
        if name is None:
            default = Level.parse(level)
        elif (target == name or target.startswith(name + ".")) and (
            best is None or len(name) >= best[0]
        ):
            best = (len(name), Level.parse(level))
    return default if best is None else best[1]


@settings(max_examples=200, deadline=None)
@given(
    directives=st.lists(st.tuples(st.one_of(st.none(), NAMES), LEVELS), min_size=1, max_size=6),
    target=st.sampled_from(["a", "a.b", "a.b.c.d", "b.a.x", "azure.x", "azure_core", "zzz"]),
)
def test_matching_agrees_with_a_plain_reference(
    directives: list[tuple[Optional[str], str]], target: str
) -> None:
    text = ",".join(level if name is None else f"{name}={level}" for name, level in directives)
    assert EnvFilter(text).threshold(target) is reference(directives, target)


TARGETS = st.from_regex(r"[a-z_][a-z0-9_\-]{0,5}(\.[a-z0-9_]{1,4}){0,2}", fullmatch=True)
SPAN_NAMES = st.from_regex(r"[A-Za-z0-9_ /.:\-]{1,8}", fullmatch=True).filter(
    lambda name: name.strip() == name and name.lower() not in ("true", "false")
)
VALUES = st.one_of(
    st.booleans().map(lambda value: str(value).lower()),
    st.integers(-(2**63), 2**64 - 1).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:/\-]{0,8}", fullmatch=True),
)
FIELDS = st.dictionaries(
    st.from_regex(r"[a-z_][a-z0-9_.]{0,5}", fullmatch=True),
    st.one_of(st.none(), VALUES),
    max_size=3,
)
LEVEL_TEXTS = st.sampled_from(
    ["trace", "DEBUG", "Info", "warn", "warning", "error", "off", "0", "1", "2", "3", "4", "5"]
)


@st.composite
def span_directives(draw: st.DrawFn) -> str:
    target = draw(st.one_of(st.just(""), TARGETS))
    span = draw(st.one_of(st.just(""), SPAN_NAMES))
    fields = draw(FIELDS if span else FIELDS.filter(bool))
    inside = ",".join(
        name if value is None else f"{name}={value}" for name, value in fields.items()
    )
    braces = "{" + inside + "}" if fields else ""
    level = draw(st.one_of(st.just(""), LEVEL_TEXTS.map(lambda text: "=" + text)))
    return f"{target}[{span}{braces}]{level}"


DIRECTIVES = st.one_of(
    LEVEL_TEXTS,
    TARGETS,
    st.tuples(TARGETS, LEVEL_TEXTS).map("=".join),
    span_directives(),
)


@settings(max_examples=300, deadline=None)
@given(items=st.lists(DIRECTIVES, min_size=1, max_size=6))
def test_every_supported_directive_parses_and_its_canonical_text_round_trips(
    items: list[str],
) -> None:
    parsed = EnvFilter(",".join(items))
    canonical = str(parsed)
    again = EnvFilter(canonical)
    assert str(again) == canonical
    assert again.most_verbose is parsed.most_verbose
    for target in ("a", "a.b", "zzz"):
        assert again.threshold(target) is parsed.threshold(target)


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.lists(
            st.one_of(
                DIRECTIVES,
                st.sampled_from(list("[]{}=,: .*+?()|^$\\\x00")),
                st.text(max_size=3),
            ),
            max_size=8,
        ).map("".join),
    )
)
def test_garbage_is_a_filter_or_a_value_error_naming_the_directive(text: str) -> None:
    try:
        parsed = EnvFilter(text)
    except ValueError as error:
        message = str(error)
        assert message.startswith("invalid filter directive ") or "has no directive" in message
        assert repr(text) in message
    else:
        assert str(EnvFilter(str(parsed))) == str(parsed)
