"""A keep-alive HTTP/1.1 server on 127.0.0.1 for S8, run in its own process (so it has its own
GIL): ``python -m benchmarks.server`` prints its port, then answers every GET with 200 and
``{}`` until its standard input closes."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks.canned import BODY, SERVICE_REQUEST_ID


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every client reuses its connection
    disable_nagle_algorithm = True  # headers and body go in two writes: never wait between

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("x-ms-request-id", SERVICE_REQUEST_ID)
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> int:
    """Serve until standard input closes."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
