"""An embedded HTTP server on 127.0.0.1 for the samples.

Each item path answers 503 (with ``retry-after-ms``) the first time and 200 after, so every
sample shows a retry; ``/items/missing`` answers 404. It records the trace headers it receives.
Run it alone with ``python samples/local_server.py`` to point your own code at it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional


@dataclass
class ReceivedRequest:
    method: str
    path: str
    traceparent: Optional[str]
    client_request_id: Optional[str]


class DemoServer:
    """Serves ``/items/<name>``: GET (503 once, then 200), DELETE (204); ``missing`` is 404."""

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        demo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                first_time = demo._record(self, path)
                if path.endswith("/missing"):
                    self._reply(404, {"error": "ItemNotFound"})
                elif first_time:
                    self._reply(503, {"error": "ServerBusy"}, {"retry-after-ms": "100"})
                else:
                    self._reply(200, {"name": path.rsplit("/", 1)[-1], "size": 42})

            def do_DELETE(self) -> None:
                demo._record(self, self.path.split("?", 1)[0])
                self._reply(204, None)

            def _reply(
                self, status: int, payload: Any, headers: Optional[dict[str, str]] = None
            ) -> None:
                body = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def _record(self, handler: BaseHTTPRequestHandler, path: str) -> bool:
        with self._lock:
            self.received.append(
                ReceivedRequest(
                    handler.command,
                    path,
                    handler.headers.get("traceparent"),
                    handler.headers.get("x-ms-client-request-id"),
                )
            )
            first_time = (handler.command, path) not in self._seen
            self._seen.add((handler.command, path))
            return first_time

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Optional[list[str]] = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    with DemoServer() as server:
        print(f"Serving on {server.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
