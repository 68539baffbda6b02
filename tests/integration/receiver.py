"""A biller's webhook endpoint for the tests: a real HTTP server on a free
local port, which can be down (nothing listening), slow, failing or up."""
from __future__ import annotations

import dataclasses
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclasses.dataclass
class Received:
    mode: str
    path: str
    headers: dict
    body: bytes


class Receiver:
    """`mode`: "ok" (204), "500", "slow" (answers 200 after `slow_seconds`),
    "redirect" (302). `start()`/`stop()` bring it up and down on one port."""

    def __init__(self, *, slow_seconds: float = 1.5, delay: float = 0.0):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mode, self.slow_seconds, self.delay = "ok", slow_seconds, delay
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notificaciones/1411"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = receiver.mode
                with receiver._lock:
                    receiver.received.append(Received(mode, self.path, dict(self.headers), body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                status = {"ok": 204, "500": 500, "slow": 200, "redirect": 302}[mode]
                self.send_response(status)
                if mode == "redirect":
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def in_mode(self, mode: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.mode == mode]
