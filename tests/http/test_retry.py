from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import IO, Optional, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azure_core_tracing import ClientOptions, Context, OperationCancelledError, RetryOptions
from azure_core_tracing.context import Context as ContextType
from azure_core_tracing.http import (
    HttpPipeline,
    Request,
    RetryPolicy,
    SansIOHttpPolicy,
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

    def chunks() -> Iterator[bytes]:
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

    response = TracedClient(fast_options).call(
        Request("POST", url, body=cast(IO[bytes], OneShot()))
    )
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


class _PerTryHeader(SansIOHttpPolicy):
    """Adds a header on each try, below the retry policy."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def on_request(self, request: Request, context: ContextType) -> Optional[ContextType]:
        count = RetryPolicy.get_retry_count(context)
        self.counts.append(count)
        assert "x-per-try" not in request.headers, "a previous try's header leaked"
        request.headers["x-per-try"] = str(count)
        return None


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
    if client.pipeline.loop is not None:  # async: 8 tasks at once on the pipeline's loop
        client.pipeline.run_all([client.call_async(Request("GET", url)) for _ in range(8)])
    else:  # sync: 8 threads at once
        threads = [
            threading.Thread(target=client.call, args=(Request("GET", url),)) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [r.headers["x-per-try"] for r in server.received] == ["0"] * 8


# -- what a server sends never crashes the client ----------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 01 Jan 9999999999 00:00:00 GMT",  # OverflowError inside the standard library
        "Fri, 31 Dec 99999 23:59:59 GMT",
        "Mon, 99 Jan 2020 00:00:00 GMT",
        "Mon, 01 Jan 2020 00:00:00 -99999999999",
        "nan",
        "inf",
        "-inf",
        "1e999",
        "",
        "\x00",
    ],
)
def test_an_unreadable_retry_after_means_none_was_given(value: str) -> None:
    from requests.structures import CaseInsensitiveDict

    for name in ("Retry-After", "retry-after-ms", "x-ms-retry-after-ms"):
        assert retry_after_delay(CaseInsensitiveDict({name: value}), NOW) is None


@given(
    value=st.text(), name=st.sampled_from(["Retry-After", "retry-after-ms", "x-ms-retry-after-ms"])
)
def test_any_retry_after_text_gives_none_or_a_finite_wait(value: str, name: str) -> None:
    from requests.structures import CaseInsensitiveDict

    delay = retry_after_delay(CaseInsensitiveDict({name: value}), NOW)
    assert delay is None or (math.isfinite(delay) and delay >= 0)


def test_an_overflowing_retry_after_date_is_survived_and_backed_off_normally(
    server: LocalServer, fast_options: ClientOptions
) -> None:
    url = server.script(
        "/overflow", Reply(503, {"Retry-After": "Mon, 01 Jan 9999999999 00:00:00 GMT"}), Reply(200)
    )
    client = TracedClient(fast_options)
    assert client.call(Request("GET", url)).status_code == 200
    assert len(client.sleeps) > 0 and sum(client.sleeps) < 0.05  # the ordinary back-off


@pytest.mark.parametrize("value", ["1e9", "61", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_retry_after_beyond_max_retry_after_returns_the_response_at_once(
    server: LocalServer, value: str
) -> None:
    url = server.script("/later", Reply(503, {"Retry-After": value}), Reply(200))
    client = TracedClient()
    assert client.call(Request("GET", url)).status_code == 503
    assert client.sleeps == [] and len(server.received) == 1


def test_a_retry_after_within_max_retry_after_is_waited_for(server: LocalServer) -> None:
    url = server.script("/soon", Reply(503, {"Retry-After": "2"}), Reply(200))
    options = ClientOptions()
    options.retry.max_retry_after = 2.0
    client = TracedClient(options)
    assert client.call(Request("GET", url)).status_code == 200
    assert sum(client.sleeps) == pytest.approx(2.0)


def test_a_coroutine_sleep_is_refused_when_the_retry_policy_is_built() -> None:
    """A sync retry loop would call it and never await: refused by ``RetryPolicy`` itself,
    whether a pipeline builds it or a caller does, not only by ``HttpPipeline``."""

    async def nap(seconds: float) -> None:
        return None

    with pytest.raises(TypeError, match="sleep must be a plain function"):
        RetryPolicy(RetryOptions(), sleep=nap)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sleep must be a plain function"):
        HttpPipeline(ClientOptions(), "svc", "1.0", sleep=nap)  # type: ignore[arg-type]
