"""Binding and running the web view: loopback unless asked otherwise, threads for requests.

An address off this machine is refused unless `allow_remote` is given (`--allow-remote`): the
view has no login, and the documents and their history are then readable by anyone who can reach
the port. With it, a warning says so on stderr.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from watcher.errors import ServeError
from watcher.normalise import printable
from watcher.store import Store
from watcher.web.app import WebView

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8650
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow reader never keeps Ctrl-C waiting


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # a request line is the client's text: printable, one line; a closed stderr loses the log only
        try:
            sys.stderr.write(printable(f"{self.address_string()} {format % args}") + "\n")
        except (OSError, ValueError):
            pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def serve(
    database: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    allow_remote: bool = False,
    ready: Callable[[str], None] | None = None,
    timezone: str | None = None,
) -> None:
    """Serve the database at `database` read-only on host:port until interrupted; `ready` is
    called with the view's address once it listens (port 0: a free port)."""
    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise ServeError(
            f"{host} is not a loopback address: the web view has no login; "
            "pass --allow-remote to serve it to the network anyway"
        )
    store = Store(database, read_only=True)
    # the names the view answers to: loopback ones, and the host asked for
    hosts = None if remote else LOOPBACK_NAMES | {host}
    try:
        server_class = _Server6 if ":" in host else _Server
        try:
            httpd = server_class((host, port), _Handler)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        httpd.set_app(WebView(store, hosts, timezone))
        bound_port = httpd.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        if ready is not None:
            ready(f"http://{shown}:{bound_port}/")
        with httpd:
            try:
                httpd.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                pass
    finally:
        store.close()
