"""A light threaded HTTP/1.1 server for the sandbox app (stdlib only).

wsgiref speaks HTTP/1.0 and closes every connection; this keeps connections alive (clients
reuse them like they do with api.twilio.com), writes each response in one send with
TCP_NODELAY, and carries out the faults WSGI cannot express: truncated bodies (close the
connection after a short body) and connection resets (SO_LINGER 0, then close -> RST).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any
from urllib.parse import unquote

from .app import SandboxApp, make_app
from .config import SandboxConfig
from .world import SandboxWorld


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TwilioSandbox/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections give up after 5 minutes
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the socket may have been reset on purpose
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # a benchmark run would print a million lines

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._run()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET  # noqa: N815

    def _run(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(raw_path),
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.input": BytesIO(body),
            "wsgi.errors": BytesIO(),
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        reply: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                           ) -> None:
            reply[:] = [status, headers]

        data = b"".join(self.server.app(environ, start_response))
        fault = environ.get("sandbox.fault")
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        status, headers = reply
        lines = [f"{self.request_version} {status}", f"Server: {self.server_version}",
                 f"Date: {self.date_time_string()}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if fault == "truncate" or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + (b"" if self.command == "HEAD" else data))


@dataclass
class SandboxServer:
    """A running sandbox: `url`, `world`, `config`, `app`; `stop()` (also a context manager)."""

    url: str
    app: SandboxApp
    _httpd: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def world(self) -> SandboxWorld:
        return self.app.world

    @property
    def config(self) -> SandboxConfig:
        return self.app.config

    def stop(self) -> None:
        self.app.faults.shutdown.set()  # wake stalled and sleeping requests
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._httpd.connections_lock:
            open_sockets = list(self._httpd.connections)
        for sock in open_sockets:  # end idle keep-alive connections too
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
                 ) -> SandboxServer:
    """Serve the sandbox on a background thread; port 0 picks a free port."""
    app = make_app(config or SandboxConfig())
    httpd = _Server((host, port), app)
    bound_host, bound_port = httpd.server_address[:2]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"twilio-sandbox-{bound_port}", daemon=True)
    thread.start()
    shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host  # noqa: S104
    return SandboxServer(f"http://{shown}:{bound_port}", app, httpd, thread)
