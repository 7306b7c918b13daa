from __future__ import annotations

import re
import threading
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing import Context
from azure_core_tracing.http import HttpSanitizer
from azure_core_tracing.http.sanitizer import DEFAULT_SANITIZER, with_sanitizer
from azure_core_tracing.http.urls import may_hide_user_info


def test_only_allowed_query_values_survive() -> None:
    url = "https://acct.blob.core.windows.net/c/b?sig=SECRET&api-version=2024-01-01&se=2030"
    assert HttpSanitizer().sanitize_url(url) == (
        "https://acct.blob.core.windows.net/c/b?sig=REDACTED&api-version=2024-01-01&se=REDACTED"
    )


def test_query_names_match_case_insensitively_and_custom_lists_apply() -> None:
    sanitizer = HttpSanitizer(allowed_query_parameters={"Comp"})
    assert sanitizer.sanitize_url("http://h/p?comp=list&API-VERSION=1") == (
        "http://h/p?comp=list&API-VERSION=REDACTED"
    )
    assert HttpSanitizer().sanitize_url("http://h/?Api-Version=1") == "http://h/?Api-Version=1"


def test_user_info_and_fragment_are_never_kept() -> None:
    out = HttpSanitizer().sanitize_url("https://user:p%40ss@host:8443/path?x=1#token=abc")
    assert out == "https://host:8443/path?x=REDACTED"


def test_a_bare_query_word_is_redacted_unless_allowed_and_empty_parts_are_kept() -> None:
    # A word without '=' may be a token itself (``?SECRETTOKEN``): only an allowed name stays.
    assert HttpSanitizer().sanitize_url("http://h/p?SECRET") == "http://h/p?REDACTED"
    assert HttpSanitizer().sanitize_url("http://h/p?api-version&&x") == (
        "http://h/p?api-version&&REDACTED"
    )
    assert HttpSanitizer().sanitize_url("http://h/p") == "http://h/p"
    assert HttpSanitizer().sanitize_url("http://h/p?") == "http://h/p"


def test_an_unreadable_authority_is_fully_redacted() -> None:
    assert HttpSanitizer().sanitize_url("http://[::1/broken") == "http://REDACTED"
    assert HttpSanitizer().sanitize_url("SECRET") == "REDACTED"


def test_headers_not_on_the_allow_list_are_redacted_case_insensitively() -> None:
    headers = {"Authorization": "Bearer t0k3n", "content-type": "json", "X-MS-DATE": "today"}
    assert HttpSanitizer().sanitize_headers(headers) == {
        "Authorization": "REDACTED",
        "content-type": "json",
        "X-MS-DATE": "today",
    }


def test_custom_header_allow_list_replaces_the_default() -> None:
    sanitizer = HttpSanitizer(allowed_headers={"X-Custom"})
    assert sanitizer.sanitize_headers({"x-custom": "v", "Content-Type": "json"}) == {
        "x-custom": "v",
        "Content-Type": "REDACTED",
    }


def test_a_single_string_is_not_taken_as_a_list_of_names() -> None:
    with pytest.raises(TypeError, match="allowed_query_parameters"):
        HttpSanitizer(allowed_query_parameters="api-version")


# The general reading (urlsplit, then the same redaction), the one a URL the quick reading
# passes over gets: the quick reading of plain URLs must agree with it exactly, whatever the URL.
def _reference_sanitize_url(sanitizer: HttpSanitizer, url: str) -> str:
    try:
        parts = urlsplit(url)
        _ = parts.port
        readable = bool(parts.hostname) and not may_hide_user_info(url)
    except ValueError:
        readable = False
    if not readable:
        scheme, separator, _ = url.partition("://")
        return f"{scheme}://REDACTED" if separator and scheme.isalnum() else "REDACTED"
    host = parts.netloc.rpartition("@")[2]
    pieces = re.split(r"([&;])", parts.query) if parts.query else []
    for index in range(0, len(pieces), 2):
        pair = pieces[index]
        if not pair:
            continue
        name, separator, value = pair.partition("=")
        if unquote_plus(name).lower() in {"api-version", "comp", "restype"}:
            continue
        pieces[index] = "REDACTED" if not separator or not value.strip("=") else f"{name}=REDACTED"
    return urlunsplit((parts.scheme, host, parts.path, "".join(pieces), ""))


_URL_PIECES = st.sampled_from(
    [*"aZ09-._~/?#&;=%+:@[] \t\\", "%41", "%2B", "comp", "COMP", "sig", "api-version", "://"]
)


@settings(max_examples=600)
@given(
    scheme=st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "https:/", ""]),
    host=st.sampled_from(["h", "acct.blob.core.windows.net", "", "[::1]", "H.Example", "é.fr"]),
    port=st.sampled_from(["", ":", ":443", ":65535", ":65536", ":1_0", ":+80", ":8a", ":٣"]),
    rest=st.lists(_URL_PIECES, max_size=12).map("".join),
)
def test_the_quick_reading_of_plain_urls_agrees_with_the_general_one(
    scheme: str, host: str, port: str, rest: str
) -> None:
    sanitizer = HttpSanitizer(allowed_query_parameters=["api-version", "comp", "restype"])
    url = f"{scheme}{host}{port}{rest}"
    assert sanitizer.sanitize_url(url) == _reference_sanitize_url(sanitizer, url)


class _EqualToAnyUrl(str):
    """A str subclass that claims to equal every string."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


@settings(max_examples=300)
@given(urls=st.lists(st.lists(_URL_PIECES, max_size=8).map("https://h/".join), max_size=6))
def test_the_memo_of_the_last_url_never_answers_for_another_url(urls: list[str]) -> None:
    """One sanitizer keeps the last URL it read: each answer is still that of a sanitizer
    that never read a URL before, in any order, and the empty string is not taken for the
    unset memo."""
    shared = HttpSanitizer()
    for url in [*urls, "", *reversed(urls), ""]:
        assert shared.sanitize_url(url) == HttpSanitizer().sanitize_url(url)
    shared.sanitize_url("https://h/?sig=SECRET")
    assert shared.sanitize_url(_EqualToAnyUrl("https://h/?sas=OTHER")) == "https://h/?sas=REDACTED"


class _Text(str):
    """A str subclass URL (its methods are str's own)."""


def test_the_last_url_memo_answers_right_under_many_threads() -> None:
    """One sanitizer shared by many threads, each alternating between URLs (secrets, str
    subclasses, URLs the fast path leaves to the general one): every answer is the one a
    fresh sanitizer gives."""
    urls = [
        "https://acct.example/p?sig=ONE&api-version=1",
        "https://acct.example/p?sig=TWO&api-version=1",
        "https://user:pass@acct.example/p?x=1",
        "HTTPS://acct.example/p?se=2024#frag",
        "http://[::1]:8080/?token=abc",
        _Text("https://acct.example/p?sig=THREE"),
        "",
    ]
    expected = [HttpSanitizer().sanitize_url(url) for url in urls]
    shared = HttpSanitizer()
    wrong: list[tuple[str, str]] = []

    def work(offset: int) -> None:
        for step in range(2000):
            index = (offset + step * (offset + 1)) % len(urls)
            answer = shared.sanitize_url(urls[index])
            if answer != expected[index]:
                wrong.append((urls[index], answer))

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_call_carries_its_clients_sanitizer_and_a_context_without_one_gets_the_default() -> None:
    wider = HttpSanitizer(allowed_query_parameters={"comp"})
    context = with_sanitizer(Context(), wider)
    assert HttpSanitizer.from_context(context) is wider
    assert HttpSanitizer.from_context(context.with_value("k", "v")) is wider  # children too
    inner = HttpSanitizer()
    assert HttpSanitizer.from_context(with_sanitizer(context, inner)) is inner  # the nearest
    assert HttpSanitizer.from_context(Context()) is DEFAULT_SANITIZER
    assert HttpSanitizer.from_context(None) is DEFAULT_SANITIZER


def test_header_lines_keep_only_allowed_values_and_drop_lines_that_are_not_headers() -> None:
    block = (
        "Content-Type: text/plain\r\nSet-Cookie: id=SECRET\r\n folded SECRET\r\n"
        'not a header SECRET\r\n: SECRET\r\nETag:\t"x"\r\n\tmore\nX-Custom: v\r\n\r\n'
    )
    assert HttpSanitizer().sanitize_header_lines(block) == (
        "Content-Type: text/plain\r\nSet-Cookie: REDACTED\r\n REDACTED\r\n"
        'REDACTED\r\nREDACTED\r\nETag:\t"x"\r\n\tmore\nX-Custom: REDACTED\r\n\r\n'
    )
    assert HttpSanitizer(allowed_headers={"x-custom"}).sanitize_header_lines(
        "X-Custom: v\r\nContent-Type: text/plain"
    ) == ("X-Custom: v\r\nContent-Type: REDACTED")


_header_name = st.one_of(
    st.sampled_from(["Content-Type", "content-type", "Set-Cookie", "X-Custom", "ETag"]),
    st.text(alphabet="abcxyz-!#'", min_size=1, max_size=6),
)
_line_break = st.sampled_from(["\r\n", "\n", "\r"])


@given(
    allowed=st.lists(_header_name, max_size=3),
    lines=st.lists(
        st.tuples(
            st.sampled_from(["header", "folded", "no colon", "bad name"]),
            _header_name,
            st.text(alphabet="abc :;=/?@\t", max_size=6),
            _line_break,
        ),
        max_size=6,
    ),
)
def test_a_header_lines_value_shows_only_when_its_header_is_allowed(
    allowed: list[str], lines: list[tuple[str, str, str, str]]
) -> None:
    sanitizer = HttpSanitizer(allowed_headers=allowed)
    names = {name.lower() for name in allowed}
    text = ""
    shown: list[str] = []
    hidden: list[str] = []
    header_allowed = False
    for index, (kind, name, value, line_break) in enumerate(lines):
        secret = f"V{index}x"
        if kind == "header":
            header_allowed = name.lower() in names
            line = f"{name}: {value}{secret}"
        elif kind == "folded":
            line = f"\t{value}{secret}"
        elif kind == "no colon":
            header_allowed = False
            line = f"{name} {value.replace(':', '')}{secret}"
        else:
            header_allowed = False
            line = f"{name} x: {value}{secret}"
        (shown if header_allowed and kind in ("header", "folded") else hidden).append(secret)
        text += line + line_break
    sanitized = sanitizer.sanitize_header_lines(text)
    assert [secret for secret in shown if secret not in sanitized] == []
    assert [secret for secret in hidden if secret in sanitized] == []
