"""``samples/w3c_test_service.py`` run as its own process and driven the way the W3C harness
drives it: a POST with raw header lines, then checks on what reaches a callback server."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from azure_core_tracing.tracecontext import TraceParent
from tests.local_server import LocalServer, Received, Reply
from tests.w3c_vectors import PARENT_ID, SAMPLED, TRACE_ID

ROOT = Path(__file__).resolve().parent.parent
READY = "W3C test service ready on "
LEVEL_2_LINES = ["foo@=1,foo@@bar=2", "t" * 242 + "@v=3"]
LEVEL_2_STATE = "foo@=1,foo@@bar=2," + "t" * 242 + "@v=3"


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "samples/w3c_test_service.py", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(READY), line + (process.stderr.read() if process.stderr else "")
        yield line[len(READY) :].strip()
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
        assert "Traceback" not in errors, errors


@pytest.fixture(scope="module")
def harness() -> Iterator[LocalServer]:
    """The callback side of the harness: answers every callback with JSON and records it."""
    server = LocalServer()
    with server:
        yield server


def _post(url: str, headers: list[tuple[str, str]], payload: Any) -> tuple[int, Any]:
    """POST with every header line sent as given (requests would merge duplicate names)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    try:
        connection.putrequest("POST", parts.path)
        for name, value in [*headers, ("Content-Type", "application/json")]:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _drive(
    service_url: str, harness: LocalServer, headers: list[tuple[str, str]], count: int = 3
) -> list[Received]:
    """One harness request asking for ``count`` callbacks; the callbacks, in arrival order."""
    scope = uuid.uuid4().hex
    urls = [harness.script(f"/{scope}.{n}", Reply(200, body=b"null")) for n in range(count)]
    arguments = [{"url": url, "arguments": [{"nested": n}]} for n, url in enumerate(urls)]
    status, results = _post(service_url, headers, arguments)
    assert (status, results) == (200, [200] * count)
    calls = [received for received in harness.received if received.path.startswith(f"/{scope}.")]
    assert [call.path for call in calls] == [f"/{scope}.{n}" for n in range(count)]
    assert [json.loads(call.body) for call in calls] == [[{"nested": n}] for n in range(count)]
    return calls


def _traceparent(call: Received) -> TraceParent:
    parsed = TraceParent.parse(call.headers["traceparent"])
    assert parsed is not None, call.headers
    return parsed


def test_the_trace_continues_and_each_call_gets_its_own_parent_id(
    service_url: str, harness: LocalServer
) -> None:
    calls = _drive(service_url, harness, [("traceparent", SAMPLED)])
    sent = [_traceparent(call) for call in calls]
    assert {tp.trace_id for tp in sent} == {TRACE_ID}
    assert len({tp.parent_id for tp in sent} | {PARENT_ID}) == 4
    assert all(tp.sampled and not tp.random_trace_id for tp in sent)
    assert all("tracestate" not in call.headers for call in calls)


def test_a_valid_tracestate_with_level_2_keys_is_passed_on_unchanged(
    service_url: str, harness: LocalServer
) -> None:
    headers = [("TraceParent", SAMPLED), *(("tracestate", line) for line in LEVEL_2_LINES)]
    for call in _drive(service_url, harness, headers):
        assert _traceparent(call).trace_id == TRACE_ID
        assert call.headers["tracestate"] == LEVEL_2_STATE


@pytest.mark.parametrize(
    "lines", [["foo=1,@bar=2"], ["foo=1", "z" * 257 + "=1"], ["foo=bar=baz"]], ids=repr
)
def test_an_invalid_tracestate_is_dropped_and_the_trace_goes_on(
    service_url: str, harness: LocalServer, lines: list[str]
) -> None:
    headers = [("traceparent", SAMPLED), *(("tracestate", line) for line in lines)]
    for call in _drive(service_url, harness, headers, count=1):
        assert _traceparent(call).trace_id == TRACE_ID
        assert "tracestate" not in call.headers


def test_a_duplicated_traceparent_starts_a_new_trace(
    service_url: str, harness: LocalServer
) -> None:
    other = f"00-{'a' * 32}-{PARENT_ID}-01"
    headers = [("traceparent", other), ("traceparent", SAMPLED), ("tracestate", "foo=1")]
    calls = _drive(service_url, harness, headers)
    trace_ids = {_traceparent(call).trace_id for call in calls}
    assert len(trace_ids) == 1 and trace_ids.isdisjoint({TRACE_ID, "a" * 32})
    assert all("tracestate" not in call.headers for call in calls)


def test_without_traceparent_a_new_trace_is_shared_by_every_call(
    service_url: str, harness: LocalServer
) -> None:
    calls = _drive(service_url, harness, [("tracestate", "foo=1")])
    sent = [_traceparent(call) for call in calls]
    assert len({tp.trace_id for tp in sent}) == 1 and sent[0].trace_id != TRACE_ID
    assert len({tp.parent_id for tp in sent}) == 3
    assert all("tracestate" not in call.headers for call in calls)


def test_the_random_trace_id_flag_is_kept(service_url: str, harness: LocalServer) -> None:
    (call,) = _drive(service_url, harness, [("traceparent", f"\t{SAMPLED[:-2]}02 ")], count=1)
    sent = _traceparent(call)
    assert sent.trace_id == TRACE_ID and sent.random_trace_id and not sent.sampled


@pytest.mark.parametrize("body", [b"{", b'{"url": "x"}', b'[{"arguments": []}]', b"[1]"])
def test_a_body_that_is_not_the_harness_array_is_a_400(service_url: str, body: bytes) -> None:
    status, reply = _post(service_url, [], body)
    assert status == 400 and "error" in reply


def test_an_unreachable_or_invalid_url_is_reported_and_the_others_still_called(
    service_url: str, harness: LocalServer
) -> None:
    from tests.local_server import refused_url

    good = harness.script(f"/{uuid.uuid4().hex}.0", Reply(200, body=b"null"))
    status, results = _post(
        service_url,
        [("traceparent", SAMPLED)],
        [{"url": refused_url()}, {"url": "ftp://nowhere/"}, {"url": good}],
    )
    assert status == 200
    assert results[0].startswith("ServiceRequestError") and "ValueError" in results[1]
    assert results[2] == 200


@pytest.mark.parametrize("arguments", [{}, 0, "", False], ids=["object", "zero", "str", "false"])
def test_each_elements_arguments_are_posted_as_given(service_url: str, arguments: object) -> None:
    """The service POSTs each element's ``arguments`` as JSON to its ``url`` exactly as given:
    a falsy JSON value (``{}``, ``0``, ``""``, ``false``) is sent as itself, never as ``[]``."""
    with LocalServer() as callback:
        url = callback.script("/cb", Reply(200, body=b"null"))
        status, _ = _post(service_url, [], [{"url": url, "arguments": arguments}])
        assert status == 200
        deadline = time.monotonic() + 10
        while not callback.received and time.monotonic() < deadline:
            time.sleep(0.01)
        (received,) = callback.received
        assert json.loads(received.body) == arguments
