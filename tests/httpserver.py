"""A loopback HTTP server for tests that read URL locations: real sockets, scripted answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeHost:
    """Paths → answers (GET and POST alike); `hits` counts requests per path."""

    base_url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    posted: dict[str, list[bytes]] = field(default_factory=dict)  # request bodies per path

    def serve(self, path: str, body: str | bytes = b"", **options: object) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, **options)  # type: ignore[arg-type]
        return self.base_url + path


@contextmanager
def fake_host() -> Iterator[FakeHost]:
    host = FakeHost()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.hits[self.path] = host.hits.get(self.path, 0) + 1
            route = host.routes.get(self.path, Route(b"not found", 404))
            if route.delay:
                time.sleep(route.delay)
            try:
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (timeout tests)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            host.posted.setdefault(self.path, []).append(self.rfile.read(length))
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
