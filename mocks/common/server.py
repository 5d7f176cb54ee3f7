"""Start any mock app on 127.0.0.1 in a background thread, and stop it in well under a second."""
from __future__ import annotations

import errno
import json
import logging
import socket
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, make_server


class PortInUseError(OSError):
    """The requested port is taken."""


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the journal records every request instead."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: D401
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            logging.getLogger("mocks.server").debug(message, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the server refuses before the app sees it (a request line over 64 KB: 414, a
        malformed one: 400) is answered as the app would answer an error on that path (the control
        plane's or the vendor's JSON shape), not with the stdlib's HTML page."""
        app = getattr(self.server, "app", None)
        if app is None or "harness" not in getattr(app, "extensions", {}):
            super().send_error(code, message, explain)
            return
        from .app import error_reply

        text = message or self.responses.get(code, ("error",))[0]
        method, path = _request_line(getattr(self, "raw_requestline", b""))
        try:
            with app.test_request_context(path, method=method):
                reply = error_reply(code, text)
        except Exception:  # a path the test context cannot take: the answer on "/"
            with app.test_request_context("/", method=method):
                reply = error_reply(code, text)
        body = reply.get_data()
        self.log_error("code %d, message %s", code, text)
        self.send_response(code, text)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _request_line(raw: bytes) -> tuple[str, str]:
    """Method and path (without the query) of a request line, even one cut short; GET / if unreadable."""
    parts = raw.split(b" ", 2)
    method = parts[0].decode("latin-1") if parts and parts[0].isalpha() else "GET"
    path = parts[1].split(b"?", 1)[0].decode("latin-1") if len(parts) > 1 else "/"
    return method, path if path.startswith("/") else "/"


def _check_port_free(host: str, port: int) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(errno.EADDRINUSE, f"port {port} on {host} is already in use") from None
        raise
    finally:
        probe.close()


class ServerThread:
    """A threaded WSGI server for one app; ``with ServerThread(app) as server: server.url``."""

    POLL_INTERVAL = 0.05

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        if port:
            _check_port_free(host, port)
        try:
            server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        except SystemExit:  # werkzeug exits on a busy port; a library must not
            raise PortInUseError(errno.EADDRINUSE, f"port {port} on {host} is already in use") from None
        assert isinstance(server, ThreadedWSGIServer)  # threaded=True: one thread per request
        self._server = server
        self._server.daemon_threads = True
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.app = app
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": self.POLL_INTERVAL},
                                        name=f"mock-server-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ServerThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """Start ``app`` and return the running server (call ``.stop()`` when done)."""
    return ServerThread(app, host, port).start()
