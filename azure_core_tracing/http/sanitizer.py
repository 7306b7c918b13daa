"""``HttpSanitizer``: redacts URLs, headers and log text before they reach any output.

A client has one sanitizer, made from its ``LogOptions``: its pipeline puts it in the
context of every call (``with_sanitizer``), so a transport, which clients may share, redacts
its errors and urllib3's lines by the rules of the client calling (``from_context``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Optional
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from azure_core_tracing.allowed_names import (
    DEFAULT_ALLOWED_HEADERS,
    DEFAULT_ALLOWED_QUERY_PARAMETERS,
)
from azure_core_tracing.checks import check_names, is_token, type_name
from azure_core_tracing.context import Context, check_context
from azure_core_tracing.http.urls import may_hide_user_info

REDACTED = "REDACTED"

_QUERY_SEPARATORS = re.compile(r"([&;])")  # both separate parameters (HTML 4, many servers)
_TOKEN_SPLIT = re.compile(r"(\s+)")
_PLAIN_URL_CHARACTERS = re.compile(r"[!-~]+")  # printable ASCII: no space, no control character
_MAX_PORT = 65535
_URL_START = re.compile(r"([\"'(<\[]*)[A-Za-z][A-Za-z0-9+.\-]*://")  # a word that is a URL
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
_SANITIZER_KEY = object()  # context key: the sanitizer of the client whose call it is


class HttpSanitizer:
    """Keeps only allow-listed query parameter values and header values; drops URL user info.

    Names match case-insensitively. The fragment of a URL is dropped, and a query parameter
    without a value (``?word``, ``?word=``, ``?dG9rZW4==``) is redacted whole unless its name is
    allowed: it may be a token. A URL is read as RFC 3986 (and
    ``requests``) reads it; one whose authority cannot be read (``http://user:pa/ss@host``,
    where the unencoded ``/`` ends the authority early) becomes ``<scheme>://REDACTED``, and
    so does one whose path, query or fragment may be the rest of a password (an ``@`` after
    a ``:`` with no user info before the host). A user name alone holding ``/``, ``?`` or
    ``#`` cannot be told from a path: percent-encode user info.
    """

    __slots__ = ("_headers", "_last", "_query")

    def __init__(
        self,
        allowed_query_parameters: Optional[Iterable[str]] = None,
        allowed_headers: Optional[Iterable[str]] = None,
    ) -> None:
        query = (
            DEFAULT_ALLOWED_QUERY_PARAMETERS
            if allowed_query_parameters is None
            else check_names(allowed_query_parameters, "allowed_query_parameters")
        )
        headers = (
            DEFAULT_ALLOWED_HEADERS
            if allowed_headers is None
            else check_names(allowed_headers, "allowed_headers")
        )
        self._query = frozenset(name.lower() for name in query)
        self._headers = frozenset(name.lower() for name in headers)
        # The last URL sanitized and its result, one tuple (replaced whole, so threads never
        # see half of it): a retried request, or a client calling one URL, sanitizes it once.
        self._last: tuple[Optional[str], str] = (None, "")

    @staticmethod
    def from_context(context: Optional[Context]) -> HttpSanitizer:
        """The sanitizer of the client whose call ``context`` belongs to (its pipeline puts
        it there), else ``DEFAULT_SANITIZER``: a transport used without a pipeline redacts
        with the default allow-lists."""
        if isinstance(context, Context):
            found = context.get_value(_SANITIZER_KEY)
            return found if isinstance(found, HttpSanitizer) else DEFAULT_SANITIZER
        check_context(context, optional=True)  # None passes; anything else: a TypeError
        return DEFAULT_SANITIZER

    def sanitize_url(self, url: str) -> str:
        """Return ``url`` without user info or fragment, with query values not allowed redacted."""
        last = self._last
        if type(url) is str and url == last[0]:
            return last[1]
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type_name(url)}")
        url = str.__str__(url)  # its text: a str subclass's own methods never decide
        sanitized = self._sanitize_url(url)
        self._last = (url, sanitized)
        return sanitized

    def _sanitize_url(self, url: str) -> str:
        quick = self._sanitize_plain_url(url)
        if quick is not None:
            return quick
        try:
            parts = urlsplit(url)
            _ = parts.port  # raises for a port that is not a number: the authority is unreadable
            readable = bool(parts.hostname) and not may_hide_user_info(url)
        except ValueError:
            readable = False
        if not readable:
            scheme, separator, _ = url.partition("://")
            return f"{scheme}://{REDACTED}" if separator and scheme.isalnum() else REDACTED
        host = parts.netloc.rpartition("@")[2]
        query = self.sanitize_query(parts.query)
        return urlunsplit((parts.scheme, host, parts.path, query, ""))

    def sanitize_query(self, query: str) -> str:
        """Return a query string (no ``?``) with the values of parameters not allowed redacted."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a str, got {type_name(query)}")
        if not query:
            return query
        if ";" not in query:  # the common case: only "&" separates
            return "&".join([self._sanitize_pair(pair) for pair in query.split("&")])
        pieces = _QUERY_SEPARATORS.split(query)
        for index in range(0, len(pieces), 2):  # odd indexes hold the separators
            pieces[index] = self._sanitize_pair(pieces[index])
        return "".join(pieces)

    def shows_header(self, name: str) -> bool:
        """Whether the value of header ``name`` (any case) may appear in telemetry."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type_name(name)}")
        return name.lower() in self._headers

    def sanitize_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return a copy of ``headers`` whose values not allowed are redacted."""
        if not isinstance(headers, Mapping):
            raise TypeError(f"headers must be a mapping of str to str, got {type_name(headers)}")
        sanitized: dict[str, str] = {}
        for name, value in headers.items():
            if not isinstance(name, str):
                raise TypeError(f"headers must have str names, got {type_name(name)}")
            sanitized[name] = value if name.lower() in self._headers else REDACTED
        return sanitized

    def sanitize_header_lines(self, text: str) -> str:
        """Redact header lines as a server sent them (``Name: value``, one a line), such as
        the part of a response another library could not parse: the values not allowed, a
        continuation line as the header it continues, and whole every line that is not a
        header (it may be a value cut from its name)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type_name(text)}")
        lines = _LINE_BREAK.split(text)
        allowed = False
        for index in range(0, len(lines), 2):  # odd indexes hold the line breaks
            line = lines[index]
            if not line:
                continue
            if line[0] in " \t":  # obs-fold: more of the header above
                lines[index] = line if allowed else line[0] + REDACTED
                continue
            name, colon, _ = line.partition(":")
            header = bool(colon) and is_token(name)
            allowed = header and name.lower() in self._headers
            if not allowed:
                lines[index] = f"{name}: {REDACTED}" if header else REDACTED
        return "".join(lines)

    def sanitize_text(self, text: str) -> str:
        """Redact the URLs and request targets in free text, such as another library's log line.

        Every word that starts as a URL is read as one, every other word holding ``?`` or ``@``
        as a request target: a path with a query, where an ``@`` may end the rest of a password
        (so the path up to it, or the whole query holding it, is redacted). The rest is left
        as it is."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type_name(text)}")
        words = _TOKEN_SPLIT.split(text)
        for index in range(0, len(words), 2):
            word = words[index]
            url = _URL_START.match(word)
            if url is not None:
                words[index] = url.group(1) + self.sanitize_url(word[url.end(1) :])
            elif "?" in word or "@" in word:
                path, mark, query = word.partition("?")
                if "@" in path:
                    path = f"{REDACTED}@{path.rpartition('@')[2]}"
                # With no authority in sight, an '@' in a query may end a password: all goes.
                query = REDACTED if "@" in query else self.sanitize_query(query.partition("#")[0])
                words[index] = f"{path}{mark}{query}"
        return "".join(words)

    def _sanitize_plain_url(self, url: str) -> Optional[str]:
        """The sanitized form of the common URL, read without ``urlsplit``: an ASCII http or
        https URL with no user info, fragment, white space, control character or bracket,
        whose port, if any, is a number; None for any other, which the general path reads.
        It returns exactly what the general path would (a property test holds it to that)."""
        if url.startswith("https://"):
            start = 8
        elif url.startswith("http://"):
            start = 7
        else:
            return None
        if not url.isascii() or "@" in url or "#" in url or "[" in url or "]" in url:
            return None
        if not _PLAIN_URL_CHARACTERS.fullmatch(url):
            return None
        query_at = url.find("?", start)
        end = len(url) if query_at < 0 else query_at
        path_at = url.find("/", start, end)
        authority_end = end if path_at < 0 else path_at
        host, colon, port = url[start:authority_end].partition(":")
        if not host or (colon and port and not (port.isdigit() and int(port) <= _MAX_PORT)):
            return None  # the general path decides (an unreadable authority is redacted)
        if query_at < 0:
            return url
        query = self.sanitize_query(url[query_at + 1 :])
        return f"{url[:query_at]}?{query}" if query else url[:query_at]

    def _sanitize_pair(self, pair: str) -> str:
        if not pair:
            return pair
        name, separator, value = pair.partition("=")
        key = unquote_plus(name) if "%" in name or "+" in name else name
        if key.lower() in self._query:
            return pair
        if not separator or not value.strip("="):
            # A bare word, or one ending in base64 padding (``?dG9rZW4=``): it may be a token.
            return REDACTED
        return f"{name}={REDACTED}"


def with_sanitizer(context: Context, sanitizer: HttpSanitizer) -> Context:
    """A child of ``context`` whose call is redacted by ``sanitizer`` (``from_context``)."""
    return context.with_value(_SANITIZER_KEY, sanitizer)


DEFAULT_SANITIZER = HttpSanitizer()
"""The sanitizer with the default allow lists: for a transport used without a pipeline, and
urllib3's lines outside any call."""
