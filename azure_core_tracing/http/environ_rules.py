"""``requests``' rules for what the environment says about a URL (its proxies, the CA bundle,
where the netrc file is), applied to a given mapping instead of ``os.environ``.

``requests`` reads ``os.environ`` afresh each time it looks, so an answer it gives may mix two
states of an environment another thread is changing. Read from one copy, an answer belongs
to that copy, and can be kept for as long as ``os.environ`` compares equal to it.
"""

from __future__ import annotations

import os
import re
import socket
import urllib.request
from collections.abc import Callable, Mapping
from typing import Optional
from urllib.parse import urlparse

import requests
import requests.utils

# requests 2.34 matches a NO_PROXY name on a label boundary (".example.com" and "example.com"
# match example.com and its subdomains, not notexample.com); earlier ones by suffix alone.
_VERSION = re.match(r"(\d+)\.(\d+)", requests.__version__)
_BY_LABEL = _VERSION is not None and (int(_VERSION[1]), int(_VERSION[2])) >= (2, 34)

# urllib's NO_PROXY rules, given the proxies to read them from (left out of typeshed).
_proxy_bypass_environment: Callable[[str, dict[str, str]], object] = (
    urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
)


def environ_proxies(url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``requests.utils.get_environ_proxies(url)`` as it answers while ``os.environ`` is
    ``environ``."""
    proxies = _proxy_variables(environ)
    return {} if _bypassed(url, environ, proxies) else proxies


def ca_bundle(environ: Mapping[str, str]) -> Optional[str]:
    """The CA bundle ``requests`` trusts when ``verify`` is left as it is: ``REQUESTS_CA_BUNDLE``,
    else ``CURL_CA_BUNDLE``; None for certifi's."""
    return environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or None


def netrc_locations(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Where ``requests`` looks for a netrc file, in its order: ``NETRC``, else ``~/.netrc`` and
    ``~/_netrc``, with ``~`` read from ``environ``'s ``HOME``."""
    named = environ.get("NETRC")
    locations = (
        (named,) if named is not None else tuple(f"~/{f}" for f in requests.utils.NETRC_FILES)
    )
    return tuple(_expanded(location, environ) for location in locations)


def _proxy_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """``urllib.request.getproxies_environment()``: every ``<scheme>_proxy`` in any case, a
    lower-case name winning (an empty one removes the scheme); under CGI (``REQUEST_METHOD``)
    only a lower-case ``http_proxy`` counts, since a client can set ``HTTP_PROXY``."""
    proxies: dict[str, str] = {}
    named = []
    for name, value in environ.items():
        if len(name) > 5 and name[-6] == "_" and name[-5:].lower() == "proxy":
            scheme = name[:-6].lower()
            named.append((name, value, scheme))
            if value:
                proxies[scheme] = value
    if "REQUEST_METHOD" in environ:
        proxies.pop("http", None)
    for name, value, scheme in named:
        if name[-6:] == "_proxy":
            if value:
                proxies[scheme] = value
            else:
                proxies.pop(scheme, None)
    return proxies


def _bypassed(url: str, environ: Mapping[str, str], proxies: dict[str, str]) -> bool:
    """``requests.utils.should_bypass_proxies(url, None)``: ``NO_PROXY`` by requests' own rules
    (CIDR blocks, host names with or without the port), then by urllib's."""
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    parsed = urlparse(url)
    hostname = parsed.hostname
    if hostname is None:
        return True
    if no_proxy:
        entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
        if requests.utils.is_ipv4_address(hostname):
            for entry in entries:
                if requests.utils.is_valid_cidr(entry):
                    if requests.utils.address_in_network(hostname, entry):
                        return True
                elif hostname == entry:
                    return True
        else:
            with_port = f"{hostname}:{parsed.port}" if parsed.port else hostname
            if any(_matches(entry, hostname, with_port) for entry in entries):
                return True
    try:
        return bool(_proxy_bypass_environment(hostname, proxies))
    except (TypeError, socket.gaierror):
        return False


def _matches(entry: str, hostname: str, with_port: str) -> bool:
    """Whether a ``NO_PROXY`` name matches a host (with its port, or without), by requests'
    rule: on a label boundary since 2.34, by suffix alone before."""
    if not _BY_LABEL:
        return hostname.endswith(entry) or with_port.endswith(entry)
    bare = entry.lstrip(".")
    suffix = "." + bare
    return bare in (hostname, with_port) or hostname.endswith(suffix) or with_port.endswith(suffix)


def _expanded(location: str, environ: Mapping[str, str]) -> str:
    """``os.path.expanduser(location)``, with ``HOME`` read from ``environ``."""
    end = location.find("/", 1)
    end = len(location) if end == -1 else end
    if os.name != "posix" or not location.startswith("~") or end != 1:
        return os.path.expanduser(location)  # no ~, or ~user: not the environment's to say
    home = environ.get("HOME")
    if home is None:
        import pwd  # noqa: PLC0415 - POSIX only, as this branch

        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:  # no password database entry either: left as it is
            return location
    return (home.rstrip("/") + location[end:]) or "/"
