"""watcher.fetch against a real HTTP server on loopback: validators, retries, caps, faults,
politeness and robots.txt."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest
from conftest import PageServer, case_bytes

from watcher.errors import FetchError
from watcher.fetch import ATTEMPT_DEADLINE_FACTOR, Fetcher, HTTPStatusError
from watcher.model import FetchSettings

PAGE = case_bytes("haishu-noise-page", "old.html")


def fetcher(**overrides) -> Fetcher:
    settings = {"timeout": 2.0, "retries": 0, "delay": 0.0, **overrides}
    return Fetcher(FetchSettings(**settings))


Script = Callable[[BaseHTTPRequestHandler], None]


class ScriptedServer:
    """A loopback server whose answers are written by hand (path → function of the handler),
    for what the page server cannot say: bodies trickled byte by byte, lengths that lie."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.hits: list[tuple[str, float]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.hits.append((self.path, time.monotonic()))
                script = server.scripts.get(self.path)
                try:
                    if script is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        script(self)
                except OSError:  # the client gave up: part of the tests
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(5)


def trickle(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None, step: int = 8,
            pause: float = 0.1, length: int | None = None, give_up: float = 15.0) -> Script:
    """Send `body` `step` bytes at a time, `pause` seconds apart (closing after `give_up` s)."""

    def script(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        handler.end_headers()
        stop = time.monotonic() + give_up
        for start in range(0, len(body), step):
            if time.monotonic() > stop:
                break
            handler.wfile.write(body[start : start + step])
            handler.wfile.flush()
            time.sleep(pause)
        handler.close_connection = True

    return script


def test_fetch_returns_body_headers_and_names_the_tool(http_server: PageServer) -> None:
    http_server.set("/plan.html", PAGE, headers={"X-Extra": "1"})
    with fetcher() as f:
        fetched = f.fetch(http_server.url("/plan.html"))
    assert fetched.body == PAGE and fetched.status == 200
    assert fetched.content_type == "text/html" and fetched.headers["x-extra"] == "1"
    assert not fetched.not_modified
    user_agent = http_server.hits_of("/plan.html")[0].headers["user-agent"]
    assert user_agent.startswith("watcher/")


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
def test_conditional_get_gives_not_modified(http_server: PageServer, validator: str) -> None:
    options = {"etag": '"v1"'} if validator == "etag" else {"last_modified": "Wed, 19 Jan 2022 06:53:00 GMT"}
    http_server.set("/plan.html", PAGE, **options)
    with fetcher() as f:
        first = f.fetch(http_server.url("/plan.html"))
        second = f.fetch(http_server.url("/plan.html"), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.status == 304 and second.body == b""
    sent = http_server.hits_of("/plan.html")[1].headers
    if validator == "etag":
        assert sent["if-none-match"] == '"v1"'
    else:
        assert sent["if-modified-since"] == "Wed, 19 Jan 2022 06:53:00 GMT"



def test_a_body_read_to_the_end_and_304s_keep_the_connection(http_server: PageServer) -> None:
    """A first fetch read whole, then two conditional re-checks of the same host: one connection."""
    http_server.set("/plan.html", PAGE, etag='"v1"')
    http_server.set("/other.html", PAGE, etag='"v2"')
    with fetcher() as f:
        first = f.fetch(http_server.url("/plan.html"))
        again = f.fetch(http_server.url("/plan.html"), etag=first.etag)
        other = f.fetch(http_server.url("/other.html"), etag='"v2"')
    assert first.body == PAGE and again.not_modified and other.not_modified
    hits = http_server.hits_of("/plan.html") + http_server.hits_of("/other.html")
    assert len(hits) == 3 and len({hit.port for hit in hits}) == 1

def test_gzip_is_asked_for_and_decoded(http_server: PageServer) -> None:
    http_server.set("/plan.html", PAGE, gzip=True)
    with fetcher() as f:
        fetched = f.fetch(http_server.url("/plan.html"))
    assert fetched.body == PAGE
    assert "gzip" in http_server.hits_of("/plan.html")[0].headers["accept-encoding"]


def test_5xx_is_retried_with_backoff_then_succeeds(http_server: PageServer) -> None:
    http_server.set("/plan.html", PAGE, fail_first=2)
    started = time.monotonic()
    with fetcher(retries=3) as f:
        fetched = f.fetch(http_server.url("/plan.html"))
    assert fetched.body == PAGE
    assert [hit.status for hit in http_server.hits_of("/plan.html")] == [503, 503, 200]
    assert time.monotonic() - started >= 0.5 + 1.0  # backoff 0.5 s, then 1 s


def test_5xx_after_the_last_retry_is_an_http_error(http_server: PageServer) -> None:
    http_server.set("/plan.html", PAGE, fail_first=5)
    with fetcher(retries=1) as f, pytest.raises(HTTPStatusError) as caught:
        f.fetch(http_server.url("/plan.html"))
    assert caught.value.status == 503
    assert "HTTP 503" in str(caught.value) and "after 2 attempts" in str(caught.value)
    assert len(http_server.hits_of("/plan.html")) == 2


def test_4xx_is_not_retried(http_server: PageServer) -> None:
    with fetcher(retries=3) as f, pytest.raises(HTTPStatusError) as caught:
        f.fetch(http_server.url("/gone.html"))
    assert caught.value.status == 404 and "HTTP 404" in str(caught.value)
    assert len(http_server.hits_of("/gone.html")) == 1


def test_timeout(http_server: PageServer) -> None:
    http_server.set("/slow.html", PAGE, delay=1.0)
    with fetcher(timeout=0.2) as f, pytest.raises(FetchError, match=r"no answer within 0.2 s"):
        f.fetch(http_server.url("/slow.html"))


def test_connection_reset(http_server: PageServer) -> None:
    http_server.set("/reset.html", PAGE, fault="reset")
    with fetcher(retries=1) as f, pytest.raises(FetchError, match="connection reset") as caught:
        f.fetch(http_server.url("/reset.html"))
    assert "after 2 attempts" in str(caught.value)


def test_truncated_body(http_server: PageServer) -> None:
    http_server.set("/cut.html", PAGE, fault="truncate")
    with fetcher() as f, pytest.raises(FetchError, match=rf"truncated body: .* of {len(PAGE)} bytes"):
        f.fetch(http_server.url("/cut.html"))


def test_size_cap_by_content_length_and_while_streaming(http_server: PageServer) -> None:
    big = b"<p>" + b"x" * 300_000 + b"</p>"
    http_server.set("/big.html", big)
    http_server.set("/big-stream.html", big, fault="no_length")
    with fetcher(max_bytes=100_000) as f:
        with pytest.raises(FetchError, match="over the size cap of 100000"):
            f.fetch(http_server.url("/big.html"))
        with pytest.raises(FetchError, match="exceeds the size cap of 100000"):
            f.fetch(http_server.url("/big-stream.html"))
        http_server.set("/small-stream.html", PAGE, fault="no_length")
        assert f.fetch(http_server.url("/small-stream.html")).body == PAGE


def test_size_cap_counts_decompressed_bytes(http_server: PageServer) -> None:
    bomb = b"\0" * 5_000_000  # about 5 KB gzipped
    http_server.set("/bomb.html", bomb, gzip=True)
    assert len(gzip.compress(bomb)) < 100_000
    with fetcher(max_bytes=1_000_000) as f, pytest.raises(FetchError, match="exceeds the size cap"):
        f.fetch(http_server.url("/bomb.html"))


def test_redirects_are_followed_up_to_the_limit(http_server: PageServer) -> None:
    http_server.set("/old.html", status=302, headers={"Location": "/new.html"})
    http_server.set("/new.html", PAGE)
    http_server.set("/loop.html", status=302, headers={"Location": "/loop.html"})
    with fetcher(max_redirects=3) as f:
        fetched = f.fetch(http_server.url("/old.html"))
        assert fetched.url == http_server.url("/new.html") and fetched.body == PAGE
        with pytest.raises(FetchError, match="more than 3 redirects"):
            f.fetch(http_server.url("/loop.html"))


def test_each_redirect_hop_counts_and_only_http_hops_are_followed(http_server: PageServer) -> None:
    for n in range(6):
        http_server.set(f"/r{n}.html", status=302, headers={"Location": f"/r{n + 1}.html"})
    http_server.set("/r6.html", PAGE)
    with fetcher(max_redirects=3) as f, pytest.raises(FetchError, match="more than 3 redirects"):
        f.fetch(http_server.url("/r0.html"))
    assert [len(http_server.hits_of(f"/r{n}.html")) for n in range(7)] == [1, 1, 1, 1, 0, 0, 0]
    with fetcher(max_redirects=6) as f:
        assert f.fetch(http_server.url("/r0.html")).url == http_server.url("/r6.html")

    http_server.set("/to-file.html", status=301, headers={"Location": "file:///etc/passwd"})
    http_server.set("/to-ftp.html", status=307, headers={"Location": "ftp://127.0.0.1/plan.pdf"})
    http_server.set("/nowhere.html", status=302)  # no Location
    with fetcher() as f:
        with pytest.raises(FetchError, match=r"redirected to 'file:///etc/passwd'; only http\(s\) redirects"):
            f.fetch(http_server.url("/to-file.html"))
        with pytest.raises(FetchError, match=r"only http\(s\) redirects"):
            f.fetch(http_server.url("/to-ftp.html"))
        with pytest.raises(HTTPStatusError, match="HTTP 302 Found without a Location"):
            f.fetch(http_server.url("/nowhere.html"))


def test_a_redirect_to_another_host_goes_through_its_robots_txt(http_server: PageServer) -> None:
    other = PageServer().start()
    try:
        other.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        other.set("/private/plan.html", PAGE)
        other.set("/public/plan.html", PAGE)
        http_server.set("/moved.html", status=302, headers={"Location": other.url("/private/plan.html")})
        http_server.set("/moved-public.html", status=302, headers={"Location": other.url("/public/plan.html")})
        # "another host" is another loopback port here: internal, so it has to be allowed
        other_host = other.base.removeprefix("http://")
        with fetcher(allow_internal=(other_host,)) as f:
            with pytest.raises(FetchError, match="robots.txt of this site disallows it"):
                f.fetch(http_server.url("/moved.html"))
            assert other.hits_of("/private/plan.html") == []
            assert f.fetch(http_server.url("/moved-public.html")).url == other.url("/public/plan.html")
            assert f.fetch(http_server.url("/moved.html"), robots=False).body == PAGE
        assert len(other.hits_of("/robots.txt")) == 1
    finally:
        other.stop()


def test_redirect_hops_are_spaced_like_any_request(http_server: PageServer) -> None:
    http_server.set("/old.html", status=301, headers={"Location": "/new.html"})
    http_server.set("/new.html", PAGE)
    with fetcher(delay=0.3) as f:
        f.fetch(http_server.url("/old.html"))
    (old,), (new,) = http_server.hits_of("/old.html"), http_server.hits_of("/new.html")
    assert new.at - old.at >= 0.29


def test_a_redirect_body_is_never_read(scripted: ScriptedServer) -> None:
    # a redirect that claims 100 MB of body and trickles it: requests used to read it all, uncapped
    scripted.scripts["/moved.html"] = trickle(b"x" * 4000, status=302, headers={"Location": "/plan.html"}, length=10**8)
    scripted.scripts["/plan.html"] = trickle(PAGE, step=len(PAGE), pause=0)
    started = time.monotonic()
    with fetcher(timeout=1.0, max_bytes=100_000) as f:
        assert f.fetch(scripted.url("/moved.html")).body == PAGE
    assert time.monotonic() - started < 1.0


def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with fetcher() as f, pytest.raises(FetchError, match="connection refused"):
        f.fetch(f"http://127.0.0.1:{port}/plan.html")


def test_robots_txt_is_honoured_once_per_host_unless_the_source_opts_out(http_server: PageServer) -> None:
    http_server.set("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    http_server.set("/private/plan.html", PAGE)
    http_server.set("/public/plan.html", PAGE)
    with fetcher() as f:
        threads = [
            threading.Thread(target=f.fetch, args=(http_server.url("/public/plan.html"),)) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with pytest.raises(FetchError, match="robots.txt .* disallows"):
            f.fetch(http_server.url("/private/plan.html"))
        assert f.fetch(http_server.url("/private/plan.html"), robots=False).body == PAGE
    assert len(http_server.hits_of("/robots.txt")) == 1
    assert len(http_server.hits_of("/public/plan.html")) == 4
    assert len(http_server.hits_of("/private/plan.html")) == 1  # only the robots=False fetch


def test_robots_txt_missing_means_allowed_and_forbidden_means_disallowed(http_server: PageServer) -> None:
    http_server.set("/plan.html", PAGE)
    with fetcher() as f:
        assert f.fetch(http_server.url("/plan.html")).body == PAGE  # robots.txt: 404
    http_server.set("/robots.txt", "no", status=403, content_type="text/plain")
    with fetcher() as f, pytest.raises(FetchError, match="disallows"):
        f.fetch(http_server.url("/plan.html"))


def test_at_most_per_host_requests_at_a_time_and_a_delay_between_them(http_server: PageServer) -> None:
    http_server.set("/slow.html", PAGE, delay=0.2)
    with fetcher(per_host=2) as f:
        threads = [threading.Thread(target=f.fetch, args=(http_server.url("/slow.html"),)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(http_server.hits_of("/slow.html")) == 6
    assert http_server.max_in_flight == 2

    http_server.set("/fast.html", PAGE)
    with fetcher(per_host=4, delay=0.15) as f:
        threads = [threading.Thread(target=f.fetch, args=(http_server.url("/fast.html"),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    arrivals = sorted(hit.at for hit in http_server.hits_of("/fast.html"))
    gaps = [b - a for a, b in pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) >= 0.14


def test_file_urls(tmp_path) -> None:
    page = tmp_path / "规划 plan.html"
    page.write_bytes(PAGE)
    with fetcher() as f:
        fetched = f.fetch(page.as_uri())
        assert fetched.body == PAGE and fetched.status == 0 and fetched.content_type == "text/html"
        with pytest.raises(FetchError, match="cannot read file"):
            f.fetch((tmp_path / "missing.html").as_uri())
    with fetcher(max_bytes=1000) as f, pytest.raises(FetchError, match="over the size cap"):
        f.fetch(page.as_uri())


def test_a_trickling_server_gets_a_deadline_for_the_whole_body(scripted: ScriptedServer) -> None:
    scripted.scripts["/slow.html"] = trickle(b"<p>" + b"x" * 2000 + b"</p>")  # 80 bytes/s: 25 s in all
    started = time.monotonic()
    with fetcher(timeout=0.2, retries=2) as f, pytest.raises(FetchError) as caught:
        f.fetch(scripted.url("/slow.html"))
    elapsed = time.monotonic() - started
    within = ATTEMPT_DEADLINE_FACTOR * 0.2
    assert f"no complete answer within {within:g} s" in str(caught.value)
    assert within <= elapsed < within + 1.5  # every read came well within the 0.2 s read timeout
    assert [path for path, _ in scripted.hits] == ["/robots.txt", "/slow.html"]  # not tried again


def test_a_slow_but_steady_body_within_the_deadline_is_read(scripted: ScriptedServer) -> None:
    body = b"<p>" + b"x" * 300 + b"</p>"
    scripted.scripts["/steady.html"] = trickle(body, step=64, pause=0.05)
    with fetcher(timeout=0.2) as f:
        assert f.fetch(scripted.url("/steady.html")).body == body
