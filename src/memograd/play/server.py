"""The local server of ``memograd play``: the page, its assets and the JSON API; nothing else.

Standard library only (``http.server``). It binds to 127.0.0.1 unless told otherwise, serves a
fixed list of files from the package (no path from a request ever reaches the file system) and
answers ``POST /api/<route>`` with :func:`memograd.play.api.call`. A bad request gets a 4xx with
one line of JSON ``{"error": "..."}``; requests are bounded in size.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from memograd.play import api

MAX_BODY = 64 * 1024
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


def asset(name: str) -> bytes:
    """One of the page's files, shipped inside the package."""
    return resources.files("memograd.play").joinpath("assets").joinpath(name).read_bytes()


class Handler(BaseHTTPRequestHandler):
    server_version = "memograd-play"
    quiet = True

    def log_message(self, format: Any, *args: Any) -> None:  # noqa: A002 - the base class's name
        if not self.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        )
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path in ASSETS:
            name, ctype = ASSETS[path]
            self._send(HTTPStatus.OK, asset(name), ctype)
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        elif path == "/api/presets":
            self._json(HTTPStatus.OK, api.presets())
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path[:60]}"})

    do_HEAD = do_GET

    def do_POST(self) -> Any:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if not path.startswith("/api/"):
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no such API: {path[:60]}"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": "bad Content-Length"})
        if length < 0 or length > MAX_BODY:
            return self._json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"error": f"request body must be at most {MAX_BODY} bytes, got {length}"},
            )
        raw = self.rfile.read(length) if length else b"{}"
        try:
            req = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": f"request is not JSON: {e}"})
        try:
            answer = api.call(path[len("/api/") :], req)
        except api.ApiError as e:
            status = HTTPStatus.NOT_FOUND if "unknown API route" in str(e) else 400
            return self._json(status, {"error": str(e)})
        except ValueError as e:  # non-finite numbers cannot be sent as JSON
            return self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(e)})
        self._json(HTTPStatus.OK, answer)

    def do_PUT(self) -> None:  # noqa: N802
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "only GET and POST are served"})

    do_DELETE = do_PATCH = do_PUT


class PlayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    @property
    def url(self) -> str:
        address, port = self.server_address[:2]
        host = str(address) if isinstance(address, str) else address.decode()
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"


def make_server(host: str = "127.0.0.1", port: int = 0) -> PlayServer:
    """A server on ``host:port`` (port 0: a free one); call ``serve_forever()`` to run it."""
    return PlayServer((host, port), Handler)


_running: dict[str, PlayServer] = {}


def background(host: str = "127.0.0.1", port: int = 0) -> PlayServer:
    """One server per process, started on a daemon thread (for Jupyter): its URL is ``.url``."""
    key = f"{host}:{port}"
    server = _running.get(key)
    if server is None:
        server = make_server(host, port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _running[key] = server
    return server
