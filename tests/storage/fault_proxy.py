"""A real HTTP proxy on 127.0.0.1 in front of Azurite: it forwards each request as it came
(path, query and headers, so a Shared Key or SAS signature still holds) and records what
went each way; ``fail_next`` makes it answer the next requests with a fault instead."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from typing import Literal

from tests.local_server import BackgroundServer, QuietHandler

Fault = Literal["503", "drop"]
"""``503``: a ServerBusy reply, never forwarded. ``drop``: the connection is closed after the
request is read, with no response at all. ``redirect_next`` answers with a 307 instead."""
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host"}


@dataclass
class Exchange:
    """One request the proxy received and what became of it."""

    method: str
    path: str
    request_headers: dict[str, str]  # names lower-cased
    fault: str = ""  # the fault it got, or "" when forwarded
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)  # names lower-cased


class FaultProxy(BackgroundServer):
    """Forwards to ``127.0.0.1:<target_port>``; ``url(path)`` is the proxy's."""

    def __init__(self, target_port: int) -> None:
        self.exchanges: list[Exchange] = []
        self._faults: list[str] = []  # a Fault, or "307 <Location>"
        self._lock = threading.Lock()
        proxy = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                exchange = Exchange(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                with proxy._lock:
                    proxy.exchanges.append(exchange)
                    fault = proxy._faults.pop(0) if proxy._faults else None
                if fault == "drop":
                    exchange.fault = fault
                    self.close_connection = True
                    return
                if fault == "503":
                    exchange.fault, exchange.status = fault, 503
                    self._reply(503, {"x-ms-error-code": "ServerBusy"}, b"")
                    return
                if fault is not None and fault.startswith("307 "):
                    exchange.fault, exchange.status = "307", 307
                    self._reply(307, {"Location": fault[4:]}, b"")
                    return
                self._forward(exchange, body)

            def _forward(self, exchange: Exchange, body: bytes) -> None:
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                try:
                    headers = {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    upstream.request(self.command, self.path, body or None, headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    exchange.status = response.status
                    exchange.response_headers = {k.lower(): v for k, v in response.getheaders()}
                    kept = {
                        k: v
                        for k, v in response.getheaders()
                        if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
                    }
                    if self.command == "HEAD":  # no body, but the blob's own length
                        kept["Content-Length"] = response.getheader("Content-Length", "0")
                    self._reply(response.status, kept, payload, response.reason)
                finally:
                    upstream.close()

            def _reply(
                self, status: int, headers: dict[str, str], payload: bytes, reason: str = ""
            ) -> None:
                self.send_response(status, reason or None)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _handle  # noqa: N815

        super().__init__(Handler)

    def fail_next(self, *faults: Fault) -> None:
        """Answer the next ``len(faults)`` requests with these faults, in order."""
        with self._lock:
            self._faults.extend(faults)

    def redirect_next(self, location: str) -> None:
        """Answer the next request with ``307 Temporary Redirect`` to ``location``."""
        with self._lock:
            self._faults.append(f"307 {location}")

    def forwarded(self) -> list[Exchange]:
        """The exchanges that reached Azurite."""
        with self._lock:
            return [exchange for exchange in self.exchanges if not exchange.fault]
