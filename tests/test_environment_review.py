"""An adversarial review of 7d81130: both transports read the environment as ``requests``
reads it (proxies, CA bundle, netrc and URL credentials) and see every change between two
calls. Each test fails on 7d81130.

Servers, proxies, TLS, files, threads and environment changes are real (127.0.0.1, tmp
files, ``openssl``). The one device that is not plain use is in the thread test: a trace
function that holds one thread at a chosen line while another changes the environment, so an
interleaving the scheduler allows becomes one the test can repeat.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, Optional, Union

import pytest
import requests.utils

from azure_core_tracing.http import Request, TransportError
from tests.http.transports import KINDS, Transport, failure_types
from tests.local_server import LocalServer, Reply, tls_server_context

_READ_BY_REQUESTS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC", "REQUEST_METHOD")

# What one call did: its status or the type of its error, whether the proxy and the origin
# were reached, and the Proxy-Authorization the proxy was sent.
Outcome = tuple[Union[int, str], bool, bool, Optional[str]]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No proxy, CA bundle or netrc variable; HOME an empty directory (so no ~/.netrc)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in _READ_BY_REQUESTS:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(params=KINDS)
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    """A transport of each kind, closed afterwards."""
    made = Transport(request.param)
    yield made
    made.close()


@pytest.fixture
def proxy() -> Iterator[LocalServer]:
    """A server standing in for a forward proxy: it records what reaches it."""
    with LocalServer() as local:
        yield local


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


def _rewrite_keeping_stat(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` in place and put its times back, as ``cp -p``, ``rsync
    -t`` or ``tar -x`` leave a file: same inode, size and mtime, other content."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )


def _went_to(proxy: LocalServer, transport: Transport, url: str) -> bool:
    """Send ``url`` (failing is allowed) and say whether the proxy was reached."""
    before = len(proxy.received)
    with contextlib.suppress(TransportError):
        transport.send(Request("GET", url))
    return len(proxy.received) > before


def test_an_environment_change_made_by_another_thread_mid_call_is_not_kept_afterwards(
    transport: Transport,
    server: LocalServer,
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``settings_for`` takes the snapshot of ``os.environ`` first and asks requests (which
    reads ``os.environ`` again) afterwards, then files the answer under that snapshot. If
    another thread changes the environment in between and puts it back (a thread that sets
    ``NO_PROXY`` for a moment; requests' own ``set_environ`` for a session whose proxies
    hold ``no_proxy``), the answer of the passing environment is kept for the origin for as
    long as the environment stays as it was: every later request bypasses (or uses) a proxy
    that ``requests`` would not. Here the proxy the environment names is skipped for good."""
    url = server.script("/x", Reply(200))
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    entered, changed, left, restored = (threading.Event() for _ in range(4))
    target = requests.utils.get_environ_proxies.__code__

    def on_return(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "return":
            left.set()
            restored.wait(10)
        return None

    def hold_once(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code is target and not entered.is_set():
            entered.set()
            changed.wait(10)
            return on_return
        return None

    def first_call() -> None:
        sys.settrace(hold_once)
        try:
            transport.send(Request("GET", url))
        finally:
            sys.settrace(None)

    worker = threading.Thread(target=first_call)
    worker.start()
    assert entered.wait(10)
    os.environ["NO_PROXY"] = "127.0.0.1"  # another thread, for a moment
    changed.set()
    assert left.wait(10)
    del os.environ["NO_PROXY"]  # the environment is as it was
    restored.set()
    worker.join(10)
    assert requests.utils.get_environ_proxies(url) == {"http": proxy.url("")}
    assert _went_to(proxy, transport, url)


def test_os_environ_replaced_whole_is_read_as_requests_reads_it(
    transport: Transport,
    server: LocalServer,
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``mock.patch("os.environ", {...})`` and ``monkeypatch.setattr(os, "environ", ...)``
    are common in tests and some tools: ``requests`` reads ``os.environ`` afresh and uses
    the proxy it names; the transports compare the ``_data`` of the object that was
    ``os.environ`` at import, which no longer changes, and keep their old answer."""
    url = server.script("/x", Reply(200))
    transport.send(Request("GET", url))  # the answer for the origin is kept
    replaced = dict(os.environ)
    replaced["HTTP_PROXY"] = proxy.url("")
    monkeypatch.setattr(os, "environ", replaced)
    assert requests.utils.get_environ_proxies(url) == {"http": proxy.url("")}
    assert _went_to(proxy, transport, url)


def test_a_netrc_file_rewritten_with_its_size_and_mtime_kept_is_read_again(
    transport: Transport, server: LocalServer, clean_environment: Path
) -> None:
    """The parsed file is kept while (path, inode, device, mtime, size) is unchanged; a
    password changed in place with the times put back (``cp -p``, ``rsync -t``, a config
    tool), or twice within one tick of a coarse file-system clock, is never read: the old
    password is sent, the new one never, though ``requests`` reads the file every time."""
    url = server.script("/x", Reply(200))
    netrc = clean_environment / ".netrc"
    netrc.write_text("machine 127.0.0.1 login alice password old-secret\n")
    transport.send(Request("GET", url))
    assert server.received[-1].headers["authorization"] == "Basic YWxpY2U6b2xkLXNlY3JldA=="
    _rewrite_keeping_stat(netrc, "machine 127.0.0.1 login alice password new-secret\n")
    transport.send(Request("GET", url))
    assert server.received[-1].headers["authorization"] == "Basic YWxpY2U6bmV3LXNlY3JldA=="


def test_a_ca_bundle_rewritten_with_its_size_and_mtime_kept_is_trusted_anew(
    transport: Transport,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The async transport keeps its TLS context while the bundle's (path, inode, mtime,
    size) is unchanged; ``requests`` loads the bundle for every new connection. A bundle
    rotated in place with its times kept still trusts only the old CA: the server with the
    new certificate fails."""
    old_cert, old_key = _certificate(tmp_path / "old", "/CN=127.0.0.1", "IP:127.0.0.1")
    new_cert, new_key = _certificate(tmp_path / "new", "/CN=127.0.0.1", "IP:127.0.0.1")
    old_text, new_text = old_cert.read_text(), new_cert.read_text()
    size = max(len(old_text), len(new_text)) + 8

    def padded(text: str) -> str:  # text after the PEM block is ignored
        return text + "#" * (size - len(text) - 1) + "\n"

    bundle = tmp_path / "bundle.pem"
    bundle.write_text(padded(old_text))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(LocalServer(tls_server_context(old_cert, old_key)))
        new = stack.enter_context(LocalServer(tls_server_context(new_cert, new_key)))
        assert transport.send(Request("GET", old.script("/x", Reply(200)))).status_code == 200
        _rewrite_keeping_stat(bundle, padded(new_text))
        assert transport.send(Request("GET", new.script("/x", Reply(200)))).status_code == 200


def test_a_certificate_replaced_in_place_in_a_ca_directory_is_trusted_anew(
    transport: Transport,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """``REQUESTS_CA_BUNDLE`` may name a hashed directory (``c_rehash``). Copying a renewed
    CA over its file (same subject, so same name; ``cp`` writes in place) leaves the
    directory's own stat, the async transport's key, unchanged, and its kept context has
    the old CA loaded: the server with the renewed certificate fails. ``requests`` reads the
    directory for every new connection."""
    old_cert, old_key = _certificate(tmp_path / "old", "/CN=127.0.0.1", "IP:127.0.0.1")
    new_cert, new_key = _certificate(tmp_path / "new", "/CN=127.0.0.1", "IP:127.0.0.1")
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(old_cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    directory = tmp_path / "ca"
    directory.mkdir()
    hashed = directory / f"{subject_hash}.0"
    hashed.write_bytes(old_cert.read_bytes())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(directory))
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(LocalServer(tls_server_context(old_cert, old_key)))
        new = stack.enter_context(LocalServer(tls_server_context(new_cert, new_key)))
        assert transport.send(Request("GET", old.script("/x", Reply(200)))).status_code == 200
        with hashed.open("r+b") as file:  # as cp writes it: the same inode, in place
            file.write(new_cert.read_bytes())
            file.truncate()
        assert transport.send(Request("GET", new.script("/x", Reply(200)))).status_code == 200


def test_a_certificate_naming_its_host_only_in_the_common_name_is_refused_as_requests_does(
    transport: Transport,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """urllib3 2 (so ``requests``) never matches a host name against the subject's CN
    (``hostname_checks_common_name = False``, RFC 6125/2818 deprecate it); the async
    transport's own context comes from ``ssl.create_default_context``, which still does. So
    the async client accepts a certificate, trusted through ``REQUESTS_CA_BUNDLE``, that the
    sync client refuses: a weaker check than the one it claims to copy."""
    cert, key = _certificate(tmp_path / "cn-only", "/CN=localhost", None)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with LocalServer(tls_server_context(cert, key)) as tls:
        url = tls.script("/x", Reply(200)).replace("127.0.0.1", "localhost")
        with pytest.raises(TransportError):
            transport.send(Request("GET", url))


@pytest.mark.parametrize(
    ("no_proxy", "proxied"),
    [("bücher.example", True), ("xn--bcher-kva.example", False)],
)
def test_no_proxy_is_matched_against_an_idna_host_as_requests_matches_it(
    transport: Transport,
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str,
    proxied: bool,
) -> None:
    """``requests`` chooses the proxy for the prepared URL, whose host is IDNA-encoded
    (``xn--bcher-kva.example``); the async transport asks for the URL as given
    (``bücher.example``). So a ``NO_PROXY`` entry in one spelling is honoured by one client
    and not the other: the async one sends around a proxy the environment requires (or
    through one it excludes)."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert _went_to(proxy, transport, "http://bücher.example/x") == proxied


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
        "http://",  # requests: no host; aiohttp: no proxy at all, so direct
        "\t",  # requests: an invalid URL; aiohttp: direct
        "http://127.0.0.1:{port}  ",  # requests: an invalid host
        "//127.0.0.1:{port}",  # requests: an http proxy; aiohttp: an error
        "http://user@127.0.0.1:{port}",  # requests: no password, no Proxy-Authorization
        "http://%FC:x@127.0.0.1:{port}",  # requests: not Latin-1 once decoded, an error
    ],
)
def test_a_proxy_url_is_read_and_refused_as_requests_reads_and_refuses_it(
    server: LocalServer,
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    """The async transport hands the environment's proxy to aiohttp after only prefixing
    ``http://`` when ``://`` is missing; ``requests`` parses it (``prepend_scheme_if_needed``,
    urllib3's ``parse_url``), refuses one with no host or an unknown scheme, and builds
    Proxy-Authorization only from a user name with a password. So the async client speaks
    plain HTTP, proxy credentials included, to a SOCKS port, goes around a malformed proxy
    straight to the service, or sends credentials requests would not: where the sync client
    fails, the async one succeeds differently, and the reverse."""
    url = server.script("/x", Reply(200))
    address = proxy.url("").split("://")[1]
    monkeypatch.setenv("HTTP_PROXY", value.format(port=address.split(":")[1]))
    sync, aio = Transport("requests"), Transport("aiohttp")
    try:
        assert _outcome(aio, url, server, proxy) == _outcome(sync, url, server, proxy)
    finally:
        sync.close()
        aio.close()


def _tunnel_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy: LocalServer) -> str:
    """An https URL whose proxy answers CONNECT with an error (501): requests' ProxyError."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(""))
    return "https://127.0.0.1:9/x"


def _garbage_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy: LocalServer) -> str:
    """An https URL while REQUESTS_CA_BUNDLE names a file that holds no certificate."""
    bundle = tmp_path / "garbage.pem"
    bundle.write_text("not a certificate\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return "https://127.0.0.1:9/x"


@pytest.mark.parametrize("setup", [_tunnel_refused, _garbage_bundle])
def test_a_failure_the_environment_causes_is_the_same_error_type_in_both_transports(
    proxy: LocalServer,
    clean_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    setup: Callable[[Path, pytest.MonkeyPatch, LocalServer], str],
) -> None:
    """``requests`` raises ``SSLError`` and ``ProxyError``, both ``ConnectionError``s, so the
    sync transport raises ``TransportConnectionError``; the async one raises a plain
    ``TransportError`` (aiohttp's ``ClientHttpProxyError`` is a response error; the
    ``ssl.SSLError`` of loading the bundle is raised before aiohttp is called). An
    application or policy that tells connection failures from others acts differently for
    the same broken environment."""
    kinds = failure_types(setup(tmp_path, monkeypatch, proxy))
    assert kinds[0] is kinds[1]
