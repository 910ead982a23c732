"""Shared fixtures: a real HTTP server on loopback whose routes a test programs, and config files.

The server is http.server.ThreadingHTTPServer on 127.0.0.1, port 0. A route answers with a body,
status and headers, and can be told to be slow, to honour ETag / Last-Modified with 304s, to fail
a number of times with 503 before answering, to gzip, or to misbehave (reset the connection, cut
the body short, send a body without a length).
"""

from __future__ import annotations

import functools
import gzip
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
CASES = DATA / "cases"
PAGES = DATA / "pages"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    etag: str | None = None  # sent, and If-None-Match honoured with 304
    last_modified: str | None = None  # sent, and If-Modified-Since honoured with 304
    fail_first: int = 0  # answer 503 to this many requests first
    gzip: bool = False
    fault: str | None = None  # "reset", "truncate" or "no_length"


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float
    status: int = 0
    port: int = 0  # the client's port: one port a connection, so reuse is visible


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (a size cap, a timeout) are part of the tests, not errors.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _QuietServer6(_QuietServer):
    address_family = socket.AF_INET6


class PageServer:
    """The programmable server; `url(path)` gives the address of a route. `host` may be an IPv6
    address ("::1")."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server_class = _QuietServer6 if ":" in host else _QuietServer
        self.httpd = server_class((host, 0), _handler_for(self))
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: bytes | str = b"", **options: Any) -> Route:
        if isinstance(body, str):
            body = body.encode("utf-8")
        route = Route(body=body, **options)
        self.routes[path] = route
        return route

    def hits_of(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    def start(self) -> PageServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def _handler_for(server: PageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            hit = Hit(
                self.path, {k.lower(): v for k, v in self.headers.items()}, time.monotonic(),
                port=self.client_address[1],
            )
            with server._lock:
                server.hits.append(hit)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._answer(hit)
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _answer(self, hit: Hit) -> None:
            route = server.routes.get(self.path)
            if route is None:
                hit.status = 404
                return self._send(404, b"not found", {"Content-Type": "text/plain"})
            if route.delay:
                time.sleep(route.delay)
            if route.fail_first > 0:
                route.fail_first -= 1
                hit.status = 503
                return self._send(503, b"busy", {"Content-Type": "text/plain"})
            validators = {}
            if route.etag:
                validators["ETag"] = route.etag
            if route.last_modified:
                validators["Last-Modified"] = route.last_modified
            if (route.etag and hit.headers.get("if-none-match") == route.etag) or (
                route.last_modified and hit.headers.get("if-modified-since") == route.last_modified
            ):
                hit.status = 304
                return self._send(304, b"", validators)
            headers = {**validators, **route.headers}
            if route.content_type:
                headers["Content-Type"] = route.content_type
            body = route.body
            if route.gzip:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            hit.status = route.status
            if route.fault == "reset":
                # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if route.fault == "truncate":
                self.send_response(route.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            if route.fault == "no_length":
                self.send_response(route.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            self._send(route.status, body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:  # the "reset" fault closed the socket under us
                pass

    return Handler


@contextmanager
def serving() -> Iterator[PageServer]:
    """A page server on 127.0.0.1 (robots.txt: 404, so everything is allowed), stopped after."""
    page_server = PageServer().start()
    try:
        yield page_server
    finally:
        page_server.stop()


@pytest.fixture
def http_server() -> Iterator[PageServer]:
    """A page server on 127.0.0.1 for one test."""
    with serving() as page_server:
        yield page_server


@contextmanager
def lock_held_elsewhere(database: str | Path) -> Iterator[int]:
    """Another process holding the run lock on `database` (as an overlapping cron run would);
    yields its pid."""
    script = (
        "import time\nfrom watcher.store import Store\n"
        f"with Store({str(database)!r}).lock():\n    print('locked', flush=True)\n    time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()


def case_bytes(case: str, name: str) -> bytes:
    return (CASES / case / name).read_bytes()


def page_bytes(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


# The tests that read a report's wording read it in English; test_language checks the default (zh).
ENGLISH = {"language": "en"}
FAST_FETCH = {"timeout": 2.0, "retries": 1, "delay": 0.0, "per_host": 2, "workers": 4}


def config_file(
    folder: Path,
    sources: list[dict[str, Any]],
    fetch: dict[str, Any] | None = None,
    storage: str = "watcher.db",
    name: str = "watcher.toml",
    report: dict[str, Any] | None = ENGLISH,
) -> Path:
    """A config file in `folder` with these [[source]] tables (see write_config)."""
    lines = ["[storage]", f"path = {toml_value(storage)}", "", "[fetch]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in {**FAST_FETCH, **(fetch or {})}.items()]
    if report is not None:
        lines += ["", "[report]"] + [f"{key} = {toml_value(value)}" for key, value in report.items()]
    for source in sources:
        lines += ["", "[[source]]"] + [f"{k} = {toml_value(v)}" for k, v in source.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def english() -> Iterator[None]:
    """Library renders in English with times in UTC (the wording the test asserts); a CLI command
    sets its own from its config (see config_file)."""
    from watcher.language import rendering

    with rendering("en", "UTC"):
        yield


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config(sources, fetch={...}, storage="watcher.db") → path of a config file in tmp_path.

    `sources` is a list of dicts of [[source]] keys; `report` the [report] table (English, unless
    given: None leaves it out). Fetch settings default to fast, test-sized
    ones (no delay, one retry, 2 s timeout).
    """
    return functools.partial(config_file, tmp_path)
