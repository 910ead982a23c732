"""The web view as a WSGI application: routes, methods, headers and errors.

Read-only by construction: GET and HEAD only (405 otherwise), a Store opened with SQLite's
mode=ro, and no route that writes. Every answer carries a Content-Security-Policy that allows no
script at all and styles only from /style.css. A raw file is always an attachment, with its
stored content type, nosniff and a sandboxing policy: a fetched page is untrusted and is never
rendered as one of ours.

The Host header is checked against the names this server answers to, so that a web page cannot
read the view through DNS rebinding (a name of the attacker's pointed at 127.0.0.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from watcher.errors import VersionNotFound, WatcherError
from watcher.language import rendering
from watcher.normalise import printable
from watcher.store import Store
from watcher.web import pages

log = logging.getLogger(__name__)

MAX_QUERY = 2048  # bytes of a query string
ALLOWED_METHODS = ("GET", "HEAD")

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
_RAW_POLICY = ("Content-Security-Policy", "default-src 'none'; sandbox")

StartResponse = Callable[[str, list[tuple[str, str]]], object]
Environ = dict[str, object]

_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            421: "Misdirected Request", 500: "Internal Server Error"}


class BadRequest(Exception):
    """A request this view cannot answer (a missing or malformed value)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _html(page: str, status: int = 200) -> Response:
    return Response(status, page.encode("utf-8"))


class Query:
    """The values of a query string, each read once and checked."""

    def __init__(self, raw: str) -> None:
        if len(raw) > MAX_QUERY:
            raise BadRequest("查询字符串过长")
        self._values = parse_qs(raw, keep_blank_values=True, max_num_fields=20)

    def text(self, name: str, default: str | None = None) -> str:
        values = self._values.get(name)
        if not values:
            if default is None:
                raise BadRequest(f"缺少参数 {name}")
            return default
        return values[0]

    def number(self, name: str) -> int:
        value = self.text(name)
        if not value.isascii() or not value.isdigit():
            raise BadRequest(f"参数 {name} 应为数字")
        return int(value)


def _raw(store: Store, query: Query) -> Response:
    download = pages.raw_download(store, query.number("id"))
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-@") else "_" for c in download.filename)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(download.filename, safe='')}"
    return Response(200, download.body, download.content_type, (("Content-Disposition", disposition), _RAW_POLICY))


ROUTES: dict[str, Callable[[Store, Query], Response]] = {
    "/": lambda store, q: _html(pages.sources_page(store)),
    "/source": lambda store, q: _html(pages.source_page(store, q.text("name"))),
    "/diff": lambda store, q: _html(pages.diff_page(store, q.number("old"), q.number("new"), q.text("all", "") == "1")),
    "/ledger": lambda store, q: _html(pages.ledger_page(store, q.text("name"), q.text("changed", "") == "1")),
    "/search": lambda store, q: _html(pages.search_page(store, q.text("q", ""))),
    "/raw": _raw,
    "/feed": lambda store, q: Response(
        200, pages.feed(store, q.text("name", "") or None).encode("utf-8"), "application/atom+xml; charset=utf-8"
    ),
    "/style.css": lambda store, q: Response(200, pages.style_sheet().encode("utf-8"), "text/css; charset=utf-8"),
    "/favicon.ico": lambda store, q: Response(204, b"", "image/x-icon"),  # none, and no 404 in the console
}


class WebView:
    """The WSGI application over one read-only Store. `hosts`: the Host names it answers to
    (None: any, for a view deliberately opened to the network)."""

    def __init__(self, store: Store, hosts: frozenset[str] | None, timezone: str | None = None) -> None:
        self.store = store
        self.hosts = hosts
        self.timezone = timezone  # [report] timezone; None: the system's

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        # the view's own words are Chinese; its times in the configured zone
        with rendering("zh", self.timezone):
            response = self._respond(environ, method)
        own = {name for name, _ in response.headers}  # a raw file's stricter policy replaces ours
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *(header for header in SECURITY_HEADERS if header[0] not in own),
            *response.headers,
        ]
        if response.status == 405:
            headers.append(("Allow", ", ".join(ALLOWED_METHODS)))
        start_response(f"{response.status} {_REASONS[response.status]}", headers)
        return [b""] if method == "HEAD" else [response.body]

    def _respond(self, environ: Environ, method: str) -> Response:
        if method not in ALLOWED_METHODS:
            return _html(pages.error_page("此视图只读：只接受 GET 和 HEAD 请求。"), 405)
        if self.hosts is not None and _host_name(str(environ.get("HTTP_HOST", ""))) not in self.hosts:
            return _html(pages.error_page("此地址不是本视图的地址。"), 421)
        route = ROUTES.get(str(environ.get("PATH_INFO", "/")))
        if route is None:
            return _html(pages.not_found_page("没有这个页面。"), 404)
        try:
            return route(self.store, Query(str(environ.get("QUERY_STRING", ""))))
        except BadRequest as exc:
            return _html(pages.error_page(str(exc)), 400)
        except VersionNotFound as exc:
            return _html(pages.not_found_page(str(exc)), 404)
        except WatcherError as exc:
            return _html(pages.error_page(str(exc)), 500)
        except Exception:  # a bug: logged, and the reader gets a page, not a dropped connection
            log.exception("web view: %s failed", printable(str(environ.get("PATH_INFO", ""))))
            return _html(pages.error_page("内部错误，详情见服务端日志。"), 500)


def _host_name(host: str) -> str:
    """The name of a Host header, without its port: "127.0.0.1", "localhost", "::1"."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
