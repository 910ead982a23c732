"""Links and the addresses they lead to: which URL schemes are the web's, which links a page may
lead watcher to, and the internal addresses `[fetch] allow_internal` lets them reach. Read by the
configuration, the fetcher and its connections (watcher.connect), the HTML reader and the check.
Standard library only: the configuration reads it at every start."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ALLOW_FORMS", "FILE_SCHEME", "WEB_SCHEMES", "Allowance", "followable_link", "parse_allowance"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

WEB_SCHEMES = frozenset({"http", "https"})
FILE_SCHEME = "file"


def followable_link(link: str, page_url: str) -> bool:
    """Whether a link found on the page at `page_url` may be fetched: a web page leads to web
    addresses only and a local (file://) page to local files only, so that a page on the web can
    never make watcher read a local file. A page without an address (a local path) keeps web and
    relative links; nothing fetches those."""
    try:
        page, scheme = urlsplit(page_url).scheme.lower(), urlsplit(link).scheme.lower()
    except ValueError:  # a malformed address (http://[… )
        return False
    if page in WEB_SCHEMES:
        return scheme in WEB_SCHEMES
    if page == FILE_SCHEME:
        return scheme == FILE_SCHEME
    return scheme in WEB_SCHEMES or scheme == ""


ALLOW_FORMS = (
    "an IP address, a network (10.0.0.0/8), a host name, or an address or host name with :PORT "
    "([fd00::1]:8080 for IPv6)"
)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")


# ---------------------------------------------------------------- [fetch] allow_internal


@dataclass(frozen=True)
class Allowance:
    """One entry of [fetch] allow_internal: a host name or a network, with a port or any."""

    host: str | None = None  # lower case, judged on the URL's host
    network: IPNetwork | None = None  # judged on the address connected to
    port: int | None = None  # None: any port

    def names(self, host: str, port: int) -> bool:
        return self.host is not None and self.host == host and self.port in (None, port)

    def covers(self, address: IPAddress, port: int) -> bool:
        return self.network is not None and address in self.network and self.port in (None, port)


def parse_allowance(text: str) -> Allowance:
    """One allow_internal entry; ValueError saying what is wrong with it."""
    entry = text.strip().lower()
    host, port = entry, None
    if entry.startswith("["):  # [IPv6] or [IPv6]:port
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"not {ALLOW_FORMS}")
        port = _port(rest[1:]) if rest else None
    elif entry.count(":") == 1:  # host:port or IPv4:port; bare IPv6 has more colons
        host, _, port_text = entry.partition(":")
        port = _port(port_text)
    try:
        network = ipaddress.ip_network(host)  # strict: 10.1.2.3/8 is refused, not widened
    except ValueError as exc:
        if "/" in host or ":" in host:
            raise ValueError(f"not an IP address or network: {exc}") from None
        network = None
    if network is not None:
        if port is not None and "/" in host:
            raise ValueError("a network takes no port")
        return Allowance(network=network, port=port)
    if _numeric_ipv4(host):
        raise ValueError("write an IPv4 address as four decimal numbers (a.b.c.d)")
    if not _HOST_NAME.fullmatch(host) or host.rstrip(".").rsplit(".", 1)[-1].isdigit():
        raise ValueError(f"not {ALLOW_FORMS}")
    return Allowance(host=host.rstrip("."), port=port)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def _numeric_ipv4(text: str) -> bool:
    """Whether the C library reads this as an IPv4 address (127.1, 2130706433, 0x7f000001 …)."""
    try:
        socket.inet_aton(text)
    except OSError:
        return False
    return True
