"""A real TCP listener on loopback that counts the connections it accepts and keeps what they sent first."""

from __future__ import annotations

import socket
import threading


class CountingListener:
    """Accepts connections on 127.0.0.1 (a free port), counts them and records their first bytes; answers 404."""

    def __init__(self) -> None:
        """Bind and listen; ``start()`` begins accepting."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.accepted = 0
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="counting-listener", daemon=True)

    def start(self) -> CountingListener:
        """Begin accepting in a background thread."""
        self._thread.start()
        return self

    def url(self, path: str = "/") -> str:
        """An http URL of this listener."""
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            try:
                conn.settimeout(2)
                data = conn.recv(65536)
                with self._lock:
                    self.received.append(data)
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            finally:
                conn.close()

    def stop(self) -> None:
        """Stop accepting and close the socket."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()
