"""What the process environment says about sending to a URL: its proxy, its CA bundle and its
netrc credentials, found as ``requests`` finds them.

``requests`` reads them again for every request: two scans of ``os.environ`` and two
``stat`` calls, a large share of a request's own cost. Here the answers are kept per origin
and kept only while ``os.environ`` compares equal to the copy they were found under, so a
change of the environment between two requests is seen exactly as ``requests`` sees it.
Where ``requests`` asks the system's proxy settings rather than the environment (macOS,
Windows), nothing is kept and ``requests`` is asked every time.
"""

from __future__ import annotations

import netrc
import os
import threading
import urllib.request
from types import SimpleNamespace
from typing import NamedTuple, Optional
from urllib.parse import urlsplit

import requests.auth
import requests.utils

_MAX_ORIGINS = 512

# Keeping answers is only sound where requests decides from os.environ alone.
_KEEPS = getattr(requests.utils, "proxy_bypass", None) is getattr(
    urllib.request, "proxy_bypass_environment", False
) and getattr(requests.utils, "getproxies", None) is getattr(
    urllib.request, "getproxies_environment", False
)
# os.environ's own mapping: compared, not decoded, so a check costs a dict comparison.
_ENVIRON_DATA = getattr(os.environ, "_data", None) if _KEEPS else None


class EnvironmentSettings(NamedTuple):
    """What the environment sets for one origin, as ``requests`` reads it."""

    proxies: dict[str, str]  # requests' get_environ_proxies: never change it
    proxy: Optional[str]  # the one of those requests would use for this origin, with a scheme
    ca_bundle: Optional[str]  # REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE


class _Known(NamedTuple):
    environ: Optional[dict[object, object]]
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
        found = _settings(url, known.ca_bundle)
        if _ENVIRON_DATA is not None:
            if len(known.origins) >= _MAX_ORIGINS:
                known.origins.clear()
            known.origins[origin] = found
    return found


def netrc_credentials(url: str) -> Optional[tuple[str, str]]:
    """The login and password the netrc file holds for ``url``'s host, as ``requests`` finds
    them (``NETRC``, else ``~/.netrc``, else ``~/_netrc``); None if there are none."""
    known = _current()
    path, stamp = _netrc_file(known.netrc_paths)
    if path is None:
        return None
    held = known.netrc[0] if known.netrc else None
    if held is not None and held[0] == stamp:
        parsed = held[1]
    else:
        try:
            parsed = netrc.netrc(path)
        except (netrc.NetrcParseError, OSError):
            parsed = None  # requests skips a file it cannot read or parse
        known.netrc[:] = [(stamp, parsed)]
    host = _hostname(url)
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
    netloc = _netloc(url)
    if "@" not in netloc:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{netloc.rpartition('@')[2]}{rest[len(netloc) :]}"


def basic_authorization(user: str, password: str) -> str:
    """An ``Authorization: Basic`` value, encoded exactly as ``requests`` encodes it."""
    carrier = SimpleNamespace(headers={})
    requests.auth.HTTPBasicAuth(user, password)(carrier)
    value: str = carrier.headers["Authorization"]
    return value


def _current() -> _Known:
    known = _known[0] if _known else None
    if known is not None and _ENVIRON_DATA is not None and known.environ == _ENVIRON_DATA:
        return known
    with _lock:
        known = _known[0] if _known else None
        if known is None or _ENVIRON_DATA is None or known.environ != _ENVIRON_DATA:
            known = _Known(
                dict(_ENVIRON_DATA) if _ENVIRON_DATA is not None else None,
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
                _netrc_paths(),
                {},
                [],
            )
            _known[:] = [known]
        return known


def _settings(url: str, ca_bundle: Optional[str]) -> EnvironmentSettings:
    proxies = requests.utils.get_environ_proxies(url)
    proxy = requests.utils.select_proxy(url, proxies) if proxies else None
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"  # as requests reads it
    return EnvironmentSettings(proxies, proxy or None, ca_bundle)


def _netrc_paths() -> tuple[str, ...]:
    named = os.environ.get("NETRC")
    locations = (
        (named,) if named is not None else tuple(f"~/{f}" for f in requests.utils.NETRC_FILES)
    )
    paths = []
    for location in locations:
        try:
            paths.append(os.path.expanduser(location))
        except KeyError:  # no HOME and no password database entry
            break
    return tuple(paths)


def _netrc_file(paths: tuple[str, ...]) -> tuple[Optional[str], object]:
    """The first of ``paths`` that exists (requests' choice) and a stamp of its state."""
    for path in paths:
        try:
            status = os.stat(path)
        except (OSError, ValueError):
            continue
        return path, (path, status.st_ino, status.st_dev, status.st_mtime_ns, status.st_size)
    return None, None


def _netloc(url: str) -> str:
    rest = url.partition("://")[2]
    end = len(rest)
    for delimiter in "/?#":
        at = rest.find(delimiter, 0, end)
        if at != -1:
            end = at
    return rest[:end]


def _origin(url: str) -> str:
    """Scheme and host[:port]: all that requests' proxy choice depends on."""
    return f"{url.partition('://')[0].lower()}://{_netloc(url).rpartition('@')[2]}"


def _hostname(url: str) -> Optional[str]:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
