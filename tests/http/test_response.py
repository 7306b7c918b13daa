"""``RawResponse``: its headers, and its body given whole or as chunks, read and closed once."""

from __future__ import annotations

from azure_core_tracing.http import RawResponse


def test_raw_response_body_and_chunks() -> None:
    closed: list[bool] = []
    response = RawResponse(
        200, "OK", {"ETag": "1"}, chunks=iter([b"a", b"b"]), close=lambda: closed.append(True)
    )
    assert response.headers["etag"] == "1"
    assert response.body == b"ab"
    assert response.body == b"ab"
    assert closed == [True]
    response.close()
    assert closed == [True]
    plain = RawResponse(204)
    assert plain.body == b"" and list(plain.iter_bytes()) == []
    assert list(RawResponse(200, body=b"xyz").iter_bytes()) == [b"xyz"]
