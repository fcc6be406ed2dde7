"""A light threaded HTTP/1.1 server for the sandbox app (stdlib only).

wsgiref speaks HTTP/1.0 and closes every connection; this keeps connections alive (clients
reuse them like they do with api.twilio.com), writes each response in one send with
TCP_NODELAY, and carries out the faults WSGI cannot express: truncated bodies (close the
connection after a short body) and connection resets (SO_LINGER 0, then close -> RST).

`start_server` serves on a thread of the calling process (tests, demos). `serve_processes`
is a pre-fork server for benchmarks: one listening socket, shared by N processes that each
run their own threaded server over the same world, with the per-account in-flight cap
counted in shared memory. Fault knobs (POST /_sandbox/knobs) only reach the process that
answered that request; with more than one process, leave them alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any
from urllib.parse import unquote

from .app import SandboxApp, make_app
from .config import SandboxConfig
from .faults import SharedInFlight
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
        _stop(self._httpd, self._thread)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop(httpd: _Server, thread: threading.Thread) -> None:
    httpd.app.faults.shutdown.set()  # wake stalled and sleeping requests
    httpd.shutdown()
    httpd.server_close()
    with httpd.connections_lock:
        open_sockets = list(httpd.connections)
    for sock in open_sockets:  # end idle keep-alive connections too
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    thread.join(timeout=5)


def _serve_thread(httpd: _Server) -> threading.Thread:
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"twilio-sandbox-{httpd.server_address[1]}", daemon=True)
    thread.start()
    return thread


def _url(httpd: _Server) -> str:
    bound_host, bound_port = httpd.server_address[:2]
    shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host  # noqa: S104
    return f"http://{shown}:{bound_port}"


def start_server(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
                 ) -> SandboxServer:
    """Serve the sandbox on a background thread; port 0 picks a free port."""
    app = make_app(config or SandboxConfig())
    httpd = _Server((host, port), app)
    thread = _serve_thread(httpd)
    return SandboxServer(_url(httpd), app, httpd, thread)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_GRACE_SECONDS = 10.0


def _wait_for_stop(gone: Callable[[], bool]) -> int:
    """Block until SIGINT/SIGTERM (returns it) or `gone()` turns true (returns SIGTERM).
    The stop signals must already be blocked in this thread (pthread_sigmask)."""
    while True:
        info = signal.sigtimedwait(_STOP_SIGNALS, 0.5)
        if info is not None:
            return info.si_signo
        if gone():
            return signal.SIGTERM


def _child(httpd: _Server, parent: int) -> None:
    """A forked worker: serve the shared socket until told to stop or orphaned."""
    code = 1
    try:
        thread = _serve_thread(httpd)
        _wait_for_stop(lambda: os.getppid() != parent)
        _stop(httpd, thread)
        code = 0
    except BaseException:  # noqa: BLE001 - report, then leave without the parent's cleanup
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


def _reap(children: set[int], deadline: float) -> int:
    """Wait for the children until `deadline`, then kill the rest; 0 if all exited cleanly."""
    worst = 0
    while children:
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                worst = max(worst, 0 if os.waitstatus_to_exitcode(status) == 0 else 1)
        if children and time.monotonic() > deadline:
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
            worst = 1
        elif children:
            time.sleep(0.05)
    return worst


def serve_processes(config: SandboxConfig | None = None, host: str = "127.0.0.1",
                    port: int = 0, processes: int = 2,
                    on_ready: Callable[[str], None] | None = None) -> int:
    """Pre-fork server: bind once, fork `processes - 1` children, and serve the same socket
    from every process (the parent too) until SIGINT/SIGTERM; the parent forwards the signal
    to its children and waits for them. If a child dies, the others are stopped too.

    The world is built once, before the fork, so every process serves the same data; the
    per-account in-flight cap is shared. `on_ready(url)` runs in the parent before the fork.
    Returns 0 when every process stopped cleanly, else 1. SIGINT and SIGTERM stay blocked in
    the calling thread afterwards (meant to be the last thing a command does).
    """
    if processes < 1:
        raise ValueError("processes must be >= 1")
    config = config or SandboxConfig()
    world = SandboxWorld(config)
    app = SandboxApp(config, world,
                     in_flight=SharedInFlight(a.sid for a in world.accounts))
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # threads and children inherit
    httpd = _Server((host, port), app)
    # Every process polls the one socket; the losers of a race for a new connection must
    # get EAGAIN (socketserver ignores OSError from accept) rather than block in accept().
    httpd.socket.setblocking(False)
    if on_ready is not None:
        on_ready(_url(httpd))
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    children: set[int] = set()
    try:
        for _ in range(processes - 1):
            pid = os.fork()
            if pid == 0:
                _child(httpd, parent)
            children.add(pid)
    except BaseException:
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        _reap(children, time.monotonic() + _GRACE_SECONDS)
        httpd.server_close()
        raise
    thread = _serve_thread(httpd)
    exited: set[int] = set()

    def child_gone() -> bool:
        for pid in children - exited:
            if os.waitpid(pid, os.WNOHANG)[0]:
                exited.add(pid)
        return bool(exited)

    signum = _wait_for_stop(child_gone)
    for pid in children - exited:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    _stop(httpd, thread)
    worst = _reap(children - exited, time.monotonic() + _GRACE_SECONDS)
    return 1 if exited else worst
