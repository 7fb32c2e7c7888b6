"""A real HTTP receiver on loopback (http.server in a thread) that records every POST and answers scripted codes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records (path, headers, body) of each POST; answers the next code of ``codes`` (then 200)."""

    def __init__(self, codes: list[int] | None = None) -> None:
        """Bind 127.0.0.1 on a free port; ``start()`` serves."""
        self.codes = list(codes or [])
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.attempts = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            """One request."""

            def do_POST(self) -> None:  # noqa: N802
                """Record and answer."""
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner._lock:
                    owner.attempts += 1
                    code = owner.codes.pop(0) if owner.codes else 200
                    if code < 300:
                        owner.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    def start(self) -> Receiver:
        """Serve in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/hook") -> str:
        """The receiver's URL."""
        return f"http://127.0.0.1:{self.port}{path}"

    def pattern(self) -> str:
        """The --allow-fetch pattern naming exactly this receiver."""
        return f"http://127.0.0.1:{self.port}/*"

    def json_bodies(self) -> list[dict[str, Any]]:
        """The JSON of each accepted POST."""
        with self._lock:
            return [json.loads(body) for _, _, body in self.posts]
