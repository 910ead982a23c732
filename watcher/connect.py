"""The connections a fetch opens: internal addresses refused, one deadline per attempt.

Internal addresses. A request may not connect to an internal address — loopback, private,
link-local (169.254.169.254, where clouds serve instance credentials), multicast, reserved,
unspecified or otherwise not globally routable; IPv4, IPv6 and IPv4-mapped IPv6 alike, however
the host is written (a name, 127.1, 2130706433, 0x7f000001, [::ffff:127.0.0.1]: getaddrinfo
resolves them all, and the addresses it gives are what is judged). Internal addresses are allowed

* for the host and port of the configured URL the request started from: a source's own URL, or for
  an attachment the URL of the page that linked it (same host as written, same port), and
* for what ``[fetch] allow_internal`` names (``parse_allowance``): an IP address (``10.1.2.3``,
  ``fd00::1``) or a network (``10.0.0.0/8``), judged on the address connected to; an address with a
  port (``10.1.2.3:8080``, ``[fd00::1]:8080``); a host name (``intranet.example``, any port) or a
  host name and port (``intranet.example:8080``), judged on the URL's host — naming a host trusts
  whatever it resolves to.

So a page cannot lead watcher to another port of the machine, to the metadata service or into the
local network, by a link or by a redirect, while a configured source on 127.0.0.1 still works.

The judgement is made where the connection is made: the session's pools (GuardedAdapter) open
their connections through the current Attempt, which resolves the host itself, judges every
address before connecting and the peer (getpeername) after, and judges a kept-alive connection
again before it carries another request. A name that resolves to a public address when the
Fetcher checks it and to 127.0.0.1 when the connection is made (DNS rebinding) is still refused.
Through an HTTP(S) proxy from the environment (HTTP_PROXY …) the proxy connects: its own address
is not judged (the operator chose it) and only the Fetcher's check of the URL, before the request,
applies to the target; the deadline holds all the same (not through a SOCKS proxy, whose pools
make their own connections).

The deadline. Every request attempt runs inside ``attempt()``, with one wall-clock deadline for
connecting, the status line, the headers and the body: connecting waits at most the time left, and
a watchdog (threading.Timer) shuts the attempt's sockets down at the deadline, so that a read
blocked on a server trickling a byte at a time returns at once. Name resolution (getaddrinfo) is
the one wait the deadline cannot cut short.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

from watcher.errors import RefusedAddress
from watcher.links import WEB_SCHEMES, Allowance, IPAddress, parse_allowance

_DEFAULT_PORTS = {"http": 80, "https": 443}


# ---------------------------------------------------------------- what is internal


def internal_kind(address: IPAddress) -> str | None:
    """What kind of internal address this is ("loopback", "private" …); None for a public one."""
    kinds = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),  # shared (100.64/10) and other special ranges
    )
    return next((kind for kind, flag in kinds if flag), None)


def _address(text: str) -> IPAddress:
    """An address as getaddrinfo or getpeername gives it, IPv4-mapped IPv6 as IPv4."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def endpoint(url: str) -> tuple[str, int]:
    """The host (lower case, no brackets, no final dot) and port (the scheme's default if none)
    a URL names."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    return host, port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)


@dataclass(frozen=True)
class AddressPolicy:
    """Which internal addresses a request may reach, given the allow-list."""

    allowances: tuple[Allowance, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> AddressPolicy:
        return cls(tuple(parse_allowance(entry) for entry in entries))

    def trusts(self, url: str, origin: str) -> bool:
        """Whether `url` may lead to internal addresses at all: it is at the host and port of the
        configured URL `origin`, or allow_internal names its host."""
        host, port = endpoint(url)
        return (host, port) == endpoint(origin) or any(a.names(host, port) for a in self.allowances)

    def judge(self, address: str, port: int) -> str | None:
        """Why connecting to `address` on `port` is refused; None when it is allowed."""
        ip = _address(address)
        kind = internal_kind(ip)
        if kind is None or any(a.covers(ip, port) for a in self.allowances):
            return None
        return f"{ip} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} address"

    def refusal(self, url: str, origin: str) -> str | None:
        """Why fetching `url` (reached from the configured URL `origin`) is refused, judged on what
        its host resolves to now; None when it is allowed. The connection is judged again."""
        if urlsplit(url).scheme.lower() not in WEB_SCHEMES or self.trusts(url, origin):
            return None
        host, port = endpoint(url)
        try:
            found = _resolve(host, port)
        except OSError:
            return None  # the connection will say it cannot resolve the name
        for *_, sockaddr in found:
            reason = self.judge(sockaddr[0], port)
            if reason:
                return _refused(host, port, reason)
        return None


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)


def _refused(host: str, port: int, reason: str) -> str:
    return (
        f"refused to connect to {host}:{port}: {reason} (a page or a redirect may not lead to "
        "internal addresses; [fetch] allow_internal can allow it)"
    )


# ---------------------------------------------------------------- one attempt


class Attempt:
    """One request attempt: whether its host may be internal, and its deadline. Its sockets are
    shut down when the deadline passes."""

    def __init__(self, policy: AddressPolicy, trusted: bool, seconds: float) -> None:
        self.policy = policy
        self.trusted = trusted
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed (what was read may then be cut short)."""
        return self._fired or time.monotonic() >= self.deadline

    def open(
        self, host: str, port: int, timeout: float | None, options: Any, source: Any, *, proxy: bool = False
    ) -> socket.socket:
        """A connected socket to host:port; every address judged before connecting, the peer
        after (a proxy's are not)."""
        judged = not (self.trusted or proxy)
        found = _resolve(host, port)
        if judged:
            for *_, sockaddr in found:
                reason = self.policy.judge(sockaddr[0], port)
                if reason:
                    raise RefusedAddress(_refused(host, port, reason))
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in found:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no time left of the {self.seconds:g} s deadline")
            sock = socket.socket(family, kind, proto)
            try:
                for option in options or ():
                    sock.setsockopt(*option)
                sock.settimeout(left if timeout is None else min(timeout, left))
                if source:
                    sock.bind(source)
                sock.connect(sockaddr)
                if judged:
                    self._judge_peer(sock, host, port)
                sock.settimeout(timeout)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            except BaseException:
                sock.close()
                raise
            self.watch(sock)
            return sock
        raise error or OSError(f"{host}: getaddrinfo gave no address")

    def adopt(self, sock: socket.socket, host: str, port: int, *, proxy: bool = False) -> None:
        """A kept-alive connection about to carry this attempt's request: judged (unless it goes
        to a proxy) and watched."""
        if not (self.trusted or proxy):
            self._judge_peer(sock, host, port)
        self.watch(sock)

    def _judge_peer(self, sock: socket.socket, host: str, port: int) -> None:
        reason = self.policy.judge(sock.getpeername()[0], port)
        if reason:
            raise RefusedAddress(_refused(host, port, reason))

    def watch(self, sock: socket.socket) -> None:
        """Have the watchdog shut `sock` down at the deadline. It watches a duplicate of the
        descriptor: TLS takes the socket object over (and a TLS socket's own shutdown would
        touch the TLS state another thread reads through), the connection stays the same."""
        with self._lock:
            if self._over:
                return
            watched = socket.fromfd(sock.fileno(), sock.family, sock.type)
            self._sockets.append(watched)
            if self._fired:
                _shut(watched)

    def cut(self) -> None:
        """Shut the attempt's connections down now (the run is stopping): a blocked read returns."""
        self._expire()

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self._fired = True
            for sock in self._sockets:
                _shut(sock)

    def _start(self) -> None:
        self._timer.start()

    def _finish(self) -> None:
        with self._lock:  # after this the watchdog leaves the connections alone: they may be kept alive
            self._over = True
            for sock in self._sockets:
                sock.close()  # the duplicate only
            self._sockets.clear()
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # a read blocked on the connection returns at once
    except OSError:
        pass  # already closed


_local = threading.local()


@contextmanager
def attempt(policy: AddressPolicy, *, trusted: bool, seconds: float) -> Iterator[Attempt]:
    """Run one request attempt of this thread under `policy`, with a deadline `seconds` away."""
    current, outer = Attempt(policy, trusted, seconds), getattr(_local, "attempt", None)
    _local.attempt = current
    current._start()
    try:
        yield current
    finally:
        current._finish()
        _local.attempt = outer


def _current() -> Attempt:
    current: Attempt | None = getattr(_local, "attempt", None)
    if current is None:  # only the Fetcher uses these pools, always inside attempt()
        raise RefusedAddress("a connection outside a fetch attempt")
    return current


# ---------------------------------------------------------------- urllib3 and requests


class _Guarded:
    """What the guarded connections add to urllib3's: sockets opened through the Attempt, with
    urllib3's own errors for what went wrong."""

    host: str
    port: int
    timeout: float | None
    source_address: Any
    socket_options: Any
    _dns_host: str
    proxy: Any

    def _new_conn(self) -> socket.socket:
        try:
            return _current().open(
                self._dns_host, self.port, self.timeout, self.socket_options, self.source_address,
                proxy=self.proxy is not None,
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedPool:
    """A kept-alive connection is judged again before each request it carries."""

    host: str
    port: int | None

    def _validate_conn(self, conn: Any) -> None:
        kept = conn.sock is not None
        super()._validate_conn(conn)  # type: ignore[misc]  # connects a new HTTPS connection
        if kept:
            _current().adopt(conn.sock, self.host, conn.port, proxy=conn.proxy is not None)


class _GuardedHTTPPool(_GuardedPool, HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(_GuardedPool, HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_GUARDED_POOLS = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections are opened, judged and watched through the Attempt."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _GUARDED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools make their own connections
            manager.pool_classes_by_scheme = _GUARDED_POOLS
        return manager
