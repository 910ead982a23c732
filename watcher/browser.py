"""The browser fetch: a page loaded in headless Chromium (driven by Playwright for Python), its
scripts run, and its rendered DOM taken as the body, which is then read like any fetched page.

One Chromium serves a run: started at the first page that needs it (a source with
``fetch = "browser"``, or a plain fetch that got a challenge or a script-only page), closed with
the run, one page at a time, each in a fresh context (no cookies from another page) of a
temporary profile. Playwright's sync API belongs to the thread that started it, so the browser
lives in a thread of its own and the check threads hand it pages.

Bounds of one page: ``[fetch] browser_timeout`` seconds for its document to load (parsed, its
scripts run), then at most ``browser_settle`` seconds for its requests to quiet down; a rendered
DOM over ``max_bytes`` is refused like a fetched body; a JavaScript heap of JS_HEAP_MB. Images,
fonts and media are not loaded (no text in them). Every request of the page goes out through the
gateway (watcher.gateway), which holds it to the fetch's address policy.

Not installed: Playwright (the ``browser`` extra) or Chromium (Debian's ``chromium``) gives
BrowserUnavailable, naming what to install; Playwright's own browser downloads are not used.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from watcher.connect import AddressPolicy
from watcher.errors import BrowserUnavailable, FetchError, Interrupted, RefusedAddress
from watcher.fetch import CHALLENGE_BODY_BYTES, CHALLENGE_STATUSES, HTTPStatusError
from watcher.gateway import Gateway
from watcher.model import Fetched, FetchSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

JS_HEAP_MB = 256  # V8's old space per renderer: a page's scripts get no more
# Chromium as root in a container: no sandbox (it needs user namespaces), no GPU, and none of the
# browser's own traffic (updates, sync, safe browsing, QUIC past the proxy, WebRTC's UDP).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    f"--js-flags=--max-old-space-size={JS_HEAP_MB}",
)
SKIPPED_RESOURCES = frozenset({"image", "font", "media"})  # not loaded: no text in them
HTML_TYPES = ("text/html", "application/xhtml+xml")
INSTALL_PLAYWRIGHT = "pip install 'watcher[browser]' (Playwright for Python, driving Debian's Chromium: no `playwright install`)"


class Browser:
    """One headless Chromium for a run; `fetch` loads a page in it. Thread-safe: pages are
    loaded one at a time, in the browser's own thread."""

    def __init__(self, settings: FetchSettings | None = None, policy: AddressPolicy | None = None) -> None:
        self.settings = settings or FetchSettings()
        self._policy = policy or AddressPolicy.of(self.settings.allow_internal)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser")
        self._lock = threading.Lock()
        self._closed = False
        self._stopping = False
        self._broken: BrowserUnavailable | None = None  # why it could not start, for the run
        self._playwright: Any = None
        self._chromium: Any = None
        self._gateway: Gateway | None = None
        self.started: float | None = None  # seconds its start took, once started

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str, *, origin: str | None = None, encoding: str | None = None) -> Fetched:
        """The page at `url` rendered: its DOM as an HTML body (UTF-8, or `encoding` when the source
        names one, so that it is read as configured). `origin` is the configured URL the page was
        found from (None: `url` itself). Raises BrowserUnavailable, RefusedAddress, FetchError, and
        HTTPStatusError for an error status (with the rendered body for a challenge's statuses)."""
        with self._lock:
            if self._stopping:
                raise Interrupted(f"{url}: not fetched: the run was stopped")
            if self._closed:
                raise FetchError("the browser was closed")
        try:
            fetched = self._in_thread(lambda: self._page(url, origin or url, encoding))
        except Exception:
            if self._stopping:  # stop() cut the page's connections
                raise Interrupted(f"{url}: not fetched: the run was stopped") from None
            raise
        if self._stopping:  # what was rendered may be the error page of a cut connection
            raise Interrupted(f"{url}: not fetched: the run was stopped")
        return fetched

    def stop(self) -> None:
        """The run is stopping (Ctrl-C): the page being loaded is cut (its connections through the
        gateway), and this and every later fetch raise Interrupted. Any thread may call it."""
        with self._lock:
            self._stopping = True
            gateway = self._gateway
        if gateway is not None:
            gateway.stop()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._thread.submit(self._stop).result()
        finally:
            self._thread.shutdown()

    # ------------------------------------------------------------ in the browser's thread

    def _in_thread(self, job: Callable[[], T]) -> T:
        return self._thread.submit(job).result()

    def _start(self) -> None:
        if self._broken is not None:
            raise self._broken
        if self._chromium is not None:
            if self._chromium.is_connected():
                return
            log.warning("browser: Chromium went away; starting it again")
            self._stop()
        try:
            self._launch()
        except BrowserUnavailable as exc:
            self._broken = exc
            self._stop()
            raise

    def _launch(self) -> None:
        clock = time.monotonic()
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise BrowserUnavailable(f"the browser fetch needs Playwright: {INSTALL_PLAYWRIGHT}") from None
        path = self.settings.chromium
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BrowserUnavailable(
                f"the browser fetch needs Chromium at {path} (Debian: apt-get install chromium; or set [fetch] chromium)"
            )
        settings = self.settings
        page_seconds = settings.browser_timeout + settings.browser_settle
        self._gateway = Gateway(self._policy, timeout=settings.timeout, seconds=page_seconds, max_bytes=settings.max_bytes)
        try:
            self._playwright = sync_playwright().start()
            # launch() gives Chromium a fresh temporary profile of its own, removed at close
            self._chromium = self._playwright.chromium.launch(
                executable_path=path,
                headless=True,
                args=[*CHROMIUM_FLAGS, f"--proxy-server={self._gateway.address}", "--proxy-bypass-list=<-loopback>"],
                timeout=settings.browser_timeout * 1000,
                # Ctrl-C is the run's to handle (Browser.stop cuts the page, close ends Chromium)
                handle_sigint=False,
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(f"Chromium at {path} did not start: {_first_line(exc)}") from None
        self.started = time.monotonic() - clock
        log.info("browser: Chromium started in %.1f s", self.started)

    def _stop(self) -> None:
        for part, close in ((self._chromium, "close"), (self._playwright, "stop"), (self._gateway, "close")):
            try:
                if part is not None:
                    getattr(part, close)()
            except Exception:  # closing what may be half started: nothing to tell
                log.debug("browser: closing", exc_info=True)
        self._chromium = self._playwright = self._gateway = None

    def _page(self, url: str, origin: str, encoding: str | None) -> Fetched:
        self._start()  # first: without Playwright it says what to install
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        assert self._gateway is not None
        started = time.monotonic()
        try:
            context = self._chromium.new_context(service_workers="block", accept_downloads=False)
        except PlaywrightError as exc:  # Chromium went away: started again for the next page
            raise FetchError(f"{url}: browser: {_first_line(exc)}") from None
        try:
            context.set_default_timeout(self.settings.browser_timeout * 1000)
            context.route("**/*", _route)
            with self._gateway.page(origin):
                try:
                    page = context.new_page()
                    response = self._load(page, url)
                    html = _dom(page, self.settings.max_bytes, url, self.settings.browser_settle * 1000 + 1000)
                except PlaywrightTimeout:
                    bound = self.settings.browser_timeout + self.settings.browser_settle
                    raise FetchError(f"{url}: the page's scripts kept it busy past its time bound ({bound:g} s)") from None
                except PlaywrightError as exc:
                    raise self._failure(url, exc) from None
                status = response.status if response is not None else 0
                headers = {k.lower(): v for k, v in (response.headers if response is not None else {}).items()}
                refused = self._gateway.refused
                final = page.url
        finally:
            context.close()
        if headers.get("x-watcher-gateway") == "refused" and refused:
            raise RefusedAddress(f"{url}: {refused[0]}")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in HTML_TYPES:
            raise FetchError(f"{url}: the browser fetch reads HTML pages, this is {content_type}")
        charset = encoding or "utf-8"
        body = html.encode(charset, "xmlcharrefreplace")
        if status >= 400:
            kept = body[:CHALLENGE_BODY_BYTES] if status in CHALLENGE_STATUSES else b""
            raise HTTPStatusError(f"{url}: HTTP {status} (in the browser)", status, kept, "text/html")
        # Only the content type: validators of the document would hide what its scripts changed.
        return Fetched(
            url=final, status=status, body=body, headers={"content-type": f"text/html; charset={charset}"},
            elapsed=time.monotonic() - started,
        )

    def _load(self, page: Any, url: str) -> Any:
        """Navigate; wait for the document, then up to browser_settle for its requests to end."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        settings = self.settings
        try:
            response = page.goto(url, wait_until="domcontentloaded", timeout=settings.browser_timeout * 1000)
        except PlaywrightTimeout:
            bound = settings.browser_timeout
            raise FetchError(f"{url}: the page did not load within {bound:g} s ([fetch] browser_timeout)") from None
        if settings.browser_settle > 0:
            try:
                page.wait_for_load_state("networkidle", timeout=settings.browser_settle * 1000)
            except PlaywrightTimeout:
                log.info("browser: %s still busy after %g s; its DOM is taken as it is", url, settings.browser_settle)
        return response

    def _failure(self, url: str, exc: Exception) -> FetchError:
        refused = self._gateway.refused if self._gateway else ()
        if refused:
            return RefusedAddress(f"{url}: {refused[0]}")
        return FetchError(f"{url}: browser: {_first_line(exc)}")


def _route(route: Any) -> None:
    if route.request.resource_type in SKIPPED_RESOURCES:
        route.abort("blockedbyclient")
    else:
        route.continue_()


def _dom(page: Any, max_bytes: int, url: str, timeout: float) -> str:
    """The rendered document, refused (before it is copied out of the browser) when over max_bytes."""
    root = page.locator(":root")
    # through a locator: its timeout is kept by Playwright, even while a script holds the page
    size = root.evaluate("e => e.outerHTML.length", timeout=timeout)
    if int(size) > max_bytes:
        raise FetchError(f"{url}: the rendered page exceeds the size cap of {max_bytes} bytes")
    html: str = root.evaluate("e => e.outerHTML", timeout=timeout)
    if len(html.encode("utf-8")) > max_bytes:
        raise FetchError(f"{url}: the rendered page exceeds the size cap of {max_bytes} bytes")
    return html


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
