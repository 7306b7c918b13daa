"""``python -m benchmarks --quick`` runs every scenario and prints every table, row and ratio
column, after the self-checks; its arithmetic and its refusals are right. No time is asserted
anywhere: the numbers are for people."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode

from benchmarks import otel, peers, scenarios_async, scenarios_sync, selfcheck
from benchmarks.canned import bare_session
from benchmarks.harness import MISSING, Row, Table, sync_contender, turn
from benchmarks.instructions import refs

ROOT = Path(__file__).resolve().parent.parent
TITLES = (
    "S1 · tracing off",
    "S2 · one traced call, one HTTP try (SDK provider, no span processor)",
    "S2 · one traced call, one HTTP try (SDK provider, BatchSpanProcessor + in-memory exporter)",
    "S2u · one traced call, one HTTP try, a new URL every call",
    "S3 · one traced call, three HTTP tries (503, 503, 200) (SDK provider, no span processor)",
    "S3 · one traced call, three HTTP tries (503, 503, 200) (SDK provider, BatchSpanProcessor",
    "S4 · async, tracing off",
    "S4 · async, one traced call, one HTTP try (SDK provider, no span processor)",
    "S4 · async, one traced call, one HTTP try (SDK provider, BatchSpanProcessor",
    "S5 · throughput, 8 threads",
    "S5 · throughput, 50 asyncio tasks",
    "S6 · KVP writer throughput",
    "S6 · a span on the caller's thread with the KVP processor",
    "S7 · memory after many traced calls",
    "S8 · scale: one call to a real server on 127.0.0.1",
)


def _run(*arguments: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def quick() -> str:
    done = _run("--quick")
    assert done.returncode == 0, done.stderr
    return done.stdout


def _section(out: str, title: str) -> str:
    start = out.index(f"### {title}")
    end = out.find("\n### ", start + 1)
    return out[start : end if end >= 0 else len(out)]


def _row(section: str, label: str) -> list[str]:
    for line in section.splitlines():
        if line.startswith(f"| {label} |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {label!r} in:\n{section}")


def test_quick_run_names_the_machine_and_prints_every_scenario(quick: str) -> None:
    assert re.search(r"- machine: .+, \d+ cores", quick)
    assert "- packages: azure-core-tracing" in quick and "opentelemetry-sdk" in quick
    for title in TITLES:
        assert f"### {title}" in quick, title


def test_every_contender_row_and_ratio_column_is_printed(quick: str) -> None:
    tables = [
        (scenarios_sync.S1.title, scenarios_sync.S1),
        (scenarios_async.S4_OFF.title, scenarios_async.S4_OFF),
    ]
    for key, title in (("S2", scenarios_sync.S2_TITLE), ("S3", scenarios_sync.S3_TITLE)):
        for configuration in otel.CONFIGURATIONS:
            table = scenarios_sync.traced_table(key, title, configuration, "")
            tables.append((table.title, table))
    for title, table in tables:
        section = _section(quick, title)
        head = _row(section, "contender")
        assert [f"÷ {reference.split(':')[0]}" for reference in table.references] == head[3:]
        for row in table.rows:
            cells = _row(section, row.label)
            assert len(cells) == len(head)
            if cells[1] != MISSING:
                float(cells[1].replace(",", ""))  # a number of µs
    # The reference rows divide by themselves: the ratio columns are filled.
    s2 = _section(quick, TITLES[1])
    assert _row(s2, "floor: hand-wired OpenTelemetry, the same spans, bare requests")[3] in (
        "1.00×",
        "n/a",
    )


def test_every_throughput_kvp_memory_and_scale_row_is_printed(quick: str) -> None:
    for title in (TITLES[9], TITLES[10]):
        section = _section(quick, title)
        for name in ("ours: traced", "azure-core: traced", "floor: traced"):
            _row(section, name)
        assert "÷ azure-core" in section
    kvp = _section(quick, TITLES[11])
    for name in ("naive: open, flock, lockf, write, close per record", "ours: KvpWriter"):
        _row(kvp, name)
    assert "÷ naive" in kvp and "floor: records pre-encoded, 256 per locked write" in kvp
    spans = _section(quick, TITLES[12])
    for name in (
        "the caller's thread alone",
        "writer thread running too",
        "span dropped by the filter",
    ):
        assert f"+ KvpSpanProcessor: {name}" in spans
    memory = _section(quick, TITLES[13])
    assert _row(memory, "1,000")[2] == "—"
    assert re.fullmatch(r"[+-]\d+\.\d", _row(memory, "10,000")[2])
    scale = _section(quick, TITLES[14])
    for row in ("bare requests, session.get(url)", "ours: tracing cost, over ours untraced"):
        _row(scale, row)


def test_the_self_check_ran_before_the_timed_scenarios(quick: str) -> None:
    checks = re.findall(r"^self-check: (\d+) contenders checked", quick, flags=re.MULTILINE)
    assert re.search(r"^### Targets .*in this run$", quick, flags=re.MULTILINE)
    # S1, S2 (twice: fixed and distinct URLs), S3, S4, S5 (threads and tasks).
    assert len(checks) == 7
    assert all(int(count) >= 3 for count in checks)


def test_the_self_check_stops_a_contender_that_makes_fewer_spans() -> None:
    tracer = otel.PROVIDER.get_tracer("test")  # the benchmark's provider, not set globally

    def api_span_only() -> None:
        with tracer.start_as_current_span("Client.get"):
            pass

    def client_span_only() -> None:
        with tracer.start_as_current_span("HTTP GET #0", kind=SpanKind.CLIENT):
            pass

    for call in (api_span_only, client_span_only):
        with pytest.raises(selfcheck.SelfCheckError, match="expected 1 INTERNAL span"):
            selfcheck.check([sync_contender("ours: traced", call)], {"ours: traced": 1})
    with pytest.raises(selfcheck.SelfCheckError, match="untraced, yet it made 1 spans"):
        selfcheck.check([sync_contender("bare", api_span_only)], {})


def test_the_self_check_stops_a_floor_that_makes_other_spans_than_ours() -> None:
    tracer = otel.PROVIDER.get_tracer("test")
    session = bare_session()

    def floor_without_request_id() -> None:
        with tracer.start_as_current_span("Floor.get", attributes={"az.namespace": "N"}) as api:
            with tracer.start_as_current_span("HTTP GET #0", kind=SpanKind.CLIENT) as span:
                headers: dict[str, str] = {}
                propagate.inject(headers)
                span.set_attribute(
                    "http.status_code", session.get(peers.FIXED_URL, headers=headers).status_code
                )
            api.set_status(Status(StatusCode.OK))

    ours = sync_contender(
        "ours: traced", lambda: peers.OursClient(otel.PROVIDER).get(peers.FIXED_URL)
    )
    floor = sync_contender("floor: traced", floor_without_request_id)
    traced = {"ours: traced": 1, "floor: traced": 1}
    with pytest.raises(selfcheck.SelfCheckError, match="the floor must make the spans ours makes"):
        selfcheck.check([ours, floor], traced)


def test_the_self_check_stops_a_switch_left_on() -> None:
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    get, on, off = peers.instrumented((200,))
    bare = sync_contender("bare requests", peers.calls(peers.bare((200,)), distinct=False))
    leaked = sync_contender("instrumented: traced", peers.calls(get, distinct=False), enter=on)
    try:
        with pytest.raises(selfcheck.SelfCheckError, match="bare requests: untraced, yet it made"):
            selfcheck.check([bare, leaked], {"instrumented: traced": 1})
    finally:
        RequestsInstrumentor().uninstrument()
    fixed = sync_contender("instrumented: traced", peers.calls(get, distinct=False), on, off)
    assert "2 contenders checked" in selfcheck.check([bare, fixed], {"instrumented: traced": 1})


def test_costs_are_paired_per_round_and_ratios_divide_median_costs() -> None:
    table = Table(
        "T",
        (Row("base: b", "b"), Row("ref: r", "r", "b"), Row("mine: m", "m", "b")),
        references=("ref: r",),
    )
    samples = {"b": [10.0, 20.0, 30.0], "r": [14.0, 24.0, 38.0], "m": [12.0, 21.0, 33.0]}
    out = table.render(samples)
    assert _row(out, "ref: r") == ["ref: r", "24.0", "4.0 (4.0 to 6.0)", "1.00×"]
    assert _row(out, "mine: m") == ["mine: m", "21.0", "2.0 (1.5 to 2.5)", "0.50×"]
    assert _row(out, "base: b")[2:] == ["—", "—"]
    assert _row(table.render({"b": [1.0]}), "mine: m")[1] == MISSING


def test_the_order_turns_by_one_place_every_round() -> None:
    assert [turn(number, 3) for number in range(4)] == [
        [0, 1, 2],
        [1, 2, 0],
        [2, 0, 1],
        [0, 1, 2],
    ]


def test_instructions_are_read_from_cachegrinds_summary() -> None:
    stderr = "==1== \n==1== I   refs:      1,351,631,834\n"
    assert refs(stderr) == 1_351_631_834
    with pytest.raises(ValueError, match="I refs"):
        refs("==1== ERROR SUMMARY: 0 errors")


def test_instructions_mode_says_clearly_when_valgrind_is_missing() -> None:
    done = _run("--instructions", "--valgrind", "/nonexistent/valgrind", timeout=60)
    assert done.returncode == 2
    assert "--instructions needs valgrind (/nonexistent/valgrind cannot be run)" in done.stderr
    assert "apt-get install valgrind" in done.stderr


def test_the_counted_child_runs_one_contender() -> None:
    done = _run("--count", "S1:ours: tracing off", "--calls", "2", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "S1:ours: tracing off: 2 calls after 20 to warm up" in done.stdout
    unknown = _run("--count", "S1:nobody", "--calls", "2", timeout=60)
    assert unknown.returncode == 2 and "has no contender 'nobody'" in unknown.stderr


def test_bad_arguments_are_refused() -> None:
    for arguments in (("--only", "S9"), ("--only", ","), ("--rounds", "0")):
        done = _run(*arguments, timeout=60)
        assert done.returncode == 2, arguments
        assert "--only" in done.stderr or "--rounds" in done.stderr
