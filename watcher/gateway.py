"""The browser's one way to the network: a forward proxy on loopback that makes every connection
of the page through watcher.connect, under the fetch's address policy.

Chromium is started with this proxy for everything, loopback included (``<-loopback>``), so a
request of the page — the document, a script's fetch(), each redirect hop, a WebSocket — is a
request to the gateway, which resolves the host itself, judges every address (AddressPolicy:
internal addresses only at the host and port of the configured URL, or where ``[fetch]
allow_internal`` allows) and connects to the very address it judged: a watched page decides
nothing about which internal addresses are fetched, and a name that resolves anew to 127.0.0.1
(DNS rebinding) is refused as in a plain fetch.

Bounds: one deadline per connection (the page's time), shut down by the Attempt's watchdog, and
at most ``max_bytes`` read from the network for one page, all its requests together.
"""

from __future__ import annotations

import logging
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from urllib.parse import urlsplit

from watcher import connect
from watcher.connect import AddressPolicy
from watcher.errors import RefusedAddress

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024  # a request line and its headers
_CHUNK = 64 * 1024
# Headers about the hop to the proxy, not for the server; the gateway asks the server to close
# the connection after its answer, so that each request on a connection is judged anew.
_HOP_HEADERS = (b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive")


class Gateway:
    """The proxy for one browser: started at once, serving pages one at a time (`page`)."""

    def __init__(self, policy: AddressPolicy, *, timeout: float, seconds: float, max_bytes: int) -> None:
        self.policy = policy
        self.timeout = timeout  # each wait on the network
        self.seconds = seconds  # one connection's whole life
        self.max_bytes = max_bytes  # read from the network for one page
        self._lock = threading.Lock()
        self._origin = ""
        self._spent = 0
        self._refused: list[str] = []
        self._live: set[connect.Attempt] = set()  # the connections under way, cut by stop()
        self._stopping = False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.gateway = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @contextmanager
    def page(self, origin: str) -> Iterator[None]:
        """Serve one page, whose configured URL is `origin` (its host and port may be internal)."""
        with self._lock:
            self._origin, self._spent, self._refused = origin, 0, []
        try:
            yield
        finally:
            with self._lock:
                self._origin = ""  # between pages nothing is trusted

    @property
    def refused(self) -> tuple[str, ...]:
        """Why connections of the current page were refused."""
        with self._lock:
            return tuple(self._refused)

    def stop(self) -> None:
        """The run is stopping (Ctrl-C): every connection under way is cut, no new one is made, so
        the page being loaded ends at once. Any thread may call it."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for attempt in live:
            attempt.cut()

    @contextmanager
    def watched(self, attempt: connect.Attempt) -> Iterator[bool]:
        """Keep `attempt` where stop() cuts it; yields False when the run is already stopping."""
        with self._lock:
            going_on = not self._stopping
            if going_on:
                self._live.add(attempt)
        try:
            yield going_on
        finally:
            with self._lock:
                self._live.discard(attempt)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # ------------------------------------------------------------ used by the handler

    def origin(self) -> str:
        with self._lock:
            return self._origin

    def refuse(self, reason: str) -> None:
        log.info("browser: %s", reason)
        with self._lock:
            self._refused.append(reason)

    def spend(self, size: int) -> bool:
        """Count `size` bytes read for the page; False once the page has read more than max_bytes."""
        with self._lock:
            self._spent += size
            return self._spent <= self.max_bytes


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    gateway: Gateway


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        gateway = self.server.gateway
        client: socket.socket = self.request
        client.settimeout(gateway.timeout)
        try:
            head, rest = _read_head(client)
            target = _Target.of(head)
        except (OSError, ValueError) as exc:
            return _answer(client, 400, f"not a proxy request: {exc}")
        origin = gateway.origin()
        if not origin:
            return _answer(client, 403, "no page is being fetched")
        url = f"{target.scheme}://{_netloc(target.host, target.port)}/"
        trusted = gateway.policy.trusts(url, origin)
        with connect.attempt(gateway.policy, trusted=trusted, seconds=gateway.seconds) as attempt, gateway.watched(
            attempt
        ) as going_on:
            if not going_on:
                return _answer(client, 503, "the run is stopping")
            try:
                upstream = attempt.open(target.host, target.port, gateway.timeout, None, None)
            except RefusedAddress as exc:
                gateway.refuse(str(exc))
                return _answer(client, 403, str(exc))
            except OSError as exc:
                return _answer(client, 502, f"cannot connect to {_netloc(target.host, target.port)}: {exc}")
            try:
                attempt.watch(client)  # the browser's side is shut at the deadline too
                if target.tunnel:
                    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    upstream.sendall(target.forwarded(head) + rest)
                _pump(client, upstream, gateway)
            except OSError:
                pass  # either side hung up, or the deadline shut them
            finally:
                upstream.close()


class _Target:
    """Where a proxy request goes: a CONNECT tunnel (https, wss) or a plain http request."""

    def __init__(self, scheme: str, host: str, port: int, tunnel: bool, path: bytes = b"/") -> None:
        self.scheme, self.host, self.port, self.tunnel, self.path = scheme, host, port, tunnel, path

    @classmethod
    def of(cls, head: bytes) -> _Target:
        line = head.split(b"\r\n", 1)[0]
        method, target, _version = line.split(b" ", 2)
        if method.upper() == b"CONNECT":
            parts = urlsplit("//" + target.decode("ascii"))
            if not parts.hostname:
                raise ValueError("CONNECT without a host")
            return cls("https", parts.hostname, parts.port or 443, True)
        parts = urlsplit(target.decode("ascii"))
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise ValueError("only http:// requests and CONNECT are proxied")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls("http", parts.hostname, parts.port or 80, False, path.encode("ascii"))

    def forwarded(self, head: bytes) -> bytes:
        """The request as the server is sent it: its path alone, the hop's headers replaced by
        Connection: close."""
        line, *headers = head.split(b"\r\n")
        method, _target, version = line.split(b" ", 2)
        kept = [h for h in headers if h and h.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
        return b"\r\n".join([b" ".join((method, self.path, version)), *kept, b"Connection: close", b"", b""])


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request's head (up to its blank line) and what was read past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD_BYTES:
            raise ValueError(f"a request head over {MAX_HEAD_BYTES} bytes")
        chunk = sock.recv(_CHUNK)
        if not chunk:
            raise ValueError("the connection closed before the request was complete")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pump(client: socket.socket, upstream: socket.socket, gateway: Gateway) -> None:
    """Carry bytes both ways until a side closes, the deadline shuts them, or the page has read
    its max_bytes."""
    peers = {client: upstream, upstream: client}
    while True:
        ready, _, _ = select.select(list(peers), [], [], gateway.timeout)
        if not ready:
            return  # nothing either way for a whole timeout
        for sock in ready:
            data = sock.recv(_CHUNK)
            if not data:
                return
            if sock is upstream and not gateway.spend(len(data)):
                log.info("browser: the page read more than %d bytes; its connection is cut", gateway.max_bytes)
                return
            peers[sock].sendall(data)


def _answer(sock: socket.socket, status: int, reason: str) -> None:
    """The gateway's own answer (a refusal, a bad request), and the connection closed."""
    body = reason.encode("utf-8", "replace")
    phrase = HTTPStatus(status).phrase
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nX-Watcher-Gateway: refused\r\nConnection: close\r\n\r\n"
    )
    try:
        sock.sendall(head.encode("ascii") + body)
    except OSError:
        pass


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

