"""Promise 2: no secret of a URL or a header reaches a span, a log line or an exception.

The property test sends random URLs and headers carrying a marker through the real pipeline,
traced by the real OpenTelemetry SDK, with every logger at DEBUG, to a real server on
127.0.0.1 and to a port where nothing listens; then it looks for the marker everywhere.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_core_tracing import ClientOptions, Context, TelemetryOptions, TracingContextFactory
from azure_core_tracing.http import (
    HttpPipeline,
    HttpSanitizer,
    Request,
    RequestsTransport,
    TransportConnectionError,
    TransportError,
)
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from tests.http.conftest import Driver, Kind
from tests.local_server import LocalServer, Reply, refused_url
from tests.otlp_receiver import OtlpReceiver
from tests.recording import RecordingTracerProvider
from tests.support import EveryRecord, every_record_at_debug, exception_texts, options_for

MARK = "Zq9MARK"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def debug_log() -> Iterator[EveryRecord]:
    """Every record of every logger, at DEBUG, formatted with tracebacks."""
    with every_record_at_debug() as handler:
        yield handler


# --- URLs that hide a secret, one class at a time -----------------------------------------


def test_a_semicolon_separates_query_parameters_too() -> None:
    url = f"https://h/p?api-version=2024-01-01;sig={MARK}&x=1;;y"
    assert HttpSanitizer().sanitize_url(url) == (
        "https://h/p?api-version=2024-01-01;sig=REDACTED&x=REDACTED;;REDACTED"
    )


def test_a_password_with_an_unencoded_at_sign_is_read_up_to_the_last_one() -> None:
    url = f"http://admin:pa@{MARK}@host.test/x"
    assert Request("GET", url).url == url
    assert HttpSanitizer().sanitize_url(url) == "http://host.test/x"


@pytest.mark.parametrize("reserved", ["/", "#", "?"])
def test_a_password_with_an_unencoded_reserved_character_is_refused_without_repeating_it(
    reserved: str,
) -> None:
    url = f"http://admin:pa{reserved}{MARK}@host.test/x?api-version=1"
    with pytest.raises(ValueError, match="percent-encoded") as caught:
        Request("GET", url)
    assert not any(MARK in text for text in exception_texts(caught.value))
    assert MARK not in HttpSanitizer().sanitize_url(url)


@pytest.mark.parametrize(
    "url",
    [
        f"http://admin:123/{MARK}@host.test/x",  # RFC 3986: host admin, port 123, a path
        f"http://ad/min:{MARK}@host.test/x",  # RFC 3986: host ad, then a path
        f"http://ad/min:x/{MARK}/y@host.test/x",
        f"http://ad/min:{MARK}#@host.test/x",
        f"http://ad/min:{MARK}?@host.test/x",
        f"http://ad:8080/?t=12:00&{MARK}@host.test",
    ],
)
def test_a_path_that_may_be_the_rest_of_a_password_is_redacted(url: str) -> None:
    assert HttpSanitizer().sanitize_url(url) == "http://REDACTED"


def test_an_at_sign_in_an_ordinary_path_is_kept() -> None:
    url = "https://graph.test/v1.0/users/someone@contoso.test/messages"
    assert HttpSanitizer().sanitize_url(url) == url


def test_a_password_that_is_not_latin1_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValueError, match="Latin-1") as caught:
        Request("GET", f"http://user:{MARK}\u20ac\u4e2d@host.test/")
    assert not any(MARK in text for text in exception_texts(caught.value))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_transport_error_and_its_cause_repeat_no_secret(
    debug_log: EveryRecord, kind: Kind
) -> None:
    url = refused_url(f"/p?sig={MARK}&api-version=1").replace("://", f"://user:{MARK}@")
    with (
        Driver(ClientOptions(), "svc", "1.0", sleep=lambda _: None, kind=kind) as pipeline,
        pytest.raises(TransportConnectionError) as caught,
    ):
        pipeline.send(Request("GET", url))
    error = caught.value
    expected = requests.ConnectionError if kind == "sync" else aiohttp.ClientConnectorError
    assert isinstance(error.__cause__, expected)  # the type is kept
    assert error.__cause__.__cause__ is None and error.__context__ is None
    assert "Connection refused" in str(error) and "sig=REDACTED" in str(error)
    logging.getLogger("app").exception("the call failed", exc_info=error)
    assert not any(MARK in text for text in exception_texts(error))
    assert not any(MARK in text for text in debug_log.texts)


@pytest.mark.parametrize(
    ("target", "redacted"),
    [
        (
            f"/{MARK}@127.0.0.1:5/?sig=x&api-version=1",
            "REDACTED@127.0.0.1:5/?sig=REDACTED&api-version=1",
        ),
        (f"/?{MARK}@127.0.0.1:5/?api-version=1", "/?REDACTED"),
        (f"/?sig=@{MARK}&api-version=1", "/?REDACTED"),
    ],
)
def test_a_request_target_that_may_hold_user_info_is_redacted_in_urllib3_lines(
    target: str, redacted: str
) -> None:
    line = f'http://1:80 "POST {target} HTTP/1.1" 404 0'
    assert HttpSanitizer().sanitize_text(line) == f'http://1:80 "POST {redacted} HTTP/1.1" 404 0'


def test_urllib3_lines_of_a_url_that_may_hide_user_info_show_no_target(
    server: LocalServer, debug_log: EveryRecord
) -> None:
    # RFC 3986: host 127.0.0.1, path "/0:<secret>", fragment "@..." -- the line alone shows
    # "/0:<secret>", which cannot be told from a path; the transport knows the whole URL.
    url = server.url(f"/0:{MARK}#@host.test/")
    transport = RequestsTransport()
    transport.send(Request("GET", url), Context())
    transport.close()
    lines = [t for t in debug_log.texts if t.startswith("urllib3.connectionpool") and "GET" in t]
    assert lines and all('"GET /REDACTED HTTP/1.1"' in t for t in lines)
    assert not any(MARK in t for t in debug_log.texts)


def test_urllib3_request_lines_are_redacted_and_other_loggers_left_alone(
    server: LocalServer, debug_log: EveryRecord
) -> None:
    url = server.script("/u", Reply(200)) + f"?sig={MARK}&api-version=2024"
    transport = RequestsTransport()
    transport.send(Request("GET", url), Context())
    logging.getLogger("app").debug("my own line ?sig=%s", MARK)
    urllib3_lines = [t for t in debug_log.texts if t.startswith("urllib3.")]
    assert any('"GET /u?sig=REDACTED&api-version=2024 HTTP/1.1" 200' in t for t in urllib3_lines)
    assert not any(MARK in t for t in urllib3_lines)
    assert f"app my own line ?sig={MARK}" in debug_log.texts
    transport.close()
    transport.close()  # a second close releases nothing more


# --- the property: random URLs and headers, through everything ------------------------------

_RESERVED = "/?#@:;&=+$,%[]!'()*"
_plain = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=8)
_any_char = st.characters(blacklist_categories=("Cs", "Cc"))
_reserved_text = st.text(alphabet=st.sampled_from(_RESERVED + "abcxyz019"), max_size=6)
_secret = st.builds(lambda a, b: f"{a}{MARK}{b}", _reserved_text, _reserved_text)
# A raw '&', ';', '=' or '#' in a query value starts another parameter (whose name is kept,
# by design) or the fragment: a value holding them arrives percent-encoded, or not at all.
_value_text = st.text(alphabet=st.sampled_from("/?@:+$,%[]!'()*abcxyz019"), max_size=6)
_query_secret = st.builds(lambda a, b: f"{a}{MARK}{b}", _value_text, _value_text)


@st.composite
def _userinfo(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["none", "encoded", "raw password", "raw user"]))
    secret = draw(_secret)
    if kind == "none":
        return ""
    if kind == "encoded":
        return f"{draw(_plain)}:{quote(secret, safe='')}@"
    if kind == "raw password":
        return f"{draw(_plain)}:{secret}@"
    # A user name with a reserved character, then the secret as the password.
    return f"{draw(_plain)}{draw(st.sampled_from('/?#;'))}{draw(_plain)}:{secret}@"


@st.composite
def _query(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 5))):
        name = draw(st.one_of(_plain, st.just("sig"), st.just("SIG"), st.just("%73ig")))
        value = draw(
            st.one_of(
                _query_secret,
                st.builds(lambda s: quote(s, safe=""), _secret),
                st.builds(
                    lambda s: quote(s, safe=""),
                    st.text(_any_char, max_size=4).map(lambda t: t + MARK),
                ),
                st.just(""),
            )
        )
        pieces.append(draw(st.sampled_from([f"{name}={value}", f"{value}", f"{name}="])))
        pieces.append(draw(st.sampled_from(["&", ";", "&&"])))
    pieces.append("api-version=2024-01-01")
    return "".join(pieces)


@st.composite
def _url_parts(draw: st.DrawFn) -> tuple[str, str, str]:
    path = "/" + "/".join(draw(st.lists(_plain, max_size=3)))
    fragment = draw(st.one_of(st.just(""), _secret.map(lambda s: "#" + s)))
    return draw(_userinfo()), path, f"?{draw(_query())}{fragment}"


_headers = st.dictionaries(
    st.one_of(
        st.sampled_from(["Authorization", "Cookie", "x-ms-encryption-key", "Proxy-Authorization"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=3, max_size=12).map(
            lambda name: "x-" + name
        ),
    ),
    _secret.map(lambda s: s.replace("%", "").replace("\r", "") or MARK),
    max_size=4,
)


@pytest.fixture(scope="module")
def secret_server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    parts=_url_parts(),
    headers=_headers,
    reachable=st.booleans(),
    kind=st.sampled_from(["sync", "async"]),
)
def test_no_secret_reaches_a_span_a_log_record_or_an_exception(
    secret_server: LocalServer,
    debug_log: EveryRecord,
    parts: tuple[str, str, str],
    headers: dict[str, str],
    reachable: bool,
    kind: Kind,
) -> None:
    userinfo, path, rest = parts
    base = secret_server.script(path, Reply(503), Reply(200)) if reachable else refused_url(path)
    base = base[: -len(path)] if path != "/" else base.rstrip("/")
    url = base.replace("://", f"://{userinfo}", 1) + path + rest
    debug_log.texts.clear()
    exporter = InMemorySpanExporter()
    sdk = SdkTracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider(sdk)))
    options.retry.max_retries = 1
    errors: list[BaseException] = []
    try:
        request = Request("POST", url, headers, body=b"x")
        factory = TracingContextFactory(options, "Svc", "1.0")
        with Driver(options, tracing_factory=factory, sleep=lambda _: None, kind=kind) as pipeline:
            if pipeline.loop is None:
                with factory.create_span("Svc.op") as scope:
                    pipeline.send(request, scope.context)
            else:

                async def traced() -> None:
                    with factory.create_span("Svc.op") as scope:
                        await pipeline.pipeline.send(request, scope.context)

                pipeline.run(traced())
        event("sent and answered")
    except (ValueError, TransportError) as error:
        event(f"raised {type(error).__name__}")
        errors.append(error)
    texts: list[str] = list(debug_log.texts)
    for raised in errors:
        texts += exception_texts(raised)
    for span in exporter.get_finished_spans():
        attributes: dict[str, Any] = dict(span.attributes or {})
        texts += [span.name, repr(attributes), span.status.description or ""]
        texts += [repr(dict(event.attributes or {})) for event in span.events]
    leaks = [text for text in texts if MARK in text]
    assert not leaks, (url, leaks[:3])
    sdk.shutdown()


# --- redaction that outlives a transport, text that is not UTF-8, base64 tokens --------------


_URLLIB3_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from azure_core_tracing import ClientOptions, Context
    from azure_core_tracing.http import HttpPipeline, Request, RequestsTransport
    from tests.local_server import LocalServer, Reply

    logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s %(message)s")
    with LocalServer() as server:
        url = server.script("/p", Reply(200))
        if sys.argv[1] == "shared":
            options = ClientOptions(transport=RequestsTransport())
            with HttpPipeline(options, "first", "1.0") as first:
                first.send(Request("GET", url + "?sig=first"))
            HttpPipeline(options, "second", "1.0").send(Request("GET", url + "?sig=MARK"))
        else:
            transport = RequestsTransport()
            transport.close()
            transport.send(Request("GET", url + "?sig=MARK"), Context())
    """
).replace("MARK", MARK)


@pytest.mark.parametrize("scenario", ["shared", "reopened"])
def test_urllib3_lines_stay_redacted_while_a_transport_still_sends(scenario: str) -> None:
    """urllib3's request lines stay redacted as long as a transport can send, a closed one
    included (requests reopens its pools). ``shared``: two clients share
    ``ClientOptions(transport=...)`` (the way to share a connection pool) and the first is
    closed by ``with``; the second's SAS token is never logged raw. ``reopened``: the same
    with one transport used after ``close()``. (Run in a fresh process: any other transport
    alive in the process would keep the redaction on and hide a fault.)"""
    done = subprocess.run(
        [sys.executable, "-c", _URLLIB3_SCRIPT, scenario],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"GET /p?sig=' in done.stdout  # urllib3 wrote its request lines
    assert [line for line in done.stdout.splitlines() if MARK in line] == []


def test_a_str_body_that_is_not_utf8_is_refused_without_repeating_it() -> None:
    """A str body that is not UTF-8 (a lone surrogate, text from ``os.fsdecode`` or a bad
    JSON escape) is a ValueError naming ``body`` when the Request is built, repeating
    nothing of the body; a raw UnicodeEncodeError from ``send()`` would hold the whole body,
    password and all, in its ``args``."""
    body = '{"user": "me", "password": "' + MARK + '\udcff"}'
    with pytest.raises(ValueError, match="body") as caught:
        Request("PUT", "https://example.test/login", body=body)
    assert not [text for text in exception_texts(caught.value) if MARK in text]


def test_a_bare_base64_query_token_is_redacted() -> None:
    """A bare query word is redacted even when it ends in base64 padding (``==``) and so
    reads as a name with an empty value, though a parameter's name is otherwise kept."""
    token = "c2VjcmV0LXRva2VuLQ"
    sanitized = HttpSanitizer().sanitize_url(f"https://h.test/cb?{token}==&api-version=1")
    assert token not in sanitized


# --- the URL as the library reads it is the URL the transport sends --------------------------


def test_the_host_in_http_url_is_the_host_contacted(
    server: LocalServer, recorder: RecordingTracerProvider
) -> None:
    """The host in ``http.url`` is the host contacted. urllib.parse reads
    ``http://127.0.0.1:<port>\\@trusted.test/`` as host trusted.test, urllib3 (under
    requests) as host 127.0.0.1: either Request refuses the URL (a ValueError naming
    ``url``), or the span names 127.0.0.1, where the request went, never trusted.test."""
    url = server.url("\\@trusted.test/p")
    try:
        request = Request("GET", url)
    except ValueError as error:  # refused: the library never names a host it does not contact
        assert "url" in str(error)
        return
    HttpPipeline(options_for(recorder), "svc", "1.0").send(request)
    assert server.received, "the request reached 127.0.0.1"
    (span,) = recorder.named("HTTP GET #0")
    assert str(span.attributes["http.url"]).startswith(server.url("/"))


@pytest.mark.parametrize(
    "url",
    [
        "http://\u00e4..test/x",  # an empty IDNA label
        "http://exa mple.test/x",  # a space in the host
        "http://" + "a" * 64 + ".test/x",  # a DNS label over 63 characters
        "http://127.0.0.1:1_0/x",  # a port Python 3.9's urlsplit reads as 10
        "http://127.0.0.1:+80/x",
    ],
)
def test_a_url_the_transport_cannot_read_is_refused_by_request(url: str) -> None:
    """A URL requests would refuse to prepare is a ValueError naming ``url`` when the
    Request is built, not a TransportError on each send, which the retry policy would retry
    (4 tries, seconds of back-off). The two ports matter on Python 3.9, whose urlsplit reads
    them as numbers."""
    with pytest.raises(ValueError, match="url"):
        Request("GET", url)


def _otlp(receiver: OtlpReceiver) -> tuple[SdkTracerProvider, TracingContextFactory]:
    sdk = SdkTracerProvider()
    sdk.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint)))
    options = options_for(OpenTelemetryProvider.create(sdk))
    options.retry.max_retries = 0
    return sdk, TracingContextFactory(options, "Svc", "1.0")


def test_a_span_name_that_is_not_utf8_does_not_lose_other_spans_over_otlp(
    otlp_receiver: OtlpReceiver,
) -> None:
    """A span name with a lone surrogate (a file name from ``os.listdir``) never costs the
    other spans exported with it: it is refused when the span is created (a ValueError
    naming ``name``), or the spans before and after it still reach the collector. Accepted
    and exported, it would make the OTLP exporter drop the whole batch."""
    sdk, factory = _otlp(otlp_receiver)
    try:
        factory.create_span("before").span.end()
        try:
            factory.create_span("upload report\udcff.txt").span.end()
        except ValueError as error:  # refused when created: fine
            assert "name" in str(error)
        factory.create_span("after").span.end()
        assert sdk.force_flush(10_000)
    finally:
        sdk.shutdown()
    names = {span.name for span in otlp_receiver.wait_for(2, timeout=5)}
    assert {"before", "after"} <= names


def test_a_url_that_is_not_utf8_does_not_lose_other_spans_over_otlp(
    otlp_receiver: OtlpReceiver,
) -> None:
    """A URL path with a lone surrogate never costs the other spans exported with it: it is
    refused when the Request is built (a ValueError naming ``url``), or the spans before and
    after the call still reach the collector. Accepted and sent (as invalid UTF-8), it would
    reach ``http.url``, the TransportError message and the status description, and the OTLP
    exporter would drop the whole batch."""
    sdk, factory = _otlp(otlp_receiver)
    options = options_for(None)  # the per-try span comes from the factory in the context
    options.retry.max_retries = 0
    pipeline = HttpPipeline(options, "svc", "1.0")
    try:
        factory.create_span("before").span.end()
        try:
            request = Request("GET", refused_url("/files/report\udcff.txt"))
        except ValueError as error:  # refused when built: fine
            assert "url" in str(error)
        else:
            with factory.create_span("upload") as scope, pytest.raises(TransportError):
                pipeline.send(request, scope.context)
        factory.create_span("after").span.end()
        assert sdk.force_flush(10_000)
    finally:
        pipeline.close()
        sdk.shutdown()
    names = {span.name for span in otlp_receiver.wait_for(2, timeout=5)}
    assert {"before", "after"} <= names
