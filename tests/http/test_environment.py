"""Both transports read the environment as ``requests`` reads it (proxies, ``NO_PROXY`` with
CIDRs, the CA bundle, netrc and URL credentials) and see every change between two calls,
though neither scans ``os.environ`` on every call. Servers, proxies and TLS are real, on
127.0.0.1; the certificate is made by ``openssl``."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import types
from collections import UserDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional, Union

import pytest
import requests
import requests.adapters
import requests.exceptions
import requests.sessions
import requests.utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.exceptions import LocationValueError

from azure_core_tracing import Context
from azure_core_tracing.exceptions import ServiceRequestError
from azure_core_tracing.http import (
    Request,
    RequestsTransport,
    TransportError,
    environment,
)
from tests.http.transports import KINDS, Transport, failure_types
from tests.local_server import (
    BackgroundServer,
    LocalServer,
    QuietHandler,
    Received,
    Reply,
    self_signed_certificate,
    tls_server_context,
)

_READ_BY_REQUESTS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC", "REQUEST_METHOD")


def _is_read(name: str) -> bool:
    return name.lower().endswith("_proxy") or name in _READ_BY_REQUESTS


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No proxy, CA bundle or netrc variable; HOME an empty directory (so no ~/.netrc)."""
    for name in list(os.environ):
        if _is_read(name):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def proxy() -> Iterator[LocalServer]:
    """A second server, standing in for a forward proxy: it records what reaches it."""
    with LocalServer() as local:
        yield local


def _via(server: LocalServer) -> list[str]:
    return [received.path for received in server.received]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("latin-1")).decode()


def _last(server: LocalServer) -> Received:
    return server.received[-1]


def test_the_proxy_follows_every_change_of_the_environment(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = server.script("/x", Reply(200))
    port = url.split(":")[2].split("/")[0]
    transport = make_transport()
    steps: list[tuple[dict[str, Optional[str]], bool]] = [
        ({}, False),
        ({"HTTP_PROXY": proxy.url("")}, True),
        ({"NO_PROXY": "127.0.0.0/8"}, False),  # a CIDR: aiohttp's own trust_env knows none
        ({"NO_PROXY": f"127.0.0.1:{port}"}, True),  # requests matches an IP without a port
        ({"NO_PROXY": ".example.com,127.0.0.1"}, False),
        ({"NO_PROXY": "example.com, 10.0.0.0/8"}, True),
        ({"NO_PROXY": None, "http_proxy": ""}, False),  # an empty lower-case name wins
        ({"http_proxy": None, "REQUEST_METHOD": "GET"}, False),  # CGI: HTTP_PROXY ignored
        ({"REQUEST_METHOD": None, "HTTP_PROXY": None, "Http_Proxy": proxy.url("")}, True),
        ({"Http_Proxy": None, "all_proxy": proxy.url("")}, True),
        ({"all_proxy": None}, False),
    ]
    for number, (changes, proxied) in enumerate(steps):
        for name, value in changes.items():
            if value is None:
                monkeypatch.delenv(name)
            else:
                monkeypatch.setenv(name, value)
        before = len(proxy.received), len(server.received)
        assert transport.send(Request("GET", url)).status_code in (200, 404)
        went_to_proxy = len(proxy.received) > before[0]
        assert went_to_proxy == proxied, (number, changes)
        assert (len(server.received) > before[1]) == (not proxied), (number, changes)
    # Through a proxy the request line holds the absolute URL.
    assert _via(proxy)[0] == url


def test_a_changed_value_of_a_mixed_case_proxy_variable_is_seen(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the value changes, not the set of names: still seen on the next call."""
    url = server.script("/x", Reply(200))
    transport = make_transport()
    with LocalServer() as other:
        monkeypatch.setenv("hTTp_pRoxy", proxy.url(""))
        transport.send(Request("GET", url))
        monkeypatch.setenv("hTTp_pRoxy", other.url(""))
        transport.send(Request("GET", url))
        assert (len(proxy.received), len(other.received), len(server.received)) == (1, 1, 0)


def test_proxy_credentials_go_to_the_proxy_decoded_as_requests_decodes_them(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = server.script("/x", Reply(200))
    address = proxy.url("").split("://")[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://us%40er:p%3Ass@{address}")
    make_transport().send(Request("GET", url))
    assert _last(proxy).headers["proxy-authorization"] == _basic("us@er", "p:ss")


def test_a_proxy_without_a_scheme_is_an_http_proxy(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = server.script("/x", Reply(200))
    monkeypatch.setenv("HTTP_PROXY", proxy.url("").split("://")[1])
    make_transport().send(Request("GET", url))
    assert _via(proxy) == [url]


def test_the_ca_bundle_follows_the_environment(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    transport = make_transport()
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200, body=b"secure"))
        with pytest.raises(TransportError):  # certifi does not trust it
            transport.send(Request("GET", url))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        assert transport.send(Request("GET", url)).body == b"secure"
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        monkeypatch.setenv("CURL_CA_BUNDLE", str(cert))
        assert transport.send(Request("GET", url)).body == b"secure"
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")  # empty: the next one is read
        assert transport.send(Request("GET", url)).body == b"secure"
        monkeypatch.delenv("CURL_CA_BUNDLE")
        with pytest.raises(TransportError):
            transport.send(Request("GET", url))


def test_a_ca_bundle_that_does_not_exist_is_a_transport_error(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200))
        with pytest.raises(TransportError):
            make_transport().send(Request("GET", url))


def test_netrc_credentials_are_sent_and_follow_the_file(
    server: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = server.script("/x", Reply(200))
    transport = make_transport()
    netrc = clean_environment / ".netrc"  # ~/.netrc
    netrc.write_text("machine 127.0.0.1 login alice password s3cret\n")
    transport.send(Request("GET", url))
    assert _last(server).headers["authorization"] == _basic("alice", "s3cret")
    netrc.write_text("machine 127.0.0.1 login bob password other-secret\n")
    transport.send(Request("GET", url))
    assert _last(server).headers["authorization"] == _basic("bob", "other-secret")
    named = tmp_path / "named-netrc"  # NETRC names the file instead
    named.write_text("default login carol password third\n")
    monkeypatch.setenv("NETRC", str(named))
    transport.send(Request("GET", url))
    assert _last(server).headers["authorization"] == _basic("carol", "third")
    named.unlink()
    transport.send(Request("GET", url))
    assert "authorization" not in _last(server).headers
    named.write_text("this is not a netrc file\n")  # one requests cannot parse: skipped
    transport.send(Request("GET", url))
    assert "authorization" not in _last(server).headers


def test_a_requests_own_authorization_header_is_never_replaced(
    server: LocalServer,
    make_transport: Any,
    clean_environment: Path,
) -> None:
    """Not requests' behaviour (its netrc credentials replace the header): a bearer token
    put there by a pipeline policy must reach the service."""
    url = server.script("/x", Reply(200))
    port = url.split(":")[2].split("/")[0]
    (clean_environment / ".netrc").write_text("machine 127.0.0.1 login a password b\n")
    transport = make_transport()
    for target in (url, f"http://user:pw@127.0.0.1:{port}/x"):
        transport.send(Request("GET", target, {"Authorization": "Bearer token"}))
        assert _last(server).headers["authorization"] == "Bearer token"


def test_url_credentials_are_sent_decoded_and_netrc_comes_first(
    server: LocalServer,
    make_transport: Any,
    clean_environment: Path,
) -> None:
    url = server.script("/x", Reply(200))
    port = url.split(":")[2].split("/")[0]
    transport = make_transport()
    with_user = f"http://us%40er:p%3Ass@127.0.0.1:{port}/x"
    transport.send(Request("GET", with_user))
    assert _last(server).headers["authorization"] == _basic("us@er", "p:ss")
    # A user name without a password is no credential to requests: none is sent.
    transport.send(Request("GET", f"http://only-a-token@127.0.0.1:{port}/x"))
    assert "authorization" not in _last(server).headers
    (clean_environment / ".netrc").write_text("machine 127.0.0.1 login n password m\n")
    transport.send(Request("GET", with_user))
    assert _last(server).headers["authorization"] == _basic("n", "m")


def test_netrc_credentials_are_found_for_the_host_never_for_the_user_info(
    server: LocalServer,
    make_transport: Any,
    clean_environment: Path,
) -> None:
    """``http://127.0.0.1:@localhost/`` goes to localhost: the netrc entry for 127.0.0.1 must
    not go with it, whichever requests is installed (before 2.32.4 its own lookup read the
    host from the user info). The URL's own credentials are sent instead."""
    url = server.script("/x", Reply(200))
    port = url.split(":")[2].split("/")[0]
    (clean_environment / ".netrc").write_text("machine 127.0.0.1 login alice password s3cret\n")
    make_transport().send(Request("GET", f"http://127.0.0.1:@localhost:{port}/x"))
    assert _last(server).headers["authorization"] == _basic("127.0.0.1", "")


def test_settings_made_on_the_sync_transports_session_are_honoured(
    server: LocalServer,
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = server.script("/x", Reply(200))
    transport = RequestsTransport()
    context = Context()
    try:
        transport.session.proxies = {"http": proxy.url("")}
        transport.send(Request("GET", url), context)
        assert _via(proxy) == [url]
        transport.session.proxies = {}
        monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
        transport.session.trust_env = False
        transport.send(Request("GET", url), context)
        assert len(server.received) == 1
        transport.session.trust_env = True
        transport.session.auth = ("session", "auth")
        monkeypatch.delenv("HTTP_PROXY")
        (clean_environment / ".netrc").write_text("machine 127.0.0.1 login n password m\n")
        transport.send(Request("GET", url), context)
        assert _last(server).headers["authorization"] == _basic("session", "auth")
    finally:
        transport.close()


# What the environment may hold, and the URLs it is asked about.
_PROXIES = st.sampled_from(
    ["", "http://p1:3128", "p2:8080", "http://u%40x:p%3Ay@p3:1", "socks5://p4:1080"]
)
_NO_PROXY = st.lists(
    st.sampled_from(
        [
            *("127.0.0.0/8", "10.0.0.0/8", "example.com", ".example.com", "*"),
            *("127.0.0.1:8080", "sub.example.com", " 10.1.2.3 ", "localhost", "::1", ""),
        ]
    ),
    max_size=4,
).map(",".join)
_NAMES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
_ENVIRONMENTS = st.fixed_dictionaries(
    {},
    optional={
        **{name: _PROXIES for name in [*_NAMES, "Http_Proxy"]},
        "no_proxy": _NO_PROXY,
        "NO_PROXY": _NO_PROXY,
        "REQUEST_METHOD": st.just("GET"),
        "REQUESTS_CA_BUNDLE": st.sampled_from(["", "/a/bundle.pem"]),
        "CURL_CA_BUNDLE": st.sampled_from(["", "/b/bundle.pem"]),
    },
)
_URLS = st.builds(
    "{}://{}{}{}/p?q".format,
    st.sampled_from(["http", "https", "HTTP"]),
    st.sampled_from(["", "user:pw@", "u@"]),
    st.sampled_from(
        ["127.0.0.1", "10.1.2.3", "example.com", "a.sub.example.com", "[::1]", "localhost"]
    ),
    st.sampled_from(["", ":8080", ":443"]),
)


def _replace_environment(values: dict[str, str]) -> dict[str, str]:
    saved = {name: value for name, value in os.environ.items() if _is_read(name)}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    return saved


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_ENVIRONMENTS, second=_ENVIRONMENTS, urls=st.lists(_URLS, min_size=1, max_size=4))
def test_the_environment_is_read_exactly_as_requests_reads_it(
    first: dict[str, str], second: dict[str, str], urls: list[str]
) -> None:
    ours = RequestsTransport()
    theirs = requests.Session()
    saved = _replace_environment(first)
    try:
        for values in (first, second):  # the second replaces the first between two reads
            _replace_environment(values)
            for url in urls:
                found = environment.settings_for(url)
                proxies = requests.utils.get_environ_proxies(url)
                assert found.proxies == proxies
                assert environment.settings_for(url) is found  # kept, not asked again
                chosen = requests.utils.select_proxy(url, proxies)
                assert found.proxy == (chosen or None)
                for verify in (True, None, False, "/own/bundle.pem"):
                    assert ours.session.merge_environment_settings(
                        url, {}, None, verify, None
                    ) == theirs.merge_environment_settings(url, {}, None, verify, None)
    finally:
        _replace_environment(saved)
        ours.close()
        theirs.close()


def test_many_threads_see_the_environment_they_read_once_it_settles(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://10.1.2.3:8080/x"
    stop = threading.Event()
    failures: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                environment.settings_for(url)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for number in range(300):
            monkeypatch.setenv("HTTP_PROXY", f"http://proxy-{number}:3128")
            monkeypatch.setenv("NO_PROXY", "10.0.0.0/8" if number % 2 else "")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert environment.settings_for(url).proxies == requests.utils.get_environ_proxies(url)
    assert environment.settings_for(url).proxy is None  # NO_PROXY=10.0.0.0/8 at the end


def _calls(function: Callable[..., Any]) -> Callable[[types.FrameType], bool]:
    """Whether a frame is a call of ``function``."""
    return lambda frame: frame.f_code is function.__code__


def _changed_while_read(
    send: Callable[[], Any],
    name: str,
    value: str,
    where: Callable[[types.FrameType], bool],
) -> None:
    """Run ``send`` in a thread; if it enters a frame ``where`` accepts (a read of the
    environment), hold it there while another thread sets ``name`` to ``value``, and again as
    it leaves, while the old value is put back (or the variable removed, if it was unset): a
    brief change, at the worst moment. A trace function holds the thread, so the interleaving
    repeats on every run."""
    entered, changed, read, restored = (threading.Event() for _ in range(4))
    old = os.environ.get(name)

    def on_return(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "return":
            read.set()
            restored.wait(10)
        return None

    def hold(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "call" and not entered.is_set() and where(frame):
            entered.set()
            changed.wait(10)
            return on_return
        return None

    def call() -> None:
        sys.settrace(hold)
        try:
            with contextlib.suppress(TransportError):
                send()
        finally:
            sys.settrace(None)

    worker = threading.Thread(target=call)
    worker.start()
    while worker.is_alive() and not entered.wait(0.01):
        pass
    assert entered.is_set(), "the environment was not read"
    os.environ[name] = value
    changed.set()
    assert read.wait(10)
    if old is None:
        del os.environ[name]
    else:
        os.environ[name] = old
    restored.set()
    worker.join(10)
    assert os.environ.get(name) == old


def test_a_ca_bundle_variable_changed_by_another_thread_mid_call_is_not_kept(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Changed and put back while requests reads the environment: the passing value serves
    that call only, and the next one trusts the bundle the environment names."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    transport = make_transport()
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200, body=b"secure"))
        missing = str(tmp_path / "missing.pem")
        _changed_while_read(
            lambda: transport.send(Request("GET", url)),
            "REQUESTS_CA_BUNDLE",
            missing,
            _calls(requests.Session.merge_environment_settings),
        )
        assert transport.send(Request("GET", url)).body == b"secure"


def test_no_proxy_set_and_removed_by_another_thread_mid_call_is_not_kept(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A variable that appears and goes again while requests reads the proxies (another
    thread's brief NO_PROXY; requests' own ``set_environ`` for a session whose proxies hold
    ``no_proxy``) leaves the environment as it was: the next call uses the proxy it names."""
    url = server.script("/x", Reply(200))
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    transport = make_transport()
    _changed_while_read(
        lambda: transport.send(Request("GET", url)),
        "NO_PROXY",
        "127.0.0.1",
        _calls(requests.utils.get_environ_proxies),
    )
    assert requests.utils.get_environ_proxies(url) == {"http": proxy.url("")}
    before = len(proxy.received)
    transport.send(Request("GET", url))
    assert len(proxy.received) == before + 1


def test_a_home_changed_by_another_thread_mid_call_is_not_kept(
    server: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    tmp_path: Path,
) -> None:
    """``~/.netrc`` follows ``HOME``: read mid-change, another user's file would be kept."""
    url = server.script("/x", Reply(200))
    (clean_environment / ".netrc").write_text("machine 127.0.0.1 login alice password a\n")
    other = tmp_path / "other-home"
    other.mkdir()
    (other / ".netrc").write_text("machine 127.0.0.1 login mallory password m\n")
    transport = make_transport()
    _changed_while_read(
        lambda: transport.send(Request("GET", url)), "HOME", str(other), _calls(os.path.expanduser)
    )
    transport.send(Request("GET", url))
    assert _last(server).headers["authorization"] == _basic("alice", "a")


def test_os_environ_replaced_whole_is_read_for_every_setting_and_then_restored(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``mock.patch("os.environ", {...})`` replaces it by a dict: its proxy, CA bundle and
    netrc file are read as requests reads them, and the real one again once it is back."""
    url = server.script("/x", Reply(200))
    transport = make_transport()
    transport.send(Request("GET", url))  # answers kept for the real os.environ
    named = tmp_path / "named-netrc"
    named.write_text("machine 127.0.0.1 login n password m\n")
    with monkeypatch.context() as patch:
        patch.setattr(os, "environ", {**os.environ, "NETRC": str(named)})
        transport.send(Request("GET", url))
        assert _last(server).headers["authorization"] == _basic("n", "m")
        patch.setattr(os, "environ", {**os.environ, "HTTP_PROXY": proxy.url("")})
        transport.send(Request("GET", url))
        assert _via(proxy) == [url]
    transport.send(Request("GET", url))  # the real one is back: no proxy, no netrc
    assert len(proxy.received) == 1
    assert "authorization" not in _last(server).headers
    cert, key = self_signed_certificate(tmp_path)
    with LocalServer(tls_server_context(cert, key)) as tls:
        secure = tls.script("/x", Reply(200, body=b"secure"))
        with pytest.raises(TransportError):
            transport.send(Request("GET", secure))
        with monkeypatch.context() as patch:
            patch.setattr(os, "environ", {**os.environ, "REQUESTS_CA_BUNDLE": str(cert)})
            assert transport.send(Request("GET", secure)).body == b"secure"


@pytest.mark.parametrize("replacement", ["data", "mapping"])
def test_os_environ_replaced_by_other_means_is_read_as_requests_reads_it(
    server: LocalServer,
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    replacement: str,
) -> None:
    """Its encoded dict replaced (as some tools and old tests do), or os.environ replaced by
    a mapping that is not a dict: both are what requests reads."""
    url = server.script("/x", Reply(200))
    transport = make_transport()
    transport.send(Request("GET", url))
    if replacement == "data":
        data = dict(getattr(os.environ, "_data"))  # noqa: B009 - os.environ's own dict
        data[os.environ.encodekey("HTTP_PROXY")] = os.environ.encodevalue(proxy.url(""))
        monkeypatch.setattr(os.environ, "_data", data)
    else:
        monkeypatch.setattr(os, "environ", UserDict({**os.environ, "HTTP_PROXY": proxy.url("")}))
    assert requests.utils.get_environ_proxies(url) == {"http": proxy.url("")}
    transport.send(Request("GET", url))
    assert _via(proxy) == [url]


def _rewrite_in_place(path: Path, data: bytes) -> None:
    """Write ``data`` over ``path`` (the same inode) and put its times back, as ``cp -p``,
    ``rsync -t`` or ``tar -x`` leave a file."""
    before = path.stat()
    with path.open("r+b") as file:
        file.write(data)
        file.truncate()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _subject_hash(cert: Path) -> str:
    return subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _until_settled(*paths: Path) -> None:
    """Wait until each file is old enough to be kept."""
    deadline = time.monotonic() + 30
    while not all(environment.file_version(str(path)).settled for path in paths):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_file_version_changes_with_the_content_of_a_file_or_of_the_file_a_link_names(
    tmp_path: Path,
) -> None:
    file = tmp_path / "bundle.pem"
    file.write_bytes(b"first")
    first = environment.file_version(str(file))
    assert not first.settled  # just written: a change within the same clock tick could hide
    _rewrite_in_place(file, b"other")  # same inode, size and modification time
    assert environment.file_version(str(file)).stamp != first.stamp
    link = tmp_path / "link.pem"
    link.symlink_to(file)
    before = environment.file_version(str(link))
    _rewrite_in_place(file, b"third")
    assert environment.file_version(str(link)).stamp != before.stamp
    with pytest.raises(OSError):
        environment.file_version(str(tmp_path / "missing"))


def test_connections_are_pooled_while_the_ca_bundle_is_a_directory(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A CA directory is read by each new connection, as urllib3 reads it, not on every call:
    a second request reuses the first one's connection."""
    cert, key = self_signed_certificate(tmp_path)
    directory = tmp_path / "ca"
    directory.mkdir()
    (directory / f"{_subject_hash(cert)}.0").symlink_to(cert)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(directory))
    transport = make_transport()
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200))
        for _ in range(3):
            assert transport.send(Request("GET", url)).status_code == 200
        assert len({received.client_port for received in tls.received}) == 1


def test_files_kept_once_settled_are_read_again_when_rewritten_with_their_stat_kept(
    server: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A netrc file, a CA bundle and a hashed CA directory whose file is a link (as c_rehash
    makes it), each rewritten in place with size and times put back after the parsed file or
    TLS context was kept: the new content is what both transports use."""
    url = server.script("/x", Reply(200))
    netrc = clean_environment / ".netrc"
    netrc.write_text("machine 127.0.0.1 login alice password old-secret\n")
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old_cert, old_key = self_signed_certificate(tmp_path / "old")
    new_cert, new_key = self_signed_certificate(tmp_path / "new")
    old_pem, new_pem = old_cert.read_bytes(), new_cert.read_bytes()
    size = max(len(old_pem), len(new_pem)) + 8
    bundle, linked = tmp_path / "bundle.pem", tmp_path / "linked.pem"
    for path in (bundle, linked):  # text after the PEM block is ignored
        path.write_bytes(old_pem + b"#" * (size - len(old_pem)))
    directory = tmp_path / "ca"
    directory.mkdir()
    (directory / f"{_subject_hash(old_cert)}.0").symlink_to(linked)
    transports = [Transport(kind) for kind in KINDS]
    try:
        with contextlib.ExitStack() as stack:
            old = stack.enter_context(LocalServer(tls_server_context(old_cert, old_key)))
            new = stack.enter_context(LocalServer(tls_server_context(new_cert, new_key)))
            old_url, new_url = old.script("/x", Reply(200)), new.script("/x", Reply(200))
            _until_settled(netrc, bundle, directory)  # from now on, they are kept
            for ca in (bundle, directory):
                monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
                for transport in transports:
                    assert transport.send(Request("GET", old_url)).status_code == 200
            for transport in transports:
                transport.send(Request("GET", url))
                assert _last(server).headers["authorization"] == _basic("alice", "old-secret")
            netrc_text = "machine 127.0.0.1 login alice password new-secret\n"
            _rewrite_in_place(netrc, netrc_text.encode())
            for path in (bundle, linked):
                _rewrite_in_place(path, new_pem + b"#" * (size - len(new_pem)))
            for transport in transports:
                transport.send(Request("GET", url))
                assert _last(server).headers["authorization"] == _basic("alice", "new-secret")
            for ca in (bundle, directory):
                monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
                for transport in transports:
                    assert transport.send(Request("GET", new_url)).status_code == 200
    finally:
        for transport in transports:
            transport.close()


@pytest.mark.parametrize(
    "url", ["http://bücher.example/x", "http://xn--bcher-kva.example/x", "http://BÜCHER.example/x"]
)
def test_an_idna_host_is_spelled_in_each_lookup_as_requests_spells_it(
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    """requests matches NO_PROXY against the prepared URL's host (IDNA) but looks the URL's
    host up in the netrc file as it was given: each transport sends what requests sends."""
    (clean_environment / ".netrc").write_text(
        "machine xn--bcher-kva.example login idna password a\n"
        "machine bücher.example login unicode password b\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))  # bücher.example is reached through it
    monkeypatch.setenv("NO_PROXY", "bücher.example")  # not the prepared host: still proxied
    with requests.Session() as session:
        session.get(url)
    expected = _last(proxy).headers.get("authorization")
    make_transport().send(Request("GET", url))
    assert _last(proxy).headers.get("authorization") == expected
    assert len(proxy.received) == 2


class _RecordingProxy(BackgroundServer):
    """A forward proxy that records what reaches it: it answers a request with 200 and
    refuses a CONNECT with 407, so no tunnel is ever opened."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Optional[str]]] = []
        received = self.received

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                received.append((self.command, self.headers.get("Proxy-Authorization")))
                status = 407 if self.command == "CONNECT" else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_CONNECT = do_GET  # noqa: N815

        super().__init__(Handler)


@pytest.mark.parametrize(
    ("name", "value", "target"),
    [
        ("HTTP_PROXY", "http://u%3Ax:p@{address}", "http"),  # a ':' in the user name
        ("HTTP_PROXY", "http://:pw@{address}", "http"),  # no user name: no credentials
        ("HTTP_PROXY", "http://user:p%C3%A4ss@{address}", "http"),  # Latin-1 once decoded
        ("HTTPS_PROXY", "http://u%40x:p%3Ay@{address}", "https"),  # on the CONNECT
        ("HTTPS_PROXY", "http://:pw@{address}", "https"),
        ("https_proxy", "http://üser:pw@{address}", "https"),
        ("all_proxy", "//user:pw@{address}", "https"),
        ("http_proxy", "socks5h://{address}", "http"),
        ("ALL_PROXY", "socks4://user:pw@{address}", "http"),
        ("all_proxy", "HTTP://user:pw@{address}", "http"),
        ("Http_Proxy", "{address}/some/path?q", "http"),
        ("HTTP_PROXY", "http://[::1]:{port}", "http"),  # nothing there: refused, by IPv6
        ("ALL_PROXY", "ftp://{address}", "https"),
    ],
)
def test_every_proxy_variable_and_scheme_is_read_and_refused_as_requests_does(
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    target: str,
) -> None:
    """Lower, upper and mixed case names, ALL_PROXY, every SOCKS scheme and credentials
    requests decodes (or cannot send): the proxy is reached, or refused, the same way by both
    transports, with the same Proxy-Authorization, on the request or on the CONNECT."""
    outcomes = []
    with _RecordingProxy() as proxy:
        address = proxy.url("").split("://")[1]
        monkeypatch.setenv(name, value.format(address=address, port=address.split(":")[1]))
        url = f"{target}://127.0.0.1:9/x"  # nothing listens there: only the proxy answers
        for kind in KINDS:
            transport = Transport(kind)
            try:
                result: object = transport.send(Request("GET", url)).status_code
            except TransportError as error:
                result = type(error).__name__
            finally:
                transport.close()
            outcomes.append((result, list(proxy.received)))
            proxy.received.clear()
    assert outcomes[1] == outcomes[0]


def _requests_route(proxy: str) -> object:
    """What requests' HTTPAdapter makes of ``proxy`` for an http URL: the proxy it connects
    to and the Proxy-Authorization it sends, or the type of the error it raises. Nothing is
    sent: the adapter only picks its connection pool."""
    adapter = requests.adapters.HTTPAdapter()
    request = requests.Request("GET", "http://example.com/").prepare()
    try:
        pool: Any = adapter.get_connection_with_tls_context(request, True, {"http": proxy})
    except LocationValueError:  # requests' send reports it as InvalidURL
        return requests.exceptions.InvalidURL
    except Exception as error:
        return type(error)
    finally:
        adapter.close()
    origin = pool.proxy
    authorization = pool.proxy_headers.get("Proxy-Authorization")
    return (origin.scheme, origin.host, origin.port, authorization)


def _our_route(proxy: str) -> object:
    try:
        route = environment.proxy_route(proxy)
    except Exception as error:
        return type(error)
    return tuple(route)


_PROXY_URLS = st.builds(
    "{}{}{}{}{}".format,
    st.sampled_from(["", "http://", "HTTP://", "https://", "ftp://", "//", "localhost:", "x:"]),
    st.sampled_from(
        [
            "",
            "user@",
            "user:@",
            ":pw@",
            "u%40x:p%3Ay@",
            "u%3Ax:p@",
            "üser:pw@",
            "a:p%C3%A4@",
            "%FC:x@",
        ]
    ),
    st.sampled_from(["127.0.0.1", "proxy.example", "Proxy.Example", "[::1]", "bücher.example", ""]),
    st.sampled_from(["", ":3128", ":0", ":99999", ":x", ":"]),
    st.sampled_from(["", "/", "/path?q#f", "  ", "\t", "#"]),
)


@settings(max_examples=400, deadline=None)
@given(proxy=_PROXY_URLS)
def test_a_proxy_url_is_read_as_requests_http_adapter_reads_it(proxy: str) -> None:
    """The proxy and credentials requests connects with, or the error it raises, for every
    spelling drawn (SOCKS apart: requests speaks it with PySocks, the async transport never)."""
    assert _our_route(proxy) == _requests_route(proxy)


@pytest.mark.parametrize("scheme", ["socks4", "socks4a", "socks5", "socks5h", "SOCKS5"])
def test_a_socks_proxy_is_refused_with_requests_error_for_it(scheme: str) -> None:
    with pytest.raises(requests.exceptions.InvalidSchema):
        environment.proxy_route(f"{scheme}://user:pw@127.0.0.1:1080")


def _unix_socket(path: Path) -> contextlib.AbstractContextManager[Any]:
    """A path that exists but cannot be opened as a file: a bound UNIX socket."""
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return contextlib.closing(sock)


@pytest.mark.parametrize(
    "bundle",
    ["empty", "not a certificate", "unreadable", "missing", "empty directory", "another CA"],
)
def test_a_ca_bundle_that_fails_fails_with_the_same_error_type_in_both_transports(
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    bundle: str,
) -> None:
    """requests reports a bundle OpenSSL cannot load or read, or one without the server's CA,
    as an SSLError (a ConnectionError), and one that does not exist as an OSError."""
    cert, key = self_signed_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    other, _ = self_signed_certificate(tmp_path / "other")
    path = tmp_path / "bundle"
    with contextlib.ExitStack() as stack:
        if bundle == "empty":
            path.write_text("")
        elif bundle == "not a certificate":
            path.write_text("not a certificate\n")
        elif bundle == "unreadable":
            stack.enter_context(_unix_socket(path))
        elif bundle == "empty directory":
            path.mkdir()
        elif bundle == "another CA":
            path = other
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(path))
        tls = stack.enter_context(LocalServer(tls_server_context(cert, key)))
        kinds = failure_types(tls.script("/x", Reply(200)))
    assert kinds[1] is kinds[0]


def test_a_proxy_route_never_shows_its_credentials() -> None:
    route = environment.proxy_route("http://user:s3cret@proxy.example:3128")
    assert route.authorization == _basic("user", "s3cret")
    assert _basic("user", "s3cret") not in repr(route)
    assert "s3cret" not in repr(route)


def _counting_requests_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs requests' ``get_environ_proxies`` is asked about from now on."""
    asked: list[str] = []
    ask = requests.sessions.get_environ_proxies

    def counted(url: str, no_proxy: Optional[str] = None) -> dict[str, str]:
        asked.append(url)
        return ask(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    return asked


def test_requests_is_asked_once_per_origin_while_the_environment_is_unchanged(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers of requests' own functions are kept, so the environment is not scanned on
    every call; any change to it, even of a variable requests does not read, asks again."""
    asked = _counting_requests_reads(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    for _ in range(3):
        assert environment.settings_for("http://a.example/x").proxy == "http://proxy.example:3128"
        environment.settings_for("http://b.example/y?q")
    assert asked == ["http://a.example/x", "http://b.example/y?q"]
    monkeypatch.setenv("UNRELATED_VARIABLE", "1")
    monkeypatch.setenv("NO_PROXY", "a.example")
    assert environment.settings_for("http://a.example/z").proxy is None
    assert asked[2:] == ["http://a.example/z"]


@pytest.mark.parametrize("refusal", [RuntimeError, PermissionError])
def test_where_the_audit_hook_is_refused_requests_is_asked_every_time(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, refusal: type[Exception]
) -> None:
    """Without the hook a change made and undone mid-call could not be told apart, so no
    answer is kept; a hook that refuses ours (silently, or raising) fails no request."""

    def refuse(hook: Callable[[str, tuple[Any, ...]], None]) -> None:
        if refusal is PermissionError:
            raise refusal("no audit hooks here")

    monkeypatch.setattr(sys, "addaudithook", refuse)
    monkeypatch.setattr(sys, "audit", lambda event, *args: None)  # so no hook sees the probe
    monkeypatch.setattr(environment, "_hook_tried", False)
    monkeypatch.setattr(environment, "_hooked", False)
    monkeypatch.setattr(environment, "_kept", None)
    asked = _counting_requests_reads(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    for _ in range(3):
        assert environment.settings_for("http://a.example/x").proxy == "http://proxy.example:3128"
    assert asked == ["http://a.example/x"] * 3


def _certificate(directory: Path, subject: str, san: Optional[str]) -> tuple[Path, Path]:
    """A self-signed certificate made by ``openssl``, with ``san`` as its subjectAltName
    (None: none at all): (cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    extension = ["-addext", f"subjectAltName={san}"] if san else []
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-subj", subject, *extension, "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_a_netrc_file_rewritten_in_place_with_its_stat_put_back_is_read_again(
    server: LocalServer, make_transport: Any, clean_environment: Path
) -> None:
    """A password changed in place with the size and times put back (``cp -p``, ``rsync
    -t``), just after the file was written: the new password is sent, as requests reads it."""
    url = server.script("/x", Reply(200))
    transport = make_transport()
    netrc = clean_environment / ".netrc"
    netrc.write_text("machine 127.0.0.1 login alice password old-secret\n")
    transport.send(Request("GET", url))
    assert _last(server).headers["authorization"] == _basic("alice", "old-secret")
    _rewrite_in_place(netrc, b"machine 127.0.0.1 login alice password new-secret\n")
    transport.send(Request("GET", url))
    assert _last(server).headers["authorization"] == _basic("alice", "new-secret")


def test_a_ca_bundle_rewritten_in_place_with_its_stat_put_back_is_trusted_anew(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A bundle rotated in place with its size and times kept, just after it was written:
    the server with the new certificate is trusted, as requests (which loads the bundle for
    every new connection) trusts it."""
    old_cert, old_key = self_signed_certificate(_made(tmp_path / "old"))
    new_cert, new_key = self_signed_certificate(_made(tmp_path / "new"))
    old_pem, new_pem = old_cert.read_bytes(), new_cert.read_bytes()
    size = max(len(old_pem), len(new_pem)) + 8  # text after the PEM block is ignored
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(old_pem + b"#" * (size - len(old_pem)))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    transport = make_transport()
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(LocalServer(tls_server_context(old_cert, old_key)))
        new = stack.enter_context(LocalServer(tls_server_context(new_cert, new_key)))
        assert transport.send(Request("GET", old.script("/x", Reply(200)))).status_code == 200
        _rewrite_in_place(bundle, new_pem + b"#" * (size - len(new_pem)))
        assert transport.send(Request("GET", new.script("/x", Reply(200)))).status_code == 200


def _made(directory: Path) -> Path:
    directory.mkdir()
    return directory


def test_a_certificate_replaced_in_place_in_a_ca_directory_is_trusted_anew(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``REQUESTS_CA_BUNDLE`` may name a hashed directory (``c_rehash``). A renewed CA copied
    over its file (same subject, so the same name; ``cp`` writes in place, so the directory's
    own stat does not change) is trusted by the next connection, as requests trusts it."""
    old_cert, old_key = self_signed_certificate(_made(tmp_path / "old"))
    new_cert, new_key = self_signed_certificate(_made(tmp_path / "new"))
    directory = tmp_path / "ca"
    directory.mkdir()
    hashed = directory / f"{_subject_hash(old_cert)}.0"
    hashed.write_bytes(old_cert.read_bytes())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(directory))
    transport = make_transport()
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(LocalServer(tls_server_context(old_cert, old_key)))
        new = stack.enter_context(LocalServer(tls_server_context(new_cert, new_key)))
        assert transport.send(Request("GET", old.script("/x", Reply(200)))).status_code == 200
        with hashed.open("r+b") as file:  # as cp writes it: the same inode, in place
            file.write(new_cert.read_bytes())
            file.truncate()
        assert transport.send(Request("GET", new.script("/x", Reply(200)))).status_code == 200


def test_a_certificate_naming_its_host_only_in_the_common_name_is_refused_as_requests_does(
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """urllib3 2 (so requests) never matches a host name against the subject's common name
    (RFC 6125): a certificate trusted through ``REQUESTS_CA_BUNDLE`` that names its host only
    there is refused by both transports."""
    cert, key = _certificate(tmp_path / "cn-only", "/CN=localhost", None)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200)).replace("127.0.0.1", "localhost")
        with pytest.raises(TransportError):
            make_transport().send(Request("GET", url))


def _went_to(proxy: LocalServer, transport: Transport, url: str) -> bool:
    """Send ``url`` (failing is allowed) and say whether the proxy was reached."""
    before = len(proxy.received)
    with contextlib.suppress(TransportError):
        transport.send(Request("GET", url))
    return len(proxy.received) > before


@pytest.mark.parametrize(
    ("no_proxy", "proxied"),
    [("bücher.example", True), ("xn--bcher-kva.example", False)],
)
def test_no_proxy_is_matched_against_an_idna_host_as_requests_matches_it(
    proxy: LocalServer,
    make_transport: Any,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str,
    proxied: bool,
) -> None:
    """requests chooses the proxy for the prepared URL, whose host is IDNA-encoded: a
    ``NO_PROXY`` entry in that spelling is honoured, one in the Unicode spelling is not."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert _went_to(proxy, make_transport(), "http://bücher.example/x") == proxied


# What one call did: its status or the type of its error, whether the proxy and the origin
# were reached, and the Proxy-Authorization the proxy was sent.
Outcome = tuple[Union[int, str], bool, bool, Optional[str]]


def _outcome(transport: Transport, url: str, origin: LocalServer, proxy: LocalServer) -> Outcome:
    before = len(origin.received), len(proxy.received)
    try:
        result: Union[int, str] = transport.send(Request("GET", url)).status_code
    except TransportError as error:
        result = type(error).__name__
    reached = len(proxy.received) > before[1]
    authorization = proxy.received[-1].headers.get("proxy-authorization") if reached else None
    return result, reached, len(origin.received) > before[0], authorization


@pytest.mark.parametrize(
    "value",
    [
        "socks5://user:secret@127.0.0.1:{port}",  # requests: SOCKS needs PySocks
        "ftp://127.0.0.1:{port}",  # requests: an unknown proxy scheme
        "localhost:{port}",  # requests reads "localhost" as the scheme: no host
        "user:secret@127.0.0.1:{port}",  # requests reads "user" as the scheme
        "http://",  # requests: no host
        "\t",  # requests: an invalid URL
        "http://127.0.0.1:{port}  ",  # requests: an invalid host
        "//127.0.0.1:{port}",  # requests: an http proxy
        "http://user@127.0.0.1:{port}",  # requests: no password, no Proxy-Authorization
        "http://%FC:x@127.0.0.1:{port}",  # requests: not Latin-1 once decoded, an error
    ],
)
def test_a_malformed_proxy_is_used_or_refused_by_both_transports_as_requests_does(
    server: LocalServer,
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    """A proxy requests refuses (no host, an unknown scheme, SOCKS) fails both transports
    the same way, neither going around it to the service; one it accepts is reached by both
    with the same Proxy-Authorization, or none."""
    url = server.script("/x", Reply(200))
    address = proxy.url("").split("://")[1]
    monkeypatch.setenv("HTTP_PROXY", value.format(port=address.split(":")[1]))
    sync, aio = Transport("requests"), Transport("aiohttp")
    try:
        assert _outcome(aio, url, server, proxy) == _outcome(sync, url, server, proxy)
    finally:
        sync.close()
        aio.close()


def test_a_proxy_that_refuses_the_tunnel_is_the_same_error_type_in_both_transports(
    proxy: LocalServer, clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests raises ``ProxyError``, a ``ConnectionError``, for a CONNECT the proxy answers
    with an error (501 here): both transports raise ``ServiceRequestError`` (the request never
    reached the service)."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(""))
    kinds = failure_types("https://127.0.0.1:9/x")
    assert kinds == [ServiceRequestError, ServiceRequestError]
