from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from azure_core_tracing import ClientOptions, Context, OperationCancelledError, RetryOptions
from azure_core_tracing.context import Context as ContextType
from azure_core_tracing.http import (
    HttpPolicy,
    NextPolicy,
    RawResponse,
    Request,
    RetryPolicy,
    TransportError,
)
from azure_core_tracing.http.retry import backoff_delay, retry_after_delay
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply, refused_url

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)


# -- pure arithmetic ---------------------------------------------------------------------------


def test_backoff_doubles_each_try_and_is_capped() -> None:
    options = RetryOptions(retry_delay=0.8, max_retry_delay=60.0)
    assert [backoff_delay(n, options, 1.0) for n in range(4)] == [0.8, 1.6, 3.2, 6.4]
    assert backoff_delay(10, options, 1.0) == 60.0
    assert backoff_delay(10_000, options, 1.3) == 60.0


def test_backoff_applies_jitter() -> None:
    options = RetryOptions(retry_delay=1.0)
    assert backoff_delay(1, options, 0.8) == pytest.approx(1.6)
    assert backoff_delay(1, options, 1.3) == pytest.approx(2.6)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "100", "Retry-After": "9"}, 0.1),
        ({"retry-after-ms": "bogus", "x-ms-retry-after-ms": "20"}, 0.02),
        ({"Retry-After": format_datetime(NOW + timedelta(seconds=30), usegmt=True)}, 30.0),
        ({"Retry-After": format_datetime(NOW - timedelta(seconds=30), usegmt=True)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-3"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    from requests.structures import CaseInsensitiveDict

    assert retry_after_delay(CaseInsensitiveDict(headers), NOW) == expected


# -- against a real server ---------------------------------------------------------------------


def test_retry_after_is_honoured(server: LocalServer, fast_options: ClientOptions) -> None:
    url = server.script("/busy", Reply(429, {"Retry-After": "3"}), Reply(200))
    client = TracedClient(fast_options)
    assert client.call(Request("GET", url)).status_code == 200
    assert sum(client.sleeps) == pytest.approx(3.0)
    assert len(server.received) == 2


def test_retry_after_ms_is_honoured(server: LocalServer, fast_options: ClientOptions) -> None:
    url = server.script("/busy-ms", Reply(503, {"x-ms-retry-after-ms": "40"}), Reply(200))
    client = TracedClient(fast_options)
    client.call(Request("GET", url))
    assert sum(client.sleeps) == pytest.approx(0.04)


def test_exponential_backoff_between_tries(server: LocalServer) -> None:
    url = server.script("/down", Reply(500))
    options = ClientOptions(retry=RetryOptions(max_retries=3, retry_delay=0.8))
    client = TracedClient(options)
    response = client.call(Request("GET", url))
    assert response.status_code == 500
    assert len(server.received) == 4
    total = sum(client.sleeps)
    assert 0.8 * (0.8 + 1.6 + 3.2) <= total <= 1.3 * (0.8 + 1.6 + 3.2)
    assert max(client.sleeps) <= 0.25  # back-off sleeps in slices, looking at the context


def test_status_codes_not_configured_are_not_retried(
    server: LocalServer, fast_options: ClientOptions
) -> None:
    url = server.script("/conflict", Reply(409))
    assert TracedClient(fast_options).call(Request("GET", url)).status_code == 409
    assert len(server.received) == 1


def test_last_response_is_returned_when_retries_run_out(
    server: LocalServer, fast_options: ClientOptions
) -> None:
    fast_options.retry.max_retries = 2
    url = server.script("/always-503", Reply(503, body=b"still down"))
    response = TracedClient(fast_options).call(Request("GET", url))
    assert (response.status_code, response.body) == (503, b"still down")
    assert len(server.received) == 3


def test_transport_errors_are_retried_then_raised(fast_options: ClientOptions) -> None:
    fast_options.retry.max_retries = 2
    client = TracedClient(fast_options)
    with pytest.raises(TransportError):
        client.call(Request("GET", refused_url()))
    assert len(client.sleeps) >= 2


def test_a_deadline_stops_retries_instead_of_sleeping_past_it(server: LocalServer) -> None:
    url = server.script("/slow-retry", Reply(503, {"Retry-After": "30"}))
    client = TracedClient()
    deadline = Context().with_deadline(datetime.now(timezone.utc) + timedelta(seconds=5))
    with pytest.raises(OperationCancelledError, match="deadline"):
        client.call(Request("GET", url), deadline)
    assert client.sleeps == []
    assert len(server.received) == 1


def test_a_passed_deadline_sends_nothing(server: LocalServer) -> None:
    url = server.script("/never", Reply(200))
    past = Context().with_deadline(datetime.now(timezone.utc) - timedelta(seconds=1))
    with pytest.raises(OperationCancelledError):
        TracedClient().call(Request("GET", url), past)
    assert server.received == []


def test_cancelling_during_back_off_stops_the_retries(server: LocalServer) -> None:
    url = server.script("/cancel", Reply(503, {"retry-after-ms": "10000"}))
    ctx = Context().with_value("op", 1)
    slept: list[float] = []

    def cancel_while_sleeping(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            ctx.cancel()

    client = TracedClient(sleep=cancel_while_sleeping)
    with pytest.raises(OperationCancelledError, match="cancelled"):
        client.call(Request("GET", url), ctx)
    assert len(slept) == 3
    assert len(server.received) == 1


def test_a_post_with_a_non_seekable_body_is_not_retried(
    server: LocalServer, fast_options: ClientOptions
) -> None:
    url = server.script("/upload", Reply(503), Reply(201))

    def chunks():  # type: ignore[no-untyped-def]
        yield b"part1-"
        yield b"part2"

    class OneShot(io.RawIOBase):
        def __init__(self) -> None:
            self._data = chunks()

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def read(self, size: int = -1) -> bytes:
            return next(self._data, b"")

    response = TracedClient(fast_options).call(Request("POST", url, body=OneShot()))
    assert response.status_code == 503
    assert len(server.received) == 1
    assert server.received[0].body == b"part1-part2"


def test_a_seekable_body_is_rewound_before_each_retry(
    server: LocalServer, fast_options: ClientOptions
) -> None:
    url = server.script("/put", Reply(500), Reply(500), Reply(201))
    body = io.BytesIO(b"HEADER|payload-bytes")
    body.seek(7)  # the body starts where the caller left the stream
    response = TracedClient(fast_options).call(Request("PUT", url, body=body))
    assert response.status_code == 201
    assert [r.body for r in server.received] == [b"payload-bytes"] * 3


class _PerTryHeader(HttpPolicy):
    """Adds a header on each try, below the retry policy."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def send(self, request: Request, next_policy: NextPolicy, context: ContextType) -> RawResponse:
        count = RetryPolicy.get_retry_count(context)
        self.counts.append(count)
        assert "x-per-try" not in request.headers, "a previous try's header leaked"
        request.headers["x-per-try"] = str(count)
        return next_policy.send(request, context)


def test_headers_set_below_the_retry_policy_are_reset_every_try(
    server: LocalServer, fast_options: ClientOptions, app_recorder: object
) -> None:
    url = server.script("/per-try", Reply(503), Reply(503), Reply(200))
    policy = _PerTryHeader()
    TracedClient(fast_options, per_retry_policies=[policy]).call(Request("GET", url))
    assert policy.counts == [0, 1, 2]
    assert [r.headers["x-per-try"] for r in server.received] == ["0", "1", "2"]
    assert len({r.headers["traceparent"] for r in server.received}) == 3


def test_retry_count_is_minus_one_outside_any_retry_policy() -> None:
    assert RetryPolicy.get_retry_count(Context()) == -1


def test_retry_policy_options_are_checked() -> None:
    with pytest.raises(TypeError, match="options"):
        RetryPolicy({"max_retries": 1})  # type: ignore[arg-type]


def test_max_retries_zero_sends_once(server: LocalServer) -> None:
    url = server.script("/once", Reply(503))
    options = ClientOptions(retry=RetryOptions(max_retries=0))
    TracedClient(options).call(Request("GET", url))
    assert len(server.received) == 1


def test_concurrent_calls_keep_their_own_try_counts(
    server: LocalServer, fast_options: ClientOptions
) -> None:
    url = server.script("/shared", Reply(200))
    client = TracedClient(fast_options, per_retry_policies=[_PerTryHeader()])
    threads = [threading.Thread(target=client.call, args=(Request("GET", url),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.headers["x-per-try"] for r in server.received] == ["0"] * 8
