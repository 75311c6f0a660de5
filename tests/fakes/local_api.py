"""The HTTP plumbing the fake platform APIs share: a threaded server on a free loopback port
that reads a call's arguments (JSON or form-encoded, as the SDKs send them) and answers JSON."""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs


class LocalApiServer(ABC):
    """Subclasses answer ``handle_post`` (the method is the path's last segment) and may serve
    downloads with ``handle_get``. ``json_fields`` are form fields that carry JSON text."""

    json_fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    args: dict[str, Any] = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                for key in api.json_fields:
                    if isinstance(args.get(key), str):
                        args[key] = json.loads(args[key])
                result = api.handle_post(self.path.rsplit("/", 1)[-1], args, dict(self.headers))
                self._send(200, "application/json", json.dumps(result).encode())

            def do_GET(self) -> None:  # noqa: N802
                self._send(*api.handle_get(self.path, dict(self.headers)))

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # stop() waits for serve_forever's next poll: 0.05 s instead of its default 0.5 s a test.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @abstractmethod
    def handle_post(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """The JSON answer to one API call."""

    def handle_get(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        return 404, "text/plain", b"not found"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
