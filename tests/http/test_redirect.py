"""``RedirectPolicy``, in both pipelines, against real servers on 127.0.0.1.

What must hold: 301, 302, 303, 307 and 308 are followed (303, and 301/302 after a POST, as a
GET without a body; otherwise method and body resent, rewound), up to
``ClientOptions.redirect.max_redirects``; a Location that is missing, not http(s), holds user
info or leads from https to http is not followed; no credential reaches another origin (what
the second server received is the proof), and once a call crossed it stays crossed; each hop is
a new request with its own span, name and ``traceparent``; nothing secret in a Location shows
in spans, logs or errors.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing import (
    AccessToken,
    AzureKeyCredential,
    AzureSasCredential,
    ClientOptions,
    Context,
    RedirectOptions,
)
from azure_core_tracing.exceptions import (
    AzureError,
    HttpsRequiredError,
    ServiceRequestError,
    TooManyRedirectsError,
)
from azure_core_tracing.http import (
    AsyncBearerTokenCredentialPolicy,
    AzureKeyCredentialPolicy,
    AzureSasCredentialPolicy,
    BearerTokenCredentialPolicy,
    HttpTransport,
    RawResponse,
    RedirectPolicy,
    Request,
    RequestsTransport,
    RetryPolicy,
    SansIOHttpPolicy,
    is_cross_origin_hop,
)
from azure_core_tracing.http.redirect import method_after, redirect_target
from azure_core_tracing.http.redirect_hop import origin
from tests.http.conftest import current_kind, for_kind, make_pipeline
from tests.local_server import LocalServer, Reply, self_signed_certificate, tls_server_context
from tests.opentelemetry.conftest import Otel
from tests.support import every_record_at_debug, exception_texts, wrong

SECRET = "s3cr3t-Zq81xT"
KEY_HEADER = "x-api-key"
SIGNATURE = "sv=2024-01-01&se=2099-01-01&sig=sas-SIGNATURE"
CREDENTIAL_HEADERS = {
    "Authorization": f"Basic {SECRET}-a",
    "Proxy-Authorization": f"Basic {SECRET}-p",
    "Cookie": f"session={SECRET}-c",
    "x-ms-authorization-auxiliary": f"Bearer {SECRET}-x",
}


@pytest.fixture
def other() -> Any:
    """A second server on another port: another origin."""
    with LocalServer() as local:
        yield local


def pipeline(options: Optional[ClientOptions] = None, **kwargs: Any) -> Any:
    options = options or ClientOptions()
    options.retry.retry_delay = 0.001
    kwargs.setdefault("sleep", lambda seconds: None)
    return make_pipeline(options, "azure-test", "1.0.0", service_name="Test.Service", **kwargs)


def redirect(status: int, location: str) -> Reply:
    return Reply(status, {"Location": location}, b"moved")


class Unseekable(io.RawIOBase):
    """A stream that can be read once and never rewound, as a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


class Credential:
    def __init__(self) -> None:
        self.calls: list[Optional[str]] = []

    def get_token(self, *scopes: str, claims: Optional[str] = None, **kwargs: Any) -> AccessToken:
        self.calls.append(claims)
        return AccessToken(f"token-{len(self.calls)}", int(time.time()) + 3600)


class AsyncCredential:
    def __init__(self, sync: Credential) -> None:
        self.sync = sync

    async def get_token(
        self, *scopes: str, claims: Optional[str] = None, **kwargs: Any
    ) -> AccessToken:
        await asyncio.sleep(0)
        return self.sync.get_token(*scopes, claims=claims)


def bearer(credential: Credential, *, enforce_https: bool = False) -> Any:
    if current_kind() == "sync":
        return BearerTokenCredentialPolicy(
            credential, "https://x.example/.default", enforce_https=enforce_https
        )
    asynchronous: Any = AsyncCredential(credential)
    return AsyncBearerTokenCredentialPolicy(
        asynchronous, "https://x.example/.default", enforce_https=enforce_https
    )


# --- the decisions, without I/O ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (301, "GET", "GET"),
        (301, "POST", "GET"),
        (301, "PUT", "PUT"),
        (302, "POST", "GET"),
        (302, "DELETE", "DELETE"),
        (303, "POST", "GET"),
        (303, "PUT", "GET"),
        (303, "HEAD", "HEAD"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
    ],
)
def test_the_method_after_a_redirect(status: int, method: str, expected: str) -> None:
    assert method_after(status, method) == expected


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("http://a.example/x", "http://a.example:80/y?q", True),
        ("https://a.example/x", "https://A.EXAMPLE:443/", True),
        ("http://a.example/", "https://a.example/", False),
        ("http://a.example/", "http://a.example:8080/", False),
        ("http://a.example/", "http://b.example/", False),
        ("http://a.example/", "http://a.example./", True),
    ],
)
def test_an_origin_is_scheme_host_and_port_with_default_ports_filled_in(
    first: str, second: str, same: bool
) -> None:
    assert (origin(first) == origin(second)) is same


@pytest.mark.parametrize(
    "location",
    [
        None,
        "",
        "   ",
        "ftp://files.example/x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        f"http://user:{SECRET}@a.example/x",
        f"http://{SECRET}@a.example/x",
        "http://[not-an-address/x",
        "http://a.example:99999/x",
        "http:// spaced.example/x",
    ],
)
def test_a_location_that_cannot_be_followed_gives_no_target(location: Optional[str]) -> None:
    assert redirect_target("http://a.example/start", location) is None


_URL_TEXT = st.text(
    st.sampled_from([*"htps:/@?#.%[]:\\ ", "a", "B", "1", "\u00e9", "\x00", "\r", "x", "n", "-"]),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    current=st.sampled_from(["http://a.example/p/q?x=1", "https://a.example:8443/p"]),
    location=st.one_of(_URL_TEXT, st.builds(lambda t: "http://" + t, _URL_TEXT)),
)
def test_any_location_gives_none_or_an_http_url_with_no_user_info(
    current: str, location: str
) -> None:
    target = redirect_target(current, location)
    if target is None:
        return
    assert target.startswith(("http://", "https://"))
    assert origin(target) is not None
    assert "@" not in target.partition("//")[2].split("/")[0]
    assert "#" not in target
    assert not (current.startswith("https:") and target.startswith("http:"))


def test_an_https_to_http_location_gives_no_target() -> None:
    assert redirect_target("https://a.example/x", "http://a.example/y") is None
    assert redirect_target("http://a.example/x", "https://a.example/y") == "https://a.example/y"


@pytest.mark.parametrize("value", [True, -1, 1.5, "3", None])
def test_max_redirects_is_checked_when_set(value: object) -> None:
    options = RedirectOptions()
    with pytest.raises((TypeError, ValueError), match="max_redirects"):
        options.max_redirects = wrong(value)
    with pytest.raises((TypeError, ValueError), match="max_redirects"):
        RedirectOptions(max_redirects=wrong(value))
    assert ClientOptions().redirect.max_redirects == 30


def test_the_policy_takes_only_redirect_options() -> None:
    with pytest.raises(TypeError, match="options must be a RedirectOptions"):
        RedirectPolicy(wrong(ClientOptions()))


def test_is_cross_origin_hop_is_false_outside_a_redirect_and_checks_its_argument() -> None:
    assert is_cross_origin_hop(Context()) is False
    with pytest.raises(TypeError, match="context"):
        is_cross_origin_hop(wrong(None))


# --- following: statuses, methods, bodies --------------------------------------------------------

BODY = b"the-body-" * 100


def body_of(kind: str) -> Any:
    if kind == "bytes":
        return BODY
    if kind == "seekable":
        stream = io.BytesIO(b"skip" + BODY)
        stream.seek(4)  # rewound to where it started, not to 0
        return stream
    return Unseekable(BODY)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
@pytest.mark.parametrize("body", ["bytes", "seekable", "unseekable"])
def test_each_redirect_status_is_followed_with_the_right_method_and_body(
    server: LocalServer, status: int, method: str, body: str
) -> None:
    target = server.script("/to", Reply(200, body=b"arrived"))
    url = server.script("/from", redirect(status, target))
    headers = {"Content-Type": "application/octet-stream", "x-keep": "1"}
    request = Request(method, url, headers, body_of(body))
    expected = method_after(status, method)
    resends = status != 303 and expected == method
    if resends and body == "unseekable":
        with pytest.raises(ValueError, match=r"body: .*cannot be rewound") as raised:
            pipeline().send(request)
        assert str(status) in str(raised.value)
        assert [r.path for r in server.received] == ["/from"]
        return
    response = pipeline().send(request)
    assert response.status_code == 200 and response.body == b"arrived"
    first, hop = server.received
    assert first.method == method and first.body == BODY
    assert hop.method == expected and hop.path == "/to"
    assert hop.headers["x-keep"] == "1"
    if resends:
        assert hop.body == BODY
        assert hop.headers["content-type"] == "application/octet-stream"
    else:
        assert hop.body == b""
        assert "content-type" not in hop.headers
        assert hop.headers.get("content-length", "0") == "0"
        assert "transfer-encoding" not in hop.headers


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ("/b/c", "/b/c"),
        ("c", "/a/c"),
        ("../up", "/up"),
        ("?q=2", "/a/x?q=2"),
        ("/b/c#fragment", "/b/c"),
    ],
)
def test_a_relative_location_is_resolved_against_the_request_url(
    server: LocalServer, location: str, path: str
) -> None:
    server.script(path.partition("?")[0], Reply(200, body=b"arrived"))
    url = server.script("/a/x", redirect(302, location), Reply(200, body=b"arrived"))
    assert pipeline().send(Request("GET", url + "?q=1")).body == b"arrived"
    assert [r.path for r in server.received] == ["/a/x?q=1", path]


def test_an_absolute_and_a_scheme_relative_location_are_followed(
    server: LocalServer, other: LocalServer
) -> None:
    final = other.script("/end", Reply(200, body=b"arrived"))
    middle = server.script("/middle", redirect(301, "//" + final.partition("//")[2]))
    url = server.script("/start", redirect(302, middle))
    assert pipeline().send(Request("GET", url)).body == b"arrived"
    assert [r.path for r in server.received] == ["/start", "/middle"]
    assert [r.path for r in other.received] == ["/end"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Location": ""},
        {"Location": "ftp://127.0.0.1/x"},
        {"Location": "javascript:alert(1)"},
        {"Location": f"http://user:{SECRET}@127.0.0.1:1/x"},
        {"Location": "http://[garbage"},
    ],
)
def test_a_redirect_that_cannot_be_followed_is_returned(
    server: LocalServer, headers: dict[str, str]
) -> None:
    url = server.script("/x", Reply(302, headers, b"moved"))
    response = pipeline().send(Request("GET", url))
    assert response.status_code == 302 and response.body == b"moved"
    assert len(server.received) == 1


def test_a_status_that_is_no_redirect_is_returned(server: LocalServer) -> None:
    for status in (300, 305, 306):
        url = server.script(f"/{status}", redirect(status, "/elsewhere"))
        assert pipeline().send(Request("GET", url)).status_code == status
    assert "/elsewhere" not in [r.path for r in server.received]


# --- the limit -----------------------------------------------------------------------------------


def test_a_loop_stops_at_max_redirects_with_too_many_redirects_error(server: LocalServer) -> None:
    url = server.script("/loop", redirect(302, f"/loop?sig={SECRET}&api-version=1#{SECRET}"))
    options = ClientOptions()
    options.redirect.max_redirects = 3
    with pytest.raises(TooManyRedirectsError) as raised:
        pipeline(options).send(Request("GET", url))
    error = raised.value
    assert isinstance(error, AzureError)
    assert "redirected 3 times" in str(error) and "(3)" in str(error)
    assert len(server.received) == 4
    assert all(SECRET not in text for text in exception_texts(error))
    assert "sig=REDACTED" in str(error)


def test_a_pipeline_follows_30_redirects_by_default() -> None:
    (policy,) = [p for p in pipeline().policies if isinstance(p, RedirectPolicy)]
    assert policy.options.max_redirects == 30


def test_max_redirects_0_returns_the_redirect(server: LocalServer) -> None:
    url = server.script("/x", redirect(301, "/y"))
    options = ClientOptions()
    options.redirect.max_redirects = 0
    assert pipeline(options).send(Request("GET", url)).status_code == 301
    assert [r.path for r in server.received] == ["/x"]


def test_exactly_max_redirects_are_followed(server: LocalServer) -> None:
    server.script("/2", Reply(200))
    server.script("/1", redirect(302, "/2"))
    url = server.script("/0", redirect(302, "/1"))
    options = ClientOptions()
    options.redirect.max_redirects = 2
    assert pipeline(options).send(Request("GET", url)).status_code == 200


class Recording(HttpTransport):
    """The real transport, streaming; each response it returns records its own closing."""

    def __init__(self) -> None:
        self.inner = RequestsTransport()
        self.returned: list[int] = []
        self.closed: list[int] = []

    def send(self, request: Request, context: Context) -> RawResponse:
        sent = self.inner.send(request, context)
        number = len(self.returned)
        self.returned.append(number)

        def close() -> None:
            self.closed.append(number)
            sent.close()

        return RawResponse(
            sent.status_code, sent.reason, sent.headers, chunks=sent.iter_bytes(), close=close
        )

    def close(self) -> None:
        self.inner.close()


def test_every_redirect_not_returned_is_closed(server: LocalServer) -> None:
    url = server.script("/loop", redirect(302, "/loop"))
    options = ClientOptions()
    options.redirect.max_redirects = 2
    transport = Recording()
    with pytest.raises(TooManyRedirectsError):
        pipeline(options, transport=for_kind(transport)).send(Request("GET", url, stream=True))
    assert transport.returned == [0, 1, 2]
    assert transport.closed == [0, 1, 2]


# --- credentials and origins ---------------------------------------------------------------------


def credential_policies(credential: Credential) -> list[Any]:
    return [
        bearer(credential),
        AzureKeyCredentialPolicy(AzureKeyCredential(f"{SECRET}-key"), KEY_HEADER),
        AzureSasCredentialPolicy(AzureSasCredential(SIGNATURE)),
    ]


def assert_no_credential(received: Any) -> None:
    for name in (*CREDENTIAL_HEADERS, KEY_HEADER):
        assert name.lower() not in received.headers, name
    assert SECRET not in json.dumps(received.headers)
    assert "sig=" not in received.path and "sv=" not in received.path and "se=" not in received.path


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_credential_reaches_another_origin(
    server: LocalServer, other: LocalServer, status: int
) -> None:
    # The Location echoes the signature the SAS policy merged, as a server may.
    target = other.script("/landing", Reply(200, body=b"arrived"))
    url = server.script("/start", redirect(status, f"{target}?keep=1&{SIGNATURE}"))
    credential = Credential()
    client = pipeline(per_retry_policies=credential_policies(credential))
    headers = {**CREDENTIAL_HEADERS, KEY_HEADER: f"{SECRET}-by-hand"}
    response = client.send(Request("GET", url + "?api-version=1", headers))
    assert response.body == b"arrived"
    (first,) = server.received
    assert first.headers["authorization"] == "Bearer token-1"
    assert first.headers[KEY_HEADER] == f"{SECRET}-key" and "sig=sas-SIGNATURE" in first.path
    (landed,) = other.received
    assert_no_credential(landed)
    assert landed.path == "/landing?keep=1"
    assert credential.calls == [None]


def test_once_a_call_crossed_origins_its_later_hops_carry_no_credential(
    server: LocalServer, other: LocalServer
) -> None:
    back = server.script("/back", Reply(200, body=b"home"))
    away = other.script("/away", redirect(302, back))
    url = server.script("/start", redirect(302, away))
    client = pipeline(per_retry_policies=credential_policies(Credential()))
    assert client.send(Request("GET", url, CREDENTIAL_HEADERS)).body == b"home"
    start, returned = server.received
    assert start.headers["authorization"].startswith("Bearer")
    assert_no_credential(other.received[0])
    assert_no_credential(returned)


def test_a_same_origin_redirect_keeps_every_credential(server: LocalServer) -> None:
    target = server.url("/TARGET").replace("http://", "HTTP://")  # the scheme in any case
    server.script("/TARGET", Reply(200, body=b"arrived"))
    url = server.script("/start", redirect(307, f"{target}?{SIGNATURE}"))
    client = pipeline(per_retry_policies=credential_policies(Credential()))
    assert client.send(Request("GET", url, CREDENTIAL_HEADERS)).body == b"arrived"
    _, hop = server.received
    assert hop.headers["authorization"] == "Bearer token-1"
    assert hop.headers[KEY_HEADER] == f"{SECRET}-key"
    assert hop.headers["cookie"] == CREDENTIAL_HEADERS["Cookie"]
    assert hop.path.count("sig=") == 1  # the echoed signature was replaced, not doubled


class TenantSecretPolicy(SansIOHttpPolicy):
    """A custom credential policy: adds its header unless the hop crossed origins."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def on_request(self, request: Request, context: Context) -> None:
        crossed = is_cross_origin_hop(context)
        self.seen.append(crossed)
        if not crossed:
            request.headers["x-tenant-secret"] = SECRET


def test_a_hop_is_built_from_the_request_before_the_per_retry_policies_changed_it(
    server: LocalServer, other: LocalServer
) -> None:
    target = other.script("/landing", Reply(200))
    url = server.script("/start", Reply(503), redirect(307, target))
    policy = TenantSecretPolicy()
    assert pipeline(per_retry_policies=[policy]).send(Request("GET", url)).status_code == 200
    assert [r.headers.get("x-tenant-secret") for r in server.received] == [SECRET, SECRET]
    assert "x-tenant-secret" not in other.received[0].headers
    assert policy.seen == [False, False, True]


class AppendingPolicy(SansIOHttpPolicy):
    """Changes the URL and a header on every try, and never puts them back."""

    def on_request(self, request: Request, context: Context) -> None:
        request.url += "&n=1" if "?" in request.url else "?n=1"
        request.headers["x-tries"] = request.headers.get("x-tries", "") + "+"
        request.method = "PATCH"


def test_every_try_starts_from_the_url_headers_and_method_the_retry_policy_was_given(
    server: LocalServer,
) -> None:
    url = server.script("/x", Reply(503), Reply(503), Reply(200))
    client = pipeline(per_retry_policies=[AppendingPolicy()])
    assert client.send(Request("GET", url)).status_code == 200
    assert [(r.method, r.path, r.headers["x-tries"]) for r in server.received] == [
        ("PATCH", "/x?n=1", "+")
    ] * 3


def test_a_sas_policy_signs_every_try_of_every_hop(server: LocalServer) -> None:
    server.script("/b", Reply(503), Reply(200))
    url = server.script("/a", Reply(503), redirect(302, "/b"))
    client = pipeline(per_retry_policies=[AzureSasCredentialPolicy(AzureSasCredential(SIGNATURE))])
    assert client.send(Request("GET", url + "?comp=list")).status_code == 200
    assert [r.path for r in server.received] == [
        f"/a?comp=list&{SIGNATURE}",
        f"/a?comp=list&{SIGNATURE}",
        f"/b?{SIGNATURE}",
        f"/b?{SIGNATURE}",
    ]


def test_https_to_http_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other: LocalServer
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    plain = other.script("/plain", Reply(200))
    with LocalServer(tls_server_context(cert, key)) as tls:
        tls.script("/secure", Reply(200, body=b"secure"))
        url = tls.script("/start", redirect(302, plain))
        upgrade = tls.script("/same", redirect(301, tls.url("/secure")))
        client = pipeline(per_retry_policies=[bearer(Credential(), enforce_https=True)])
        response = client.send(Request("GET", url))
        assert response.status_code == 302
        assert other.received == []
        assert client.send(Request("GET", upgrade)).body == b"secure"
        assert [r.headers["authorization"] for r in tls.received] == ["Bearer token-1"] * 3


# --- one try number for the whole call, tracing ---------------------------------------------------

CLAIMS = base64.b64encode(json.dumps({"access_token": {"nbf": {"essential": True}}}).encode())


class RetryCounts(SansIOHttpPolicy):
    def __init__(self) -> None:
        self.counts: list[int] = []

    def on_request(self, request: Request, context: Context) -> None:
        self.counts.append(RetryPolicy.get_retry_count(context))


def traced(client: Any, otel: Otel, request: Request) -> RawResponse:
    response: RawResponse = client.traced_send(otel.factory(), request)
    return response


def test_every_request_of_a_call_has_its_own_span_name_and_traceparent(
    server: LocalServer, otel: Otel
) -> None:
    challenge = f'Bearer realm="", error="insufficient_claims", claims="{CLAIMS.decode()}"'
    server.script("/b", Reply(401, {"WWW-Authenticate": challenge}), Reply(200))
    url = server.script("/a", Reply(503), redirect(307, "/b?token=" + SECRET))
    counts = RetryCounts()
    client = pipeline(otel.options(), per_retry_policies=[counts, bearer(Credential())])
    with every_record_at_debug() as records:
        assert traced(client, otel, Request("GET", url)).status_code == 200
    names = [span.name for span in otel.spans() if span.name.startswith("HTTP")]
    assert names == ["HTTP GET #0", "HTTP GET #1", "HTTP GET #2", "HTTP GET #3"]
    assert counts.counts == [0, 1, 0]  # the retry count within each hop
    parents = [r.headers["traceparent"] for r in server.received]
    assert len(set(parents)) == 4
    assert len({parent.split("-")[1] for parent in parents}) == 1  # one trace
    spans = {span.name: span for span in otel.spans()}
    hop_url = str((spans["HTTP GET #2"].attributes or {})["http.url"])
    assert hop_url.endswith("/b?token=REDACTED")
    assert (spans["HTTP GET #3"].attributes or {})["http.url"] == hop_url
    lines = records.of("azure_core_tracing.http")
    assert any("(try 3)" in line for line in lines)
    assert all(SECRET not in text for text in records.texts)
    assert all(SECRET not in json.dumps(dict(span.attributes or {})) for span in otel.spans())


def test_secrets_in_a_location_show_in_no_span_log_or_error(
    server: LocalServer, other: LocalServer, otel: Otel
) -> None:
    target = other.url("/p/a/t/h")
    location = f"{target}?sig={SECRET}&x={SECRET}#{SECRET}"
    url = server.script("/start", redirect(302, location))
    other.script("/p/a/t/h", redirect(302, f"http://u:{SECRET}@127.0.0.1:1/"))
    options = otel.options()
    with every_record_at_debug() as records:
        response = traced(pipeline(options), otel, Request("GET", url))
    assert response.status_code == 302  # the second Location holds user info: returned
    assert [r.path for r in other.received] == [f"/p/a/t/h?sig={SECRET}&x={SECRET}"]
    texts = records.texts + [json.dumps(dict(s.attributes or {})) for s in otel.spans()]
    assert texts and all(SECRET not in text for text in texts)


# --- the bearer policy's https check is not retried -----------------------------------------------


def test_https_required_is_raised_once_before_any_retry(server: LocalServer) -> None:
    url = server.script("/x", Reply(200))
    sleeps: list[float] = []
    client = pipeline(
        per_retry_policies=[bearer(Credential(), enforce_https=True)], sleep=sleeps.append
    )
    with pytest.raises(HttpsRequiredError, match="https is required") as raised:
        client.send(Request("GET", url))
    assert isinstance(raised.value, ServiceRequestError)
    assert sleeps == [] and server.received == []


@pytest.mark.parametrize(
    "echo",
    [
        "%73ig=sas-SIGNATURE&%53V=2024-01-01&s%65=2099-01-01",  # percent-encoded names
        "SIG=sas-SIGNATURE&Sv=2024-01-01&sE=2099-01-01",  # any case
        "si%67=sas-SIGNATURE;sv=2024-01-01;se=2099-01-01",  # encoded and ;-separated
    ],
)
def test_an_echoed_signature_is_taken_out_whatever_its_spelling(
    server: LocalServer, other: LocalServer, echo: str
) -> None:
    # A server decodes %73ig as sig: an echo spelt so must not reach another origin, nor be
    # sent twice to this one.
    target = other.script("/landing", Reply(200, body=b"arrived"))
    url = server.script("/start", redirect(302, f"{target}?keep=1&{echo}"))
    client = pipeline(per_retry_policies=credential_policies(Credential()))
    assert client.send(Request("GET", url)).body == b"arrived"
    (landed,) = other.received
    assert landed.path == "/landing?keep=1"
    server.script("/home", Reply(200, body=b"home"))
    url = server.script("/again", redirect(307, f"{server.url('/home')}?keep=1&{echo}"))
    assert client.send(Request("GET", url)).body == b"home"
    hop = server.received[-1]
    assert hop.path == f"/home?keep=1&{SIGNATURE}"
