"""Before a scenario is timed, each contender makes one call while every span is kept: a traced
one must make one INTERNAL span and one CLIENT span per try beneath it, in one trace, and send
each try's ``traceparent``; an untraced one must make no span and send none. Ours and the floor
must make spans of the same kinds, attribute names and statuses. Anything else stops the run:
a contender that does less than it should would look fast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from benchmarks import otel
from benchmarks.canned import RECORDER
from benchmarks.harness import Contender

OURS, FLOOR = "ours: traced", "floor: traced"


class SelfCheckError(AssertionError):
    """A contender did not make the spans (or send the headers) it must."""


def _spans_of(contender: Contender) -> tuple[list[ReadableSpan], list[Optional[str]]]:
    contender.enter()
    try:
        with otel.captured() as exporter, RECORDER.recording() as sent:
            contender.run(1)
    finally:
        contender.leave()
    return list(exporter.get_finished_spans()), list(sent)


def _ids(span: ReadableSpan) -> tuple[int, int]:
    context = span.get_span_context()
    if context is None:
        raise SelfCheckError(f"{span.name} has no span context")
    return context.trace_id, context.span_id


def _check_traced(
    name: str, spans: list[ReadableSpan], sent: list[Optional[str]], tries: int
) -> None:
    api = [span for span in spans if span.kind == SpanKind.INTERNAL]
    clients = [span for span in spans if span.kind == SpanKind.CLIENT]
    if len(api) != 1 or len(clients) != tries or len(spans) != tries + 1:
        raise SelfCheckError(
            f"{name}: expected 1 INTERNAL span and {tries} CLIENT spans, got "
            f"{[(span.name, span.kind.name) for span in spans]}"
        )
    trace_id, root_id = _ids(api[0])
    if api[0].parent is not None:
        raise SelfCheckError(f"{name}: the API span has a parent")
    for span in clients:
        if span.parent is None or span.parent.span_id != root_id:
            raise SelfCheckError(f"{name}: {span.name} is not a child of the API span")
    expected = [
        f"{trace_id:032x}-{_ids(span)[1]:016x}"
        for span in sorted(clients, key=lambda span: span.start_time or 0)
    ]
    got = [value.split("-", 1)[1].rsplit("-", 1)[0] if value else None for value in sent]
    if got != expected:
        raise SelfCheckError(f"{name}: sent traceparent {sent}, expected ids {expected}")


def _check_untraced(name: str, spans: list[ReadableSpan], sent: list[Optional[str]]) -> None:
    if spans or any(sent):
        raise SelfCheckError(
            f"{name}: untraced, yet it made {len(spans)} spans and sent traceparent {sent}"
        )
    if not sent:
        raise SelfCheckError(f"{name}: sent no request")


def _shape(spans: list[ReadableSpan]) -> list[tuple[str, list[str], str]]:
    ordered = sorted(spans, key=lambda span: span.start_time or 0)
    return [
        (span.kind.name, sorted(span.attributes or {}), span.status.status_code.name)
        for span in ordered
    ]


def check(contenders: Sequence[Contender], tries: Mapping[str, int]) -> str:
    """Check every available contender (``tries``: the HTTP tries of a traced one, by name;
    absent means untraced) and return a one-line summary; raise ``SelfCheckError`` if one
    fails."""
    shapes = {}
    present = [contender for contender in contenders if contender.missing is None]
    for contender in present:
        spans, sent = _spans_of(contender)
        expected = tries.get(contender.name)
        if expected is None:
            _check_untraced(contender.name, spans, sent)
        else:
            _check_traced(contender.name, spans, sent, expected)
        shapes[contender.name] = _shape(spans)
    for contender in present:  # again: a switch one left on (an instrumentor) would show here
        if contender.name not in tries:
            _check_untraced(contender.name, *_spans_of(contender))
    if OURS in shapes and FLOOR in shapes and shapes[OURS] != shapes[FLOOR]:
        raise SelfCheckError(
            f"the floor must make the spans ours makes: ours {shapes[OURS]}, floor {shapes[FLOOR]}"
        )
    traced = sum(1 for name in shapes if name in tries)
    return (
        f"self-check: {len(present)} contenders checked; {traced} traced ones each made 1 API span "
        "and 1 CLIENT span per try and sent its traceparent, the others none (before and after "
        "the traced ones ran); ours and the floor made the same spans (kinds, attribute names, "
        "statuses)."
    )
