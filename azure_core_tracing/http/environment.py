"""What the process environment says about sending to a URL: its proxy, its CA bundle and its
netrc credentials, as ``requests`` decides them.

``requests`` reads them again for every request: two scans of ``os.environ`` and two
``stat`` calls, a large share of a request's own cost. Here requests' own functions decide
(``Session.merge_environment_settings``, ``utils.select_proxy``, ``utils.get_netrc_auth``),
and their answers are kept per origin (and per netrc file version and authority) for as long
as ``os.environ`` is as it was when they were computed: the same object, its dict equal to a
copy taken then, and no change made through it since, as an audit hook counts them
(``os.putenv``, ``os.unsetenv``). So a change between two requests is seen exactly as
``requests`` sees it, and an answer computed while another thread changed the environment
(even if it put it back) serves that call only. Where requests asks the system's proxy
settings rather than the environment (macOS, Windows), where ``os.environ`` has been replaced
by another mapping, or where the hook cannot be added, nothing is kept and requests is asked
every time.
"""

from __future__ import annotations

import functools
import operator
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, NamedTuple, Optional, TypeVar

import requests
import requests.auth
import requests.exceptions
import requests.utils
import urllib3.exceptions
import urllib3.util

from azure_core_tracing.headers import AUTHORIZATION
from azure_core_tracing.http.urls import authority_bounds

_K = TypeVar("_K")
_V = TypeVar("_V")

_MAX_ANSWERS = 512  # of each kind, for one state of the environment

# Keeping answers is only sound where requests decides from os.environ alone.
_KEEPS = getattr(requests.utils, "proxy_bypass", None) is getattr(
    urllib.request, "proxy_bypass_environment", False
) and getattr(requests.utils, "getproxies", None) is getattr(
    urllib.request, "getproxies_environment", False
)
_ENVIRON_TYPE = type(os.environ)
_CHANGE_EVENTS = frozenset({"os.putenv", "os.unsetenv"})  # raised by every os.environ change
_HOOKED_EVENT = "azure_core_tracing.http.environment.hooked"
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


class _Kept(NamedTuple):
    """The answers kept for one state of the environment."""

    environ: object  # os.environ then: mock.patch and monkeypatch replace it whole
    data: dict[Any, Any]  # a copy of its dict, compared on every call
    changes: int  # _changes before it was read: any change since ends it
    netrc_paths: tuple[str, ...]  # where requests looks for a netrc file, in its order
    origins: dict[str, EnvironmentSettings]
    netrc: dict[tuple[object, str], Optional[tuple[str, str]]]  # by (file stamp, authority)


_lock = threading.Lock()
_kept: Optional[_Kept] = None
_changes = 0  # changes made through os.environ, as the audit hook counts them
_hooked = False  # whether the hook is in place (another hook may refuse it)
_hook_tried = False


def settings_for(url: str) -> EnvironmentSettings:
    """The environment's proxy settings for ``url``'s origin and its CA bundle."""
    kept = _current()
    origin = _origin(url)
    found = None if kept is None else kept.origins.get(origin)
    if found is None:
        found = _settings(_as_sent(url))  # NO_PROXY is matched against the host as sent
        if kept is not None:
            _keep(kept, kept.origins, origin, found)
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
    """The login and password the netrc file holds for ``url``'s host, as requests'
    ``get_netrc_auth`` finds them (``NETRC``, else ``~/.netrc``, else ``~/_netrc``); None if
    there are none."""
    # Asked without the user info: before 2.32.4, requests took the authority up to its first
    # ":" for the host, so "http://bank:@elsewhere/" found the bank's (CVE-2024-47081).
    url = without_user_info(url) if "@" in url else url
    kept = _current()
    if kept is None:
        return requests.utils.get_netrc_auth(url)
    version = _first_file(kept.netrc_paths)
    if version is None:
        return None  # no file where requests looks: it finds none either
    key = (version.stamp, _netloc(url))  # all of the URL that get_netrc_auth reads
    try:
        return kept.netrc[key]
    except KeyError:
        pass
    found = requests.utils.get_netrc_auth(url)
    if version.settled:  # else the file may change again within the same stamp
        _keep(kept, kept.netrc, key, found)
    return found


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


def _current() -> Optional[_Kept]:
    """The answers kept for ``os.environ`` as it is; None where none can be kept."""
    environ = os.environ  # looked up afresh: mock.patch and monkeypatch replace it whole
    kept = _kept
    if kept is not None and _holds(kept, environ):
        return kept
    if not _KEEPS or type(environ) is not _ENVIRON_TYPE:
        return None
    return _renewed(environ)


def _holds(kept: _Kept, environ: object) -> bool:
    """Whether ``environ`` is still the environment ``kept`` was read from."""
    return (
        kept.changes == _changes
        and kept.environ is environ
        and getattr(environ, "_data", None) == kept.data
    )


def _renewed(environ: object) -> Optional[_Kept]:
    global _kept  # noqa: PLW0603 - the one state kept, replaced whole under the lock
    with _lock:
        kept = _kept
        if kept is not None and _holds(kept, environ):
            return kept  # another thread renewed it meanwhile
        if not _hook_tried:
            _add_hook()
        changes = _changes  # read first: a change from here on ends what is read below
        data = getattr(environ, "_data", None)
        if not _hooked or type(data) is not dict:
            return None
        _kept = _Kept(environ, dict(data), changes, _netrc_locations(), {}, {})
        return _kept


def _keep(kept: _Kept, answers: dict[_K, _V], key: _K, value: _V) -> None:
    """Keep ``value`` unless the environment changed while it was computed."""
    if kept.changes == _changes:
        if len(answers) >= _MAX_ANSWERS:
            answers.clear()
        answers[key] = value


def _count(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook counting the changes made through ``os.environ``; kept to a set lookup,
    as it sees every audit event of the process."""
    global _changes, _hooked  # noqa: PLW0603 - the hook's only way to report
    if event in _CHANGE_EVENTS:
        _changes += 1
    elif event == _HOOKED_EVENT:
        _hooked = True


def _add_hook() -> None:
    global _hook_tried  # noqa: PLW0603 - tried once per process
    _hook_tried = True
    try:
        sys.addaudithook(_count)  # a hook already there may refuse it, silently or not
    except Exception:  # refused: nothing is kept
        return
    sys.audit(_HOOKED_EVENT)  # seen by _count only if it was added


@functools.lru_cache(maxsize=1)
def _defaults() -> requests.Session:
    """A session as requests makes one: what it reads from the environment is all it adds."""
    return requests.Session()


def _settings(url: str) -> EnvironmentSettings:
    """requests' own reading of the environment for ``url``, a default session's."""
    merged = _defaults().merge_environment_settings(url, {}, None, True, None)
    proxies = dict(merged["proxies"])
    proxy = requests.utils.select_proxy(url, proxies) if proxies else None
    verify = merged["verify"]
    return EnvironmentSettings(proxies, proxy or None, verify if isinstance(verify, str) else None)


def _netrc_locations() -> tuple[str, ...]:
    """Where requests' ``get_netrc_auth`` looks for the file, in its order."""
    named = os.environ.get("NETRC")
    names = (named,) if named is not None else [f"~/{f}" for f in requests.utils.NETRC_FILES]
    return tuple(os.path.expanduser(name) for name in names)


def _first_file(paths: tuple[str, ...]) -> Optional[FileVersion]:
    """The version of the first of ``paths`` that exists: the file requests reads."""
    for path in paths:
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            continue
        return _version(path, status)
    return None


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
