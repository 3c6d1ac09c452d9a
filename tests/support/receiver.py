"""A real HTTP callback receiver on 127.0.0.1 whose behaviour a test can change while it runs
(status codes, delays, Retry-After), recording every request (Svix TestReceiver style); and one that
accepts connections but never answers."""

from __future__ import annotations

import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    #: status to answer; a callable gets the request number (1-based) and returns it
    status: int | Callable[[int], int] = 200
    delay: float = 0.0
    extra_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    number = len(receiver.received)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.status(number) if callable(receiver.status) else receiver.status
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                return

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # the default backlog of 5 refuses bursts of callbacks

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A sender that gave up (timeout tests, a killed server) leaves nobody to answer.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} callbacks, got {len(self.received)}")


class HangingReceiver:
    """A destination that accepts connections and reads what is sent, but never answers (a hung
    application server behind a live socket). Each accepted connection is held open until
    :meth:`stop`; ``connections`` counts them, and ``dropped`` holds the moment (``time.time()``)
    each was closed by the sender (it gave up: its attempt timed out, or it stopped)."""

    def __init__(self) -> None:
        self.connections = 0
        self.dropped: list[float] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook"

    def start(self) -> HangingReceiver:
        self._thread.start()
        return self

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stopped.is_set():
                for key, _ in selector.select(timeout=0.1):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        conn, _ = sock.accept()
                        conn.setblocking(False)
                        self._held.append(conn)
                        self.connections += 1
                        selector.register(conn, selectors.EVENT_READ)
                    elif not _read_some(sock):
                        self.dropped.append(time.time())
                        selector.unregister(sock)  # the sender gave up; nothing to answer anyway

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        for conn in [*self._held, self._listener]:
            conn.close()


def _read_some(conn: socket.socket) -> bool:
    """Read and drop what arrived; False once the peer has closed."""
    try:
        return bool(conn.recv(65536))
    except BlockingIOError:
        return True
    except OSError:
        return False
