"""Fetching documents politely: HTTP(S) with validators, retries, caps; and file:// URLs.

One Fetcher serves one run. It may be called from many threads at once; per host it keeps at most
``per_host`` requests in flight, spaces request starts by ``delay`` seconds (or the host's
robots.txt Crawl-delay when longer, up to MAX_CRAWL_DELAY) and reads robots.txt once, its first
ROBOTS_MAX_BYTES only.

Bounds of one request attempt: ``timeout`` for each wait on the network (connecting, each read),
and one wall-clock deadline, ATTEMPT_DEADLINE_FACTOR × ``timeout``, for the whole attempt —
connecting, status line, headers and body — so that a server trickling a byte at a time cannot
hold a worker for as long as it likes (watcher.connect enforces it). An attempt past its deadline
is not retried. A fetch makes at most ``retries`` + 1 attempts per hop and ``max_redirects`` + 1
hops; requests to one host start max(``delay``, Crawl-delay capped at MAX_CRAWL_DELAY) apart.

Internal addresses: a URL a page gave (``origin`` is then the page's configured URL) and every
redirect hop may only reach loopback, private, link-local … addresses at the host and port of the
configured URL, or where ``allow_internal`` allows it; see watcher.connect.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname
from urllib.robotparser import RobotFileParser

import requests
from requests.utils import requote_uri
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import SSLError as TLSError

from watcher import connect
from watcher.connect import AddressPolicy, GuardedAdapter, endpoint
from watcher.errors import FetchError, Interrupted, RefusedAddress
from watcher.links import FILE_SCHEME, WEB_SCHEMES
from watcher.model import Fetched, FetchSettings

log = logging.getLogger(__name__)

BACKOFF = 0.5  # seconds before the first retry; doubled for each further one
MAX_BACKOFF = 60.0  # seconds: the longest wait before a retry, however many retries are set
ROBOTS_MAX_BYTES = 512 * 1024  # Google's limit; anything past it is ignored
# A robots.txt may not space requests to its host further apart than this (seconds): 3600 would
# make one source of that host a day's work.
MAX_CRAWL_DELAY = 60.0
# One attempt, from connecting to the body's last byte, must be done within this many read
# timeouts: 300 s with the default 30 s, time for 50 MB (the default size cap) at 170 KB/s.
ATTEMPT_DEADLINE_FACTOR = 10
_CHUNK = 64 * 1024


# Statuses a challenge or block page comes with (watcher.challenge): their body is read, at most
# CHALLENGE_BODY_BYTES of it, to tell a challenge from a plain refusal.
CHALLENGE_STATUSES = (403, 412, 429)
CHALLENGE_BODY_BYTES = 512 * 1024


class HTTPStatusError(FetchError):
    """The server answered with an error status (4xx, or 5xx after the retries). For a status of
    CHALLENGE_STATUSES, `body` is what came with it (cut at CHALLENGE_BODY_BYTES)."""

    def __init__(self, message: str, status: int, body: bytes = b"", content_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.content_type = content_type


class _Retryable(Exception):
    """An attempt failed in a way worth another try (connection error, 5xx, truncated body)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Ask:
    """What a request asks for, the same for each of its redirect hops and attempts."""

    origin: str  # the configured URL it started from: its host and port may be internal
    max_bytes: int
    headers: dict[str, str] = field(default_factory=dict)
    prefix: bool = False  # a longer body is cut to max_bytes, not refused (robots.txt)


@dataclass(frozen=True)
class _Redirect:
    """A 3xx answer with a Location: the next hop, not a document."""

    location: str  # absolute


class _Session(requests.Session):
    """A session that leaves redirects to the Fetcher. With allow_redirects=False requests still
    reads a redirect's whole body (to prepare Response.next), uncapped; without a redirect target
    it has nothing to prepare."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


@dataclass
class _Host:
    """Politeness state of one scheme://host:port for the run."""

    slots: threading.BoundedSemaphore
    delay: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    robots: RobotFileParser | FetchError | None = None


class Fetcher:
    """Fetches URLs into Fetched values; raises FetchError with a clear message."""

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        try:
            self._policy = AddressPolicy.of(self.settings.allow_internal)
        except ValueError as exc:
            raise FetchError(f"allow_internal: {exc}") from None
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        # the policy's verdict on a scheme, host and port reached from an origin's host and port,
        # for the run: one resolution each (the connection itself is judged again)
        self._verdicts: dict[tuple[str, str, int, str, int], str | None] = {}
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._stopping = threading.Event()
        self._live: set[connect.Attempt] = set()  # the attempts under way, cut by stop()
        self._live_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Stop the run's fetching (Ctrl-C): every attempt under way is cut, waits for politeness
        or a retry end, and this and every later fetch raise Interrupted. Any thread may call it."""
        self._stopping.set()
        with self._live_lock:
            live = list(self._live)
        for current in live:
            current.cut()

    def _go_on(self, url: str) -> None:
        if self._stopping.is_set():
            raise Interrupted(f"{url}: not fetched: the run was stopped")

    def _pause(self, url: str, seconds: float) -> None:
        """Wait `seconds`, or raise Interrupted as soon as the run is stopped."""
        if self._stopping.wait(seconds):
            self._go_on(url)

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    # ------------------------------------------------------------ public

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
        origin: str | None = None,
    ) -> Fetched:
        """Fetch one URL. With etag/last_modified a 304 answer gives Fetched(not_modified=True).

        `origin` is the configured URL the address came from (a page's, for its attachment); its
        host and port may be internal. None: `url` is itself configured."""
        self._go_on(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme == FILE_SCHEME:
            return self._file(url)
        if scheme not in WEB_SCHEMES:
            raise FetchError(f"{url}: unsupported URL scheme {scheme!r}")
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        ask = _Ask(origin or url, self.settings.max_bytes, conditional)
        return self._follow(url, ask, robots=robots)

    @property
    def policy(self) -> AddressPolicy:
        """The run's address policy (the browser's gateway holds its pages to it too)."""
        return self._policy

    @contextmanager
    def page_slot(self, url: str, *, robots: bool = True, origin: str | None = None) -> Iterator[None]:
        """Leave to the caller one request to `url` that the Fetcher does not make (a browser's
        page): robots.txt consulted when `robots`, the host's politeness kept while it runs."""
        if robots:
            self._check_robots(url, origin or url)
        with self._polite(url):
            yield

    def refusal(self, url: str, origin: str) -> str | None:
        """Why `url`, reached from the configured URL `origin`, may not be fetched (an internal
        address the config does not allow); None when it may. Resolves the host name once a run."""
        key = (urlsplit(url).scheme.lower(), *endpoint(url), *endpoint(origin))
        if key not in self._verdicts:
            self._verdicts[key] = self._policy.refusal(url, origin)
        return self._verdicts[key]

    # ------------------------------------------------------------ redirects

    def _follow(self, url: str, ask: _Ask, *, robots: bool) -> Fetched:
        """Fetch `url`, following up to max_redirects redirects ourselves: each hop is a request
        like any other (its address judged, robots.txt when `robots`, politeness per host,
        retries) and may only lead to http(s). Redirect bodies are never read."""
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            reason = self.refusal(current, ask.origin)  # before robots.txt: no request at all
            if reason:
                via = f"redirected to {current[:200]}: " if current != url else ""
                raise RefusedAddress(f"{url}: {via}{reason}")
            if robots:
                self._check_robots(current, ask.origin)
            answer = self._with_retries(current, ask)
            if isinstance(answer, Fetched):
                return answer
            try:
                scheme = urlsplit(answer.location).scheme.lower()
            except ValueError:
                scheme = ""
            if scheme not in WEB_SCHEMES:
                raise FetchError(
                    f"{url}: redirected to {answer.location[:200]!r}; only http(s) redirects are followed"
                )
            current = answer.location
        raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects")

    # ------------------------------------------------------------ HTTP

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            # A session per thread: requests does not promise that one Session is thread-safe.
            session = _Session()
            guarded = GuardedAdapter()  # connections judged and under the attempt's deadline
            session.mount("http://", guarded)
            session.mount("https://", guarded)
            session.headers["User-Agent"] = self.settings.user_agent
            self._local.session = session
            with self._hosts_lock:
                self._sessions.append(session)
        return session

    def _host(self, url: str) -> _Host:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        with self._hosts_lock:
            host = self._hosts.get(key)
            if host is None:
                host = _Host(threading.BoundedSemaphore(self.settings.per_host), self.settings.delay)
                self._hosts[key] = host
            return host

    @contextmanager
    def _polite(self, url: str) -> Iterator[None]:
        """Hold one of the host's slots, starting no sooner than `delay` after the last start."""
        host = self._host(url)
        with host.slots:
            with host.lock:
                now = time.monotonic()
                start = max(now, host.next_start)
                host.next_start = start + host.delay
            if start > now:
                self._pause(url, start - now)
            yield

    def _with_retries(self, url: str, ask: _Ask) -> Fetched | _Redirect:
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            try:
                return self._attempt(url, ask)
            except _Retryable as exc:
                if attempt + 1 < attempts:
                    self._pause(url, min(BACKOFF * 2**attempt, MAX_BACKOFF))
                    continue
                tries = f" (after {attempts} attempts)" if attempts > 1 else ""
                message = f"{url}: {exc}{tries}"
                if exc.status is not None:
                    raise HTTPStatusError(message, exc.status) from None
                raise FetchError(message) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, url: str, ask: _Ask) -> Fetched | _Redirect:
        """One request under one deadline; its connection judged by the address policy."""
        seconds = ATTEMPT_DEADLINE_FACTOR * self.settings.timeout
        started = time.monotonic()
        with self._polite(url):
            trusted = self._policy.trusts(url, ask.origin)
            with connect.attempt(self._policy, trusted=trusted, seconds=seconds) as current, self._watched(current):
                try:
                    answer = self._exchange(url, ask, started)
                except RefusedAddress as exc:
                    raise RefusedAddress(f"{url}: {exc}") from None
                except Exception:
                    self._go_on(url)  # stop() cut the connection
                    if current.expired:  # the watchdog cut the connection: say why
                        raise FetchError(_too_slow(url, seconds)) from None
                    raise
                self._go_on(url)
                if current.expired:  # what was read may have been cut short
                    raise FetchError(_too_slow(url, seconds))
                return answer

    @contextmanager
    def _watched(self, current: connect.Attempt) -> Iterator[None]:
        """`current` is cut by stop() while it runs (at once when the run is already stopping)."""
        with self._live_lock:
            self._live.add(current)
        if self._stopping.is_set():
            current.cut()
        try:
            yield
        finally:
            with self._live_lock:
                self._live.discard(current)

    def _exchange(self, url: str, ask: _Ask, started: float) -> Fetched | _Redirect:
        timeout = self.settings.timeout
        try:
            response = self._session().get(
                url, headers=ask.headers, timeout=(timeout, timeout), stream=True, allow_redirects=False
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(_describe(exc, timeout)) from None
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {exc}") from None
        done = False  # the answer read to its end: its connection goes back to the pool
        try:
            status = response.status_code
            response_headers = {key.lower(): value for key, value in response.headers.items()}
            location = _location(response)
            if location is not None:
                return _Redirect(location)
            if status == 304:
                done = response.raw.read(1) == b""  # a 304 has no body (http.client reads none)
                return Fetched(
                    url=response.url,
                    status=status,
                    body=b"",
                    headers=response_headers,
                    elapsed=time.monotonic() - started,
                    not_modified=True,
                )
            reason = f"HTTP {status} {response.reason or ''}".strip()
            if status >= 500:
                raise _Retryable(f"server error: {reason}", status)
            if status >= 300:
                missing = " without a Location to follow" if status < 400 else ""
                raise HTTPStatusError(f"{url}: {reason}{missing}", status, *_refusal_body(response, ask, url, timeout))
            body = _read_capped(response, ask, url, timeout)
            done = not ask.prefix or response.raw.read(1) == b""
        finally:
            _finish(response, done)
        return Fetched(
            url=response.url,
            status=status,
            body=body,
            headers=response_headers,
            elapsed=time.monotonic() - started,
        )

    # ------------------------------------------------------------ robots.txt

    def _check_robots(self, url: str, origin: str) -> None:
        host = self._host(url)
        with host.robots_lock:  # one fetch of robots.txt per host and run, even from many threads
            if host.robots is None:
                try:
                    host.robots = self._load_robots(url, host, origin)
                except FetchError as exc:
                    host.robots = exc
        if isinstance(host.robots, FetchError):
            raise FetchError(str(host.robots))
        if not host.robots.can_fetch(self.settings.user_agent, url):
            raise FetchError(
                f"{url}: robots.txt of this site disallows it "
                "(set robots = false on the source to fetch it anyway)"
            )

    def _load_robots(self, url: str, host: _Host, origin: str) -> RobotFileParser:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        parser = RobotFileParser(robots_url)
        try:
            # one byte more than is read: a file of exactly ROBOTS_MAX_BYTES is whole, not cut
            fetched = self._follow(robots_url, _Ask(origin, ROBOTS_MAX_BYTES + 1, prefix=True), robots=False)
        except HTTPStatusError as exc:
            if exc.status in (401, 403):
                parser.parse(["User-agent: *", "Disallow: /"])  # RFC 9309 leaves this open; robotparser's convention
            elif exc.status < 500:
                parser.parse([])  # no robots.txt: everything is allowed
            else:
                raise FetchError(f"{url}: not fetched while its robots.txt is unavailable: {exc}") from None
            return parser
        # Other FetchErrors (host unreachable …) propagate: their message names robots.txt's URL.
        text = fetched.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
        if len(fetched.body) > ROBOTS_MAX_BYTES:  # cut: its last line may be half a rule
            log.info("%s: over %d bytes; only the first %d are read", robots_url, ROBOTS_MAX_BYTES, ROBOTS_MAX_BYTES)
            text = text[: text.rfind("\n") + 1]
        parser.parse(text.splitlines())
        crawl_delay = parser.crawl_delay(self.settings.user_agent)
        if crawl_delay:
            delay = float(crawl_delay)
            if delay > MAX_CRAWL_DELAY:
                log.warning(
                    "%s asks for a Crawl-delay of %g s; %g s (MAX_CRAWL_DELAY) is used", robots_url, delay, MAX_CRAWL_DELAY
                )
                delay = MAX_CRAWL_DELAY
            with host.lock:
                host.delay = max(host.delay, delay)
        return parser

    # ------------------------------------------------------------ file://

    def _file(self, url: str) -> Fetched:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"{url}: file:// URLs must name a local file (no host)")
        path = url2pathname(parts.path)
        started = time.monotonic()
        try:
            size = os.path.getsize(path)
            if size > self.settings.max_bytes:
                raise FetchError(
                    f"{url}: file is {size} bytes, over the size cap of {self.settings.max_bytes}"
                )
            with open(path, "rb") as handle:
                body = handle.read(self.settings.max_bytes + 1)
            mtime = os.path.getmtime(path)
        except OSError as exc:
            raise FetchError(f"{url}: cannot read file: {exc.strerror or exc}") from None
        if len(body) > self.settings.max_bytes:
            raise FetchError(f"{url}: file grew over the size cap of {self.settings.max_bytes}")
        content_type = mimetypes.guess_type(path)[0] or ""
        headers = {"content-type": content_type, "last-modified": formatdate(mtime, usegmt=True)}
        return Fetched(
            url=url, status=0, body=body, headers=headers, elapsed=time.monotonic() - started
        )


def _location(response: requests.Response) -> str | None:
    """The absolute address a redirect answer leads to; None for any other answer."""
    if not response.is_redirect:
        return None
    target = response.headers["location"]
    try:  # http.client reads headers as Latin-1; servers mostly send UTF-8 (as requests assumes)
        target = target.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    return requote_uri(urljoin(response.url, target))


def _finish(response: requests.Response, done: bool) -> None:
    # requests' close() shuts the socket of a streamed answer whatever was read; one read to its
    # end can serve the host's next request (a re-check of many pages of one site reuses it).
    if done:
        response.raw.release_conn()
    else:
        response.close()


def _read_capped(response: requests.Response, ask: _Ask, url: str, timeout: float) -> bytes:
    """The (decompressed) body, refusing more than ask.max_bytes (or, for ask.prefix, cutting it
    there) and detecting truncation. The attempt's deadline is kept by its watchdog."""
    max_bytes = ask.max_bytes
    declared = response.headers.get("content-length", "")
    expected = int(declared) if declared.isdigit() else None
    encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    if expected is not None and not encoded and expected > max_bytes and not ask.prefix:
        raise FetchError(f"{url}: response is {expected} bytes, over the size cap of {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    try:
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            if total + len(chunk) > max_bytes:
                if ask.prefix:  # the rest is not read: closing the response drops the connection
                    chunks.append(chunk[: max_bytes - total])
                    return b"".join(chunks)
                raise FetchError(f"{url}: response body exceeds the size cap of {max_bytes} bytes")
            total += len(chunk)
            chunks.append(chunk)
    except ProtocolError:
        # urllib3 checks Content-Length and raises on a short body: the connection was cut.
        raise _Retryable(_truncated(response, expected)) from None
    except DecodeError as exc:
        raise FetchError(f"{url}: cannot decompress the body: {exc}") from None
    except ReadTimeoutError:
        raise _Retryable(f"no answer within {timeout:g} s (read timeout)") from None
    except TLSError as exc:
        raise _Retryable(f"TLS error: {str(exc)[-200:]}") from None
    received = response.raw.tell()
    if expected is not None and received < expected:
        raise _Retryable(_truncated(response, expected))
    return b"".join(chunks)


def _refusal_body(response: requests.Response, ask: _Ask, url: str, timeout: float) -> tuple[bytes, str]:
    """The body and content type of an answer whose status a challenge page comes with; none for
    any other (or when it cannot be read: the status says enough)."""
    if response.status_code not in CHALLENGE_STATUSES:
        return b"", ""
    try:
        body = _read_capped(response, _Ask(ask.origin, CHALLENGE_BODY_BYTES, prefix=True), url, timeout)
    except (FetchError, _Retryable):
        return b"", ""
    return body, response.headers.get("content-type", "")


def _too_slow(url: str, seconds: float) -> str:
    return (
        f"{url}: no complete answer within {seconds:g} s (the deadline for connecting, headers and "
        "body; the server sends too slowly)"
    )


def _truncated(response: requests.Response, expected: int | None) -> str:
    of = f" of {expected}" if expected is not None else ""
    return f"truncated body: the connection closed after {response.raw.tell()}{of} bytes"


def _describe(exc: Exception, timeout: float) -> str:
    """One short line for a requests connection error (its own text is a nested repr)."""
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        return f"connection timed out after {timeout:g} s"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s (read timeout)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error: {text[-200:]}"
    patterns = (
        (("NameResolutionError", "Name or service not known", "Temporary failure in name resolution",
          "nodename nor servname"), "cannot resolve the host name"),
        (("Connection refused",), "connection refused"),
        (("Connection reset", "RemoteDisconnected", "Connection aborted", "BadStatusLine"),
         "connection reset by the server"),
        (("Network is unreachable", "No route to host"), "network unreachable"),
    )
    for needles, message in patterns:
        if any(needle in text for needle in needles):
            return message
    return f"connection error: {text[:300]}"
