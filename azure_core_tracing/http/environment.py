"""What the process environment says about sending to a URL: its proxy, its CA bundle and its
netrc credentials, found as ``requests`` finds them.

``requests`` reads them again for every request: two scans of ``os.environ`` and two
``stat`` calls, a large share of a request's own cost. Here the answers are kept per origin
and kept only while ``os.environ`` compares equal to the copy they were read from, so a
change of the environment between two requests is seen exactly as ``requests`` sees it. An
answer is kept only if ``requests``' own answer agrees with the one read from the copy: one
computed while another thread changed ``os.environ`` (and put it back) is used once, not kept.
Where ``requests`` asks the system's proxy settings rather than the environment (macOS,
Windows), or ``os.environ`` is not a plain mapping of text, nothing is kept and ``requests``
is asked every time.
"""

from __future__ import annotations

import functools
import netrc
import operator
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any, NamedTuple, Optional
from urllib.parse import urlsplit

import requests.auth
import requests.exceptions
import requests.utils
import urllib3.exceptions
import urllib3.util

from azure_core_tracing.headers import AUTHORIZATION
from azure_core_tracing.http import environ_rules
from azure_core_tracing.http.urls import authority_bounds

_MAX_ORIGINS = 512

# Keeping answers is only sound where requests decides from os.environ alone.
_KEEPS = getattr(requests.utils, "proxy_bypass", None) is getattr(
    urllib.request, "proxy_bypass_environment", False
) and getattr(requests.utils, "getproxies", None) is getattr(
    urllib.request, "getproxies_environment", False
)
_ENVIRON_TYPE = type(os.environ)
_PROXY_PORTS = {"http": 80, "https": 443}  # the schemes urllib3's ProxyManager speaks
_prepend_scheme: Callable[[str, str], str] = requests.utils.prepend_scheme_if_needed
# A file changed this recently may change again with its stat as it was: file system clocks
# tick coarsely (a jiffy on Linux, 2 s on FAT), and a copy may put the times back.
_SETTLE_NS = 3_000_000_000


class EnvironmentSettings(NamedTuple):
    """What the environment sets for one origin, as ``requests`` reads it."""

    proxies: dict[str, str]  # requests' get_environ_proxies: never change it
    proxy: Optional[str]  # the one of those requests would use for this origin (proxy_route)
    ca_bundle: Optional[str]  # REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE


class ProxyRoute(NamedTuple):
    """A proxy as ``requests`` reaches it: where urllib3 connects, and what it sends there."""

    scheme: str  # http or https
    host: str  # as urllib3 reads it: lower case, IDNA, an IPv6 address in brackets
    port: int  # urllib3's default for the scheme where the URL gives none
    authorization: Optional[str]  # the Proxy-Authorization requests sends; None: none

    def __repr__(self) -> str:  # the credentials stay out of any log or traceback
        hidden = None if self.authorization is None else "<hidden>"
        return f"ProxyRoute({self.scheme!r}, {self.host!r}, {self.port!r}, {hidden})"


class FileVersion(NamedTuple):
    """What ``os.stat`` says of a file."""

    stamp: tuple[object, ...]  # differs whenever the content may differ
    settled: bool  # unchanged for long enough that a later change must change the stamp
    mode: int  # st_mode: a directory's stamp does not follow the files in it


class _Known(NamedTuple):
    environ: Optional[dict[Any, Any]]  # the copy compared on every call; None: nothing is kept
    decoded: Mapping[str, str]  # the same, as os.environ shows it
    ca_bundle: Optional[str]
    netrc_paths: tuple[str, ...]
    origins: dict[str, EnvironmentSettings]
    netrc: list[tuple[object, Optional[netrc.netrc]]]  # [(stat stamp, parsed file)]


_lock = threading.Lock()
_known: list[_Known] = []  # the one current _Known, replaced whole when the environment changes


def settings_for(url: str) -> EnvironmentSettings:
    """The environment's proxy settings for ``url``'s origin and its CA bundle."""
    known = _current()
    origin = _origin(url)
    found = known.origins.get(origin)
    if found is None:
        sent = _as_sent(url)  # NO_PROXY is matched against the IDNA host requests sends to
        proxies = requests.utils.get_environ_proxies(sent)  # os.environ as it is now
        found = _settings(sent, proxies, known.ca_bundle)
        if known.environ is not None and _agrees(sent, known.decoded, proxies):
            if len(known.origins) >= _MAX_ORIGINS:
                known.origins.clear()
            known.origins[origin] = found
    return found


@functools.lru_cache(maxsize=64)
def proxy_route(proxy: str) -> ProxyRoute:
    """How ``requests`` reaches ``proxy`` (an ``EnvironmentSettings.proxy``): read by
    requests' HTTPAdapter rules, ``http://`` put before a value with no scheme. Raises the
    error ``requests`` raises where it refuses it: ``InvalidProxyURL`` (no host),
    ``InvalidURL`` (unreadable, or neither http nor https), ``InvalidSchema`` (SOCKS, which
    needs PySocks there and cannot be spoken here), ``UnicodeEncodeError`` (credentials that
    are not Latin-1)."""
    try:
        spelled = _prepend_scheme(proxy, "http")
        parsed = urllib3.util.parse_url(spelled)
    except urllib3.exceptions.LocationValueError:  # its message repeats the URL, secrets too
        raise requests.exceptions.InvalidURL("the proxy URL cannot be read") from None
    if not parsed.host:
        raise requests.exceptions.InvalidProxyURL(
            "Please check proxy URL. It is malformed and could be missing the host."
        )
    scheme = (parsed.scheme or "http").lower()
    if spelled.lower().startswith("socks"):
        raise requests.exceptions.InvalidSchema(f"a SOCKS proxy ({scheme}) is not supported")
    user, password = requests.utils.get_auth_from_url(spelled)  # before the scheme, as requests
    authorization = basic_authorization(user, password) if user else None
    if scheme not in _PROXY_PORTS:
        raise requests.exceptions.InvalidURL(f"a proxy's scheme is http or https, not {scheme}")
    port = _PROXY_PORTS[scheme] if parsed.port is None else parsed.port
    return ProxyRoute(scheme, parsed.host, port, authorization)


def netrc_credentials(url: str) -> Optional[tuple[str, str]]:
    """The login and password the netrc file holds for ``url``'s host, as ``requests`` finds
    them (``NETRC``, else ``~/.netrc``, else ``~/_netrc``); None if there are none."""
    known = _current()
    path, version = _netrc_file(known.netrc_paths)
    if path is None or version is None:
        return None
    held = known.netrc[0] if known.netrc else None
    if held is not None and held[0] == version.stamp:
        parsed = held[1]
    else:
        try:
            parsed = netrc.netrc(path)
        except (netrc.NetrcParseError, OSError):
            parsed = None  # requests skips a file it cannot read or parse
        known.netrc[:] = [(version.stamp, parsed)] if version.settled else []
    host = _hostname(url)  # as requests looks it up: the URL as given, not as prepared
    if parsed is None or host is None:
        return None
    entry = parsed.authenticators(host)
    if entry and any(entry):
        return (entry[0] or entry[1] or "", entry[2] or "")
    return None


def user_info_credentials(url: str) -> Optional[tuple[str, str]]:
    """The user name and password in ``url``, percent-decoded, as ``requests`` sends them;
    None if it holds none."""
    if "@" not in _netloc(url):
        return None
    credentials = requests.utils.get_auth_from_url(url)
    return credentials if any(credentials) else None


def without_user_info(url: str) -> str:
    """``url`` with any user info taken out of its authority."""
    start, end = authority_bounds(url)
    at = url.rfind("@", start, end)
    return url if at == -1 else url[:start] + url[at + 1 :]


def file_version(path: str) -> FileVersion:
    """The version of the file at ``path`` (following links), so a file rewritten in place
    with its size and times put back is a new version. Raises ``OSError`` if ``path`` cannot
    be read."""
    return _version(path, os.stat(path))


def basic_authorization(user: str, password: str) -> str:
    """An ``Authorization: Basic`` value, encoded exactly as ``requests`` encodes it."""
    carrier = SimpleNamespace(headers={})
    requests.auth.HTTPBasicAuth(user, password)(carrier)
    value: str = carrier.headers[AUTHORIZATION]
    return value


def _current() -> _Known:
    environ = os.environ  # looked up afresh: mock.patch and monkeypatch replace it whole
    data = _data(environ)
    known = _known[0] if _known else None
    if known is not None and data is not None and known.environ == data:
        return known
    if data is None:  # nothing is kept: os.environ as it is, every time
        return _known_from(None, environ)
    with _lock:
        known = _known[0] if _known else None
        if known is None or known.environ != data:
            copy = dict(data)
            decoded = _decoded(environ, copy)
            known = _known_from(None, environ) if decoded is None else _known_from(copy, decoded)
            _known[:] = [known]
        return known


def _data(environ: Mapping[str, str]) -> Optional[dict[Any, Any]]:
    """The dict behind ``environ``, compared on every call; None where nothing can be kept."""
    if not _KEEPS:
        return None
    # os.environ's encoded mapping: compared, not decoded, so a check costs a dict comparison.
    data = getattr(environ, "_data", None) if type(environ) is _ENVIRON_TYPE else environ
    return data if type(data) is dict else None


def _decoded(environ: Any, copy: dict[Any, Any]) -> Optional[dict[str, str]]:
    """``copy`` of ``environ``'s dict as ``environ`` shows it; None if that is not all text."""
    if type(environ) is _ENVIRON_TYPE:
        decode_key, decode_value = environ.decodekey, environ.decodevalue
        copy = {decode_key(key): decode_value(value) for key, value in copy.items()}
    if all(type(key) is str and type(value) is str for key, value in copy.items()):
        return copy
    return None


def _known_from(copy: Optional[dict[Any, Any]], decoded: Mapping[str, str]) -> _Known:
    return _Known(
        copy,
        decoded,
        environ_rules.ca_bundle(decoded),
        environ_rules.netrc_locations(decoded),
        {},
        [],
    )


def _agrees(url: str, decoded: Mapping[str, str], proxies: dict[str, str]) -> bool:
    """Whether requests' answer is the one the copy gives: if another thread changed
    ``os.environ`` meanwhile (even and put it back), it may not be, and is not kept."""
    try:
        return environ_rules.environ_proxies(url, decoded) == proxies
    except Exception:  # a URL or value requests read without failing: ask requests again
        return False


def _settings(url: str, proxies: dict[str, str], ca_bundle: Optional[str]) -> EnvironmentSettings:
    proxy = requests.utils.select_proxy(url, proxies) if proxies else None
    return EnvironmentSettings(proxies, proxy or None, ca_bundle)


def _netrc_file(paths: tuple[str, ...]) -> tuple[Optional[str], Optional[FileVersion]]:
    """The first of ``paths`` that exists (requests' choice) and its version."""
    for path in paths:
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            continue
        return path, _version(path, status)
    return None, None


def _version(path: str, status: os.stat_result) -> FileVersion:
    stamp = (path, *_stat_stamp(status))
    settled = status.st_ctime_ns < time.time_ns() - _SETTLE_NS
    return FileVersion(stamp, settled, status.st_mode)


# The change time cannot be put back (os.utime sets it to now), unlike the modification time.
_stat_stamp = operator.attrgetter(
    "st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns", "st_mode"
)


def _as_sent(url: str) -> str:
    """``url`` as ``requests`` prepares it to send, its host IDNA-encoded; as it is if
    ``requests`` refuses it (the transport then fails on its own)."""
    if url.isascii():
        return url
    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url, None)
    except (requests.RequestException, ValueError):
        return url
    return prepared.url or url


def _netloc(url: str) -> str:
    start, end = authority_bounds(url)
    return url[start:end]


def _origin(url: str) -> str:
    """Scheme and host[:port]: all that requests' proxy choice depends on."""
    return f"{url.partition('://')[0].lower()}://{_netloc(url).rpartition('@')[2]}"


def _hostname(url: str) -> Optional[str]:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
