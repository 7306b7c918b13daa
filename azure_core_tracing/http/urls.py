"""The URL rules, in one place: what URL a ``Request`` takes (``check_url``), where its
authority is (``authority_bounds``), and whether its user info may hide past the authority
(``may_hide_user_info``), as RFC 3986, ``requests`` and ``aiohttp`` read it."""

from __future__ import annotations

import ipaddress
import re
from typing import Optional
from urllib.parse import unquote, urlsplit

import idna

from azure_core_tracing.checks import is_unicode, type_name


def authority_bounds(url: str) -> tuple[int, int]:
    """The start and end of ``url``'s authority: after ``//``, up to the first ``/``, ``?`` or
    ``#``; an empty span at the end of ``url`` where it has no ``//``."""
    start = url.find("//")
    if start < 0:
        return len(url), len(url)
    start += 2
    end = len(url)
    for delimiter in "/?#":
        at = url.find(delimiter, start, end)
        if at != -1:
            end = at
    return start, end


def may_hide_user_info(url: str) -> bool:
    """Whether the part after the authority may be the rest of a user name and password.

    In ``http://user:123/pass@host/`` and ``http://us/er:pass@host/`` RFC 3986 reads a host
    (and a port) followed by a path, because an unencoded ``/``, ``?`` or ``#`` ends the
    authority; an ``@`` after a ``:`` (or after user info already read) says it was meant
    as user info."""
    start, end = authority_bounds(url)
    authority, rest = url[start:end], url[end:]
    if "@" not in rest:
        return False
    return "@" in authority or ":" in authority or ":" in rest[: rest.rindex("@")]


# Characters requests would percent-encode or http.client reject: never let one reach them.
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_url(url: object) -> str:
    """Return ``url`` as a plain ``str`` if it is an absolute http or https URL with a host and
    port that every transport reads alike (RFC 3986 and DNS rules; what ``requests`` and
    ``aiohttp`` send to).

    The error names what is wrong but never repeats the URL, which may hold a secret."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, got {type_name(url)}")
    # Its text, never a str subclass whose own methods could answer otherwise to the checks,
    # the sanitizer or a transport.
    url = str.__str__(url)
    if _URL_CONTROL.search(url):
        raise ValueError("url must not contain control characters (CR, LF, NUL, tab, ...)")
    if not is_unicode(url):
        raise ValueError("url must be text that can be written as UTF-8 (no lone surrogate)")
    problem = _url_problem(url)
    if problem:  # raised here, not where it was found, so no chained error repeats the URL
        raise ValueError(f"url: {problem}")
    return url


def _url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return _UNREADABLE
    if parts.scheme not in ("http", "https"):
        shown = repr(parts.scheme) if parts.scheme.isalpha() and len(parts.scheme) < 16 else "none"
        return f"must be an absolute http or https URL, got the scheme {shown}"
    start, end = authority_bounds(url)
    if "\\" in url[start:end]:
        return "a '\\' in the host part is read differently by different libraries"
    host_port = parts.netloc.rpartition("@")[2]
    host, port = _split_port(host_port)
    if port is None:
        return f"the port must be a number from 0 to 65535 ({_ENCODE_USER_INFO})"
    if not _is_host(host):
        return (
            "must have a host: an IP address, or a DNS name whose labels are 1 to 63 letters, "
            "digits, '-' or '_' (or an IDNA name)"
        )
    try:
        for part in (parts.username, parts.password):
            if part:
                unquote(part).encode("latin-1")
    except UnicodeEncodeError:
        return "the user name and password must be Latin-1 text (sent as Basic authentication)"
    return ""


_ENCODE_USER_INFO = "a user name or password holding '/', '?', '#' or '@' must be percent-encoded"
_UNREADABLE = f"its host and port cannot be read; {_ENCODE_USER_INFO}"
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")


def _split_port(host_port: str) -> tuple[str, Optional[str]]:
    """The host and the port text ('' when absent); None for the port when it is no number."""
    if host_port.startswith("["):
        host, bracket, rest = host_port[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return "", None
        port = rest[1:]
        host = f"[{host}]"
    else:
        host, _, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    if port and (not port.isascii() or not port.isdigit() or int(port) > 65535):
        return host, None
    return host, port


def _is_host(host: str) -> bool:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1].partition("%")[0])
        except ValueError:
            return False
        return True
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if all(label.isdigit() for label in labels):  # what resolvers read as an IPv4 address
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return False
        return True
    if name.isascii() and "xn--" not in name.lower():
        return all(_LABEL.fullmatch(label) is not None for label in labels)
    try:
        # Strict IDNA 2008, as urllib3 (under requests) encodes a host; yarl also maps UTS 46
        # lookalikes (full-width letters, Roman numerals) that urllib3 refuses: refused here.
        idna.encode(name.lower(), strict=True, std3_rules=True)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True
