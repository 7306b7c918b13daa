"""A real HTTP/1.1 server on 127.0.0.1 for the tests: scripted replies, recorded requests."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional, TypeVar

Self = TypeVar("Self", bound="BackgroundServer")


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    client_port: int = 0


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout, a deadline, a cancelled task) is what tests do.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class BackgroundServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 that serves from a thread inside ``with``."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], tls: Optional[ssl.SSLContext] = None
    ) -> None:
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._scheme = "http" if tls is None else "https"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}{path}"

    def __enter__(self: Self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer(BackgroundServer):
    """Replies to each path from a script (the last reply repeats) and records every request."""

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                body = self._read_body()
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.received.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            self.client_address[1],
                        )
                    )
                    script = server._scripts.get(path) or [Reply(404, body=b"no script")]
                    reply = script.pop(0) if len(script) > 1 else script[0]
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle  # noqa: N815

        super().__init__(Handler, tls)

    def script(self, path: str, *replies: Reply) -> str:
        """Set the replies for ``path`` and return its URL."""
        with self._lock:
            self._scripts[path] = list(replies)
        return self.url(path)


def refused_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens, so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, signed by its own key, made by ``openssl``: (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def tls_server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting ``cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class RawServer:
    """Answers every request with ``reply`` (raw bytes, anything a server may send) and
    records each request's raw bytes; ``trickle`` (if any) is then sent every 50 ms forever;
    ``hold`` keeps the connection open, unread, until the server closes."""

    def __init__(self, reply: bytes, *, trickle: bytes = b"", hold: bool = False) -> None:
        self.reply = reply
        self.trickle = trickle
        self.hold = hold
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(32)
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/x") -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                lowered = head.lower()
                length = re.search(rb"content-length: *(\d+)", lowered)
                if length:
                    while len(body) < int(length.group(1)):
                        body += conn.recv(65536)
                elif b"transfer-encoding: chunked" in lowered:
                    while not body.endswith(b"0\r\n\r\n"):
                        body += conn.recv(65536)
                self.received.append(head + b"\r\n\r\n" + body)
                conn.sendall(self.reply)
                while self.trickle and not self._stop.wait(0.05):
                    conn.sendall(self.trickle)
                if self.hold:
                    self._stop.wait()
            except OSError:
                return

    def request_headers(self, index: int = 0) -> dict[str, str]:
        head = self.received[index].split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
