"""Span and field directives through the real SDK: the stderr/file and KVP layers show what
happens inside a matching span, at any depth, as EnvFilter does."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.util.types import AttributeValue

from azure_core_tracing_opentelemetry.diagnostics import (
    EnvFilter,
    KvpLogHandler,
    KvpSpanProcessor,
    KvpWriter,
    Level,
)
from azure_core_tracing_opentelemetry.diagnostics.line_layer import (
    LineLogHandler,
    LineSink,
    LineSpanProcessor,
)
from tests.opentelemetry.diagnostics.conftest import written


@dataclass
class Lines:
    """A provider and a logger whose only layer is a file layer with ``filter``."""

    sdk: TracerProvider
    logger: logging.Logger
    path: Path

    def tracer(self, scope: str = "my_agent") -> otel_trace.Tracer:
        return self.sdk.get_tracer(scope)

    def texts(self) -> list[str]:
        return [line.split(": ", 1)[1] for line in self.path.read_text().splitlines()]


@pytest.fixture
def lines(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Lines]:
    selected = EnvFilter(request.param)
    sink = LineSink.open_file(str(tmp_path / "agent.log"))
    sdk = TracerProvider()
    sdk.add_span_processor(LineSpanProcessor(sink, selected))
    logger = logging.getLogger("my_agent.steps")
    handler = LineLogHandler(sink, selected)
    logger.addHandler(handler)
    logger.setLevel(1)
    logger.propagate = False
    yield Lines(sdk, logger, tmp_path / "agent.log")
    logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)
    sdk.shutdown()
    sink.close()


@pytest.mark.parametrize("lines", ["warn,[provision]=debug"], indirect=True)
def test_records_inside_a_matching_span_at_any_depth_take_its_level(lines: Lines) -> None:
    tracer = lines.tracer()
    lines.logger.debug("before")
    with tracer.start_as_current_span("provision"):
        lines.logger.debug("inside")
        lines.logger.log(5, "too verbose inside")
        with tracer.start_as_current_span("ssh"), tracer.start_as_current_span("keys"):
            lines.logger.debug("two levels down")
    lines.logger.debug("after")
    lines.logger.warning("a warning anywhere")
    assert lines.texts() == [
        'span "provision" started',
        "inside",
        'span "ssh" started',
        'span "keys" started',
        "two levels down",
        'span "keys" closed: status=UNSET duration=' + lines.texts()[5].split("=", 2)[2],
        'span "ssh" closed: status=UNSET duration=' + lines.texts()[6].split("=", 2)[2],
        'span "provision" closed: status=UNSET duration=' + lines.texts()[7].split("=", 2)[2],
        "a warning anywhere",
    ]


@pytest.mark.parametrize("lines", ["error,my_agent[provision]=info"], indirect=True)
def test_a_target_before_the_span_is_the_spans_scope(lines: Lines) -> None:
    with lines.tracer("other_agent").start_as_current_span("provision"):
        lines.logger.info("in another agent's provision span")
    with lines.tracer("my_agent.sub").start_as_current_span("provision"):
        lines.logger.info("in my_agent.sub's provision span")
    assert [text for text in lines.texts() if "span" not in text[:5]] == [
        "in my_agent.sub's provision span"
    ]


@pytest.mark.parametrize(
    "lines",
    ["off,[step{name=ssh,attempt=2,ok=true,ratio=0.5}]=info,[{user}]=debug"],
    indirect=True,
)
def test_field_values_match_exactly_and_a_field_alone_matches_any_value(lines: Lines) -> None:
    tracer = lines.tracer()
    matching: dict[str, AttributeValue] = {"name": "ssh", "attempt": 2, "ok": True, "ratio": 0.5}
    near_misses: list[dict[str, AttributeValue]] = [
        {**matching, "name": "ssh2"},
        {**matching, "attempt": "2"},  # a string is not the number
        {**matching, "attempt": 2.0},  # nor is a float an integer
        {**matching, "ok": 1},  # nor an integer a boolean
        {**matching, "ok": "true"},
        {**matching, "ratio": 0.25},
        {key: value for key, value in matching.items() if key != "ratio"},
    ]
    for attributes in near_misses:
        with tracer.start_as_current_span("step", attributes=attributes):
            lines.logger.info("near miss %s", attributes)
    with tracer.start_as_current_span("step", attributes=matching):
        lines.logger.info("exact")
        lines.logger.debug("too verbose")
    with tracer.start_as_current_span("anything", attributes={"user": "azureuser"}):
        lines.logger.debug("any user")
    with tracer.start_as_current_span("later") as span:
        span.set_attribute("user", "set after the start")
        lines.logger.debug("attributes set later count")
    assert [text for text in lines.texts() if not text.startswith("span ")] == [
        "exact",
        "any user",
        "attributes set later count",
    ]


@pytest.mark.parametrize("lines", ["info,my_agent=warn,[quiet]=off"], indirect=True)
def test_span_directives_only_enable_and_static_ones_still_decide(lines: Lines) -> None:
    with lines.tracer().start_as_current_span("quiet"):
        lines.logger.warning("an off span directive silences nothing")
        lines.logger.info("the most specific static directive still says warn")
    assert lines.texts() == ["an off span directive silences nothing"]


@pytest.mark.parametrize("lines", ["warn,[provision]=debug"], indirect=True)
def test_a_child_keeps_its_ancestry_when_the_parent_ends_first(lines: Lines) -> None:
    tracer = lines.tracer()
    with tracer.start_as_current_span("provision"):
        child = tracer.start_span("background")
    with otel_trace.use_span(child, end_on_exit=True):
        lines.logger.debug("after the parent ended")
    assert "after the parent ended" in lines.texts()


def test_the_kvp_layer_shows_span_events_and_log_records_inside_a_matching_span(
    tmp_path: Path,
) -> None:
    pool = tmp_path / ".kvp_pool_1"
    writer = KvpWriter(pool, vm_id="0a1b2c3d-0000-4000-8000-00000000abcd", boot_time=0.0)
    selected = EnvFilter("warn,[provision{vm=gen1}]=debug")
    sdk = TracerProvider()
    sdk.add_span_processor(KvpSpanProcessor(writer, selected))
    logger = logging.getLogger("kvp_agent")
    handler = KvpLogHandler(writer, selected)
    logger.addHandler(handler)
    logger.setLevel(1)
    logger.propagate = False
    try:
        tracer = sdk.get_tracer("kvp_agent")
        for vm in ("gen1", "gen2"):
            provision = tracer.start_as_current_span("provision", attributes={"vm": vm})
            with provision, tracer.start_as_current_span("inner") as inner:
                inner.add_event("event in " + vm, {"level": "debug"})
                logger.debug("record in %s", vm)
        values = [record.value for record in written(writer, pool)]
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
        sdk.shutdown()
        writer.shutdown(5.0)
    shown = " ".join(values)
    assert "event in gen1" in shown and "record in gen1" in shown
    assert "event in gen2" not in shown and "record in gen2" not in shown
    # The spans themselves (INFO): inside the matching span, or not at all under "warn".
    assert sum(value.startswith("Start: ") for value in values) == 2


def test_a_filter_without_span_directives_ignores_the_span() -> None:
    selected = EnvFilter("info")
    span = TracerProvider().get_tracer("t").start_span("provision")
    selected.span_started(span)
    assert selected.enabled("x", Level.INFO, span) and not selected.enabled("x", Level.DEBUG, span)
    assert not EnvFilter("[provision]=debug").enabled("x", Level.ERROR, None)
    assert EnvFilter("[provision]=debug").enabled("x", Level.DEBUG, span)
