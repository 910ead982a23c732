"""The fetch layer's guards on loopback: internal addresses a page or a redirect leads to, the cap
on attachments, one deadline per attempt, Crawl-delay's cap and an oversized robots.txt.

Every server is started by the test on 127.0.0.1 (or ::1); 169.254.169.254 and the decimal form of
127.0.0.1 are refused before any connection, which the results and the servers' hits show.
"""

from __future__ import annotations

import io
import logging
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import PageServer, case_bytes
from docx import Document as WordDocument
from hostile import TrickleServer
from tools import need

from watcher import connect, fetch
from watcher.check import check_all
from watcher.config import load_settings
from watcher.connect import AddressPolicy, GuardedAdapter
from watcher.digest import send_digest
from watcher.errors import ConfigError, FetchError, RefusedAddress
from watcher.fetch import ATTEMPT_DEADLINE_FACTOR, Fetcher
from watcher.links import parse_allowance
from watcher.model import FetchSettings
from watcher.store import Store

HAISHU = case_bytes("haishu-noise-page", "old.html")
HAISHU_NEW_MEASURE = case_bytes("haishu-new-measure-html", "new.html")  # one item inserted
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SECRET = "内部凭据 TOKEN-7731-SECRET"


def word_file(*paragraphs: str) -> bytes:
    document = WordDocument()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


PLAN = word_file("到2025年，全社会研发经费投入达到50亿元。", "推进科技型企业培育工程。")


def secret_file(version: int) -> bytes:
    """What an internal service would hand out: credentials in a changing document."""
    return word_file(SECRET, f"到2025年，{SECRET}研发经费投入达到{version * 50}亿元。")


def page_with(links: list[str], page: bytes = HAISHU) -> bytes:
    anchors = " ".join(f"<a href='{link}'>附件{n}</a>" for n, link in enumerate(links))
    return page.replace(b"</h1>", f"</h1><p>{anchors}</p>".encode())


def port_of(server: PageServer) -> int:
    return int(server.httpd.server_address[1])


def netloc(server: PageServer) -> str:
    return server.base.removeprefix("http://")


@pytest.fixture
def internal() -> Iterator[PageServer]:
    """Another port of the same machine: an internal service holding a secret."""
    server = PageServer().start()
    server.set("/token.docx", secret_file(1), content_type=DOCX_TYPE)
    server.set("/decimal.docx", secret_file(1), content_type=DOCX_TYPE)
    server.set("/mapped.docx", secret_file(1), content_type=DOCX_TYPE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def internal6() -> Iterator[PageServer]:
    """An internal service on ::1."""
    server = PageServer("::1").start()
    server.set("/token6.docx", secret_file(1), content_type=DOCX_TYPE)
    try:
        yield server
    finally:
        server.stop()


def run(write_config, sources, **fetch_settings):
    settings = load_settings(str(write_config(sources, fetch=fetch_settings or None)))
    return settings, {r.source: r for r in check_all(settings)}


def stored_texts(settings) -> str:
    with Store(settings.storage_path) as store:
        return "\n".join(v.text for row in store.sources() for v in store.versions(row.name))


# ---------------------------------------------------------------- internal addresses


def test_attachments_at_internal_addresses_are_refused_and_named(
    http_server: PageServer, internal: PageServer, internal6: PageServer, write_config
) -> None:
    port, port6 = port_of(internal), port_of(internal6)
    links = [
        "/files/plan.docx",  # the page's own host and port: followed
        internal.url("/token.docx"),  # another loopback port
        "http://169.254.169.254/latest/meta-data/iam.docx",  # the cloud metadata service
        f"http://2130706433:{port}/decimal.docx",  # 127.0.0.1 as one decimal number
        f"http://[::ffff:127.0.0.1]:{port}/mapped.docx",  # 127.0.0.1 as IPv4-mapped IPv6
        internal6.url("/token6.docx"),  # ::1
    ]
    http_server.set("/notice.html", page_with(links))
    http_server.set("/files/plan.docx", PLAN, content_type=DOCX_TYPE)
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    settings, results = run(write_config, [source])

    assert list(results) == ["notice", "notice/plan.docx"]
    assert [r.status for r in results.values()] == ["new", "new"]
    note = results["notice"].error
    assert note == (
        f"attachments not followed (an internal address): token.docx at 127.0.0.1:{port}, "
        f"iam.docx at 169.254.169.254:80, decimal.docx at 2130706433:{port}, "
        f"mapped.docx at [::ffff:127.0.0.1]:{port}, token6.docx at [::1]:{port6}"
    )
    assert internal.hits == [] and internal6.hits == []  # not even robots.txt

    # The internal documents change, the page changes: the digest has news, none of it secret.
    for path in ("/token.docx", "/decimal.docx", "/mapped.docx"):
        internal.set(path, secret_file(2), content_type=DOCX_TYPE)
    internal6.set("/token6.docx", secret_file(2), content_type=DOCX_TYPE)
    http_server.set("/notice.html", page_with(links, HAISHU_NEW_MEASURE))
    second = {r.source: r for r in check_all(settings)}
    assert second["notice"].status == "new" and second["notice"].error == note
    assert internal.hits == [] and internal6.hits == []
    with Store(settings.storage_path) as store:
        assert [row.name for row in store.sources()] == ["notice", "notice/plan.docx"]
        outcome = send_digest(store, settings, dry_run=True)
    assert outcome.digests  # the page's new measure is news
    assert "TOKEN-7731" not in stored_texts(settings)
    assert not any("TOKEN-7731" in d.text or "TOKEN-7731" in d.html for d in outcome.digests)


def test_an_allow_listed_internal_address_is_followed(
    http_server: PageServer, internal: PageServer, write_config
) -> None:
    http_server.set("/notice.html", page_with([internal.url("/token.docx"), "http://169.254.169.254/iam.docx"]))
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    settings, results = run(write_config, [source], allow_internal=[netloc(internal)])
    assert list(results) == ["notice", "notice/token.docx"]
    assert results["notice/token.docx"].status == "new"
    assert results["notice"].error == "attachments not followed (an internal address): iam.docx at 169.254.169.254:80"
    assert [hit.path for hit in internal.hits] == ["/robots.txt", "/token.docx"]


def test_a_pdf_on_the_page_host_that_redirects_to_an_internal_port_is_refused(
    http_server: PageServer, internal: PageServer, write_config
) -> None:
    target = internal.url("/token.docx")
    http_server.set("/notice.html", page_with(["/files/plan.pdf"]))
    http_server.set("/files/plan.pdf", status=302, headers={"Location": target})
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    settings, results = run(write_config, [source])
    attachment = results["notice/plan.pdf"]
    assert attachment.status == "failed"
    assert f"redirected to {target}: refused to connect to 127.0.0.1:{port_of(internal)}" in attachment.error
    assert "loopback address" in attachment.error
    assert internal.hits == []
    assert "TOKEN-7731" not in stored_texts(settings)


def test_a_configured_source_redirected_to_another_internal_port_is_refused(
    http_server: PageServer, internal: PageServer, write_config
) -> None:
    http_server.set("/moved.html", status=301, headers={"Location": internal.url("/token.docx")})
    http_server.set("/here.html", status=301, headers={"Location": "/plan.docx"})  # its own host: fine
    http_server.set("/plan.docx", PLAN, content_type=DOCX_TYPE)
    sources = [
        {"name": "moved", "url": http_server.url("/moved.html")},
        {"name": "here", "url": http_server.url("/here.html")},
    ]
    settings, results = run(write_config, sources)
    assert results["moved"].status == "failed" and "127.0.0.1 is a loopback address" in results["moved"].error
    assert results["here"].status == "new"
    assert internal.hits == []
    assert "TOKEN-7731" not in stored_texts(settings)


def test_a_configured_source_on_ipv6_loopback_is_its_own_host(internal6: PageServer, write_config) -> None:
    internal6.set("/plan.docx", PLAN, content_type=DOCX_TYPE)
    internal6.set("/notice.html", page_with(["/plan.docx", f"http://127.0.0.1:{port_of(internal6)}/token6.docx"]))
    source = {"name": "notice", "url": internal6.url("/notice.html"), "attachments": True}
    _, results = run(write_config, [source])
    assert [r.status for r in results.values()] == ["new", "new"]  # the page and /plan.docx
    assert "token6.docx at 127.0.0.1" in results["notice"].error  # same port, another host
    assert internal6.hits_of("/token6.docx") == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),  # reserved, and Python counts it private first
        ("100.64.0.1", "non-global"),  # carrier-grade NAT
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_what_counts_as_internal(address: str, kind: str | None) -> None:
    reason = AddressPolicy().judge(address, 80)
    assert (reason is None) if kind is None else (f"a {kind} address" in reason or f"an {kind} address" in reason)


def test_the_allow_list_forms() -> None:
    policy = AddressPolicy.of(["10.0.0.0/8", "192.168.1.5:8080", "[fd00::1]:443", "intranet.example", "wiki.example:8080"])
    assert policy.judge("10.200.0.1", 1) is None and policy.judge("::ffff:10.1.1.1", 1) is None
    assert policy.judge("192.168.1.5", 8080) is None and policy.judge("192.168.1.5", 80) is not None
    assert policy.judge("fd00::1", 443) is None and policy.judge("fd00::2", 443) is not None
    assert policy.judge("127.0.0.1", 80) is not None
    origin = "http://gov.example.cn/notice.html"
    assert policy.trusts("http://intranet.example:9000/a.pdf", origin)
    assert policy.trusts("http://wiki.example:8080/a.pdf", origin)
    assert not policy.trusts("http://wiki.example/a.pdf", origin)
    assert policy.trusts("http://GOV.example.cn:80/a.pdf", origin)  # the page's own host and port
    assert not policy.trusts("http://gov.example.cn:8080/a.pdf", origin)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("10.1.2.3/8", "has host bits set"),
        ("10.0.0.0/8:80", "a network takes no port"),
        ("intranet.example:99999", "port '99999'"),
        ("127.1", "four decimal numbers"),
        ("0x7f000001", "four decimal numbers"),
        ("[fd00::1", "not an IP address"),
        ("bad host", "not an IP address"),
        ("http://10.0.0.1/", "is not a number"),
    ],
)
def test_a_bad_allow_list_entry_is_a_config_error_naming_the_key(write_config, entry: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(str(write_config([], fetch={"allow_internal": ["10.0.0.1", entry]})))
    assert caught.value.key == "fetch.allow_internal"
    assert repr(entry) in caught.value.problem and problem in caught.value.problem


def test_allow_internal_and_max_attachments_are_read_from_the_config(write_config) -> None:
    settings = load_settings(str(write_config([], fetch={"allow_internal": ["10.0.0.0/8", "intranet.example:8080"], "max_attachments": 7})))
    assert settings.fetch.allow_internal == ("10.0.0.0/8", "intranet.example:8080")
    assert settings.fetch.max_attachments == 7
    assert FetchSettings().max_attachments == 50 and FetchSettings().allow_internal == ()
    with pytest.raises(ConfigError, match="fetch.max_attachments: must be an integer from 1 to 1000"):
        load_settings(str(write_config([], fetch={"max_attachments": 0})))
    assert parse_allowance(" Intranet.Example. ").host == "intranet.example"


def test_the_connection_itself_is_judged_new_or_kept_alive(http_server: PageServer) -> None:
    """Without the Fetcher's check of the URL (as when a name resolves elsewhere by the time of
    connecting): the connection is refused, and a kept-alive one is judged again."""
    http_server.set("/plan.docx", PLAN, content_type=DOCX_TYPE)
    session = requests.Session()
    session.mount("http://", GuardedAdapter())
    try:
        with connect.attempt(AddressPolicy(), trusted=False, seconds=5), pytest.raises(RefusedAddress, match="loopback"):
            session.get(http_server.url("/plan.docx"), timeout=2)
        assert http_server.hits == []
        with connect.attempt(AddressPolicy(), trusted=True, seconds=5):
            assert session.get(http_server.url("/plan.docx"), timeout=2).status_code == 200
        with connect.attempt(AddressPolicy(), trusted=False, seconds=5), pytest.raises(RefusedAddress, match="loopback"):
            session.get(http_server.url("/plan.docx"), timeout=2)  # the kept-alive connection
        with connect.attempt(AddressPolicy.of(["127.0.0.1"]), trusted=False, seconds=5):
            assert session.get(http_server.url("/plan.docx"), timeout=2).status_code == 200
        assert len(http_server.hits_of("/plan.docx")) == 2
    finally:
        session.close()


# ---------------------------------------------------------------- the cap on attachments


def test_a_page_of_3000_links_has_at_most_max_attachments_followed(http_server: PageServer, write_config) -> None:
    names = [f"doc{n:04}.docx" for n in range(3000)]
    http_server.set("/notice.html", page_with([f"/files/{name}" for name in names]))
    for name in names:
        http_server.set(f"/files/{name}", PLAN, content_type=DOCX_TYPE)
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    started = time.monotonic()
    settings, results = run(write_config, [source])
    elapsed = time.monotonic() - started
    limit = settings.fetch.max_attachments
    fetched = [hit.path for hit in http_server.hits if hit.path.startswith("/files/")]
    assert limit == 50 and sorted(fetched) == [f"/files/{name}" for name in names[:limit]]
    assert len(results) == 1 + limit
    assert results["notice"].error == (
        f"attachments not followed (over the limit of {limit} a page, [fetch] max_attachments): "
        f"{', '.join(names[limit:limit + 5])} and {3000 - limit - 5} more"
    )
    print(f"3000-link page: {len(fetched)} attachment requests, {elapsed:.2f} s")


def test_refused_attachments_count_towards_the_limit(http_server: PageServer, internal: PageServer, write_config) -> None:
    refused = [f"http://127.0.0.{n}:{port_of(internal)}/s{n}.docx" for n in range(2, 10)]  # 8 internal hosts
    http_server.set("/notice.html", page_with([*refused, "/files/plan.docx"]))
    http_server.set("/files/plan.docx", PLAN, content_type=DOCX_TYPE)
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    _, results = run(write_config, [source], max_attachments=5)
    note = results["notice"].error
    assert list(results) == ["notice"] and internal.hits == []
    assert note.startswith("attachments not followed (an internal address): s2.docx at 127.0.0.2:")
    assert "s6.docx at 127.0.0.6" in note and "s7.docx" not in note.split(";")[0]
    assert note.endswith("[fetch] max_attachments): s7.docx, s8.docx, s9.docx, plan.docx")


# ---------------------------------------------------------------- the deadline


def test_headers_trickled_a_byte_at_a_time_hit_the_attempt_deadline() -> None:
    timeout = 1.0
    deadline = ATTEMPT_DEADLINE_FACTOR * timeout  # 10 s
    with TrickleServer(pause=0.5) as server:  # every byte well within the 1 s read timeout
        started = time.monotonic()
        with Fetcher(FetchSettings(timeout=timeout, retries=2, delay=0)) as fetcher:
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(server.url, robots=False)
        elapsed = time.monotonic() - started
    assert f"no complete answer within {deadline:g} s (the deadline for connecting, headers and body" in str(caught.value)
    assert deadline - 0.1 <= elapsed < deadline + 1.5
    assert server.connections == 1  # a deadline is not retried
    print(f"trickled headers: failed after {elapsed:.2f} s (deadline {deadline:g} s)")


def test_through_a_proxy_the_deadline_holds_and_internal_targets_are_refused(monkeypatch) -> None:
    timeout = 0.5
    deadline = ATTEMPT_DEADLINE_FACTOR * timeout
    with TrickleServer(pause=0.25) as proxy:  # a proxy that relays a trickling server
        for variable in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("http_proxy", proxy.url.removesuffix("/plan.html"))
        with Fetcher(FetchSettings(timeout=timeout, retries=0, delay=0)) as fetcher:
            with pytest.raises(RefusedAddress, match="127.0.0.1 is a loopback address"):
                fetcher.fetch("http://127.0.0.1:9/secret.docx", origin="http://gov.example.cn/notice.html", robots=False)
            assert proxy.connections == 0
            started = time.monotonic()
            with pytest.raises(FetchError, match=rf"no complete answer within {deadline:g} s"):
                fetcher.fetch("http://127.0.0.1:9/plan.html", robots=False)  # configured: trusted
            elapsed = time.monotonic() - started
    assert proxy.connections == 1
    assert deadline - 0.1 <= elapsed < deadline + 1.5


@pytest.fixture
def tls_server_context(tmp_path: Path, monkeypatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by requests through REQUESTS_CA_BUNDLE."""
    need("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_headers_trickled_over_tls_hit_the_deadline_too(tls_server_context: ssl.SSLContext) -> None:
    timeout = 0.5
    deadline = ATTEMPT_DEADLINE_FACTOR * timeout  # 5 s
    with TrickleServer(pause=0.25, tls=tls_server_context) as server:
        started = time.monotonic()
        with Fetcher(FetchSettings(timeout=timeout, retries=0, delay=0)) as fetcher:
            with pytest.raises(FetchError, match=rf"no complete answer within {deadline:g} s"):
                fetcher.fetch(server.url, robots=False)
        elapsed = time.monotonic() - started
    assert deadline - 0.1 <= elapsed < deadline + 1.5
    print(f"trickled headers over TLS: failed after {elapsed:.2f} s (deadline {deadline:g} s)")


# ---------------------------------------------------------------- robots.txt


def test_a_crawl_delay_of_an_hour_is_capped(http_server: PageServer, monkeypatch, caplog) -> None:
    monkeypatch.setattr(fetch, "MAX_CRAWL_DELAY", 0.5)  # the cap made small, to time it
    http_server.set("/robots.txt", "User-agent: *\nCrawl-delay: 3600\n", content_type="text/plain")
    http_server.set("/a.html", HAISHU)
    http_server.set("/b.html", HAISHU)
    done = threading.Event()

    def two_fetches() -> None:
        with Fetcher(FetchSettings(timeout=2, retries=0, delay=0)) as fetcher:
            fetcher.fetch(http_server.url("/a.html"))
            fetcher.fetch(http_server.url("/b.html"))
        done.set()

    with caplog.at_level(logging.WARNING, logger="watcher.fetch"):
        threading.Thread(target=two_fetches, daemon=True).start()  # uncapped it would sleep an hour
        assert done.wait(10), "the second fetch waited for the robots.txt Crawl-delay of 3600 s"
    (a,), (b,) = http_server.hits_of("/a.html"), http_server.hits_of("/b.html")
    assert 0.45 <= b.at - a.at < 2.0
    assert "asks for a Crawl-delay of 3600 s; 0.5 s (MAX_CRAWL_DELAY) is used" in caplog.text


def test_a_robots_txt_over_512_kb_is_read_up_to_the_limit(http_server: PageServer, write_config) -> None:
    head = "User-agent: *\nDisallow: /private/\n"
    padding = "".join(f"# {n:06} keeps robots.txt long\n" for n in range(600 * 1024 // 30))
    robots = head + padding + "Disallow: /\n"  # past the limit: ignored, as Google ignores it
    assert len(robots.encode()) > 600 * 1024 > fetch.ROBOTS_MAX_BYTES
    http_server.set("/robots.txt", robots, content_type="text/plain")
    http_server.set("/public/plan.html", HAISHU)
    http_server.set("/private/plan.html", HAISHU)
    sources = [
        {"name": "public", "url": http_server.url("/public/plan.html")},
        {"name": "private", "url": http_server.url("/private/plan.html")},
    ]
    _, results = run(write_config, sources)
    assert results["public"].status == "new"
    assert results["private"].status == "failed" and "robots.txt of this site disallows it" in results["private"].error
    assert len(http_server.hits_of("/robots.txt")) == 1
    assert http_server.hits_of("/private/plan.html") == []


def test_a_robots_txt_of_exactly_512_kb_is_read_whole(http_server: PageServer) -> None:
    head = "User-agent: *\n"
    rule = "Disallow: /private/"  # the last line, with no line break: whole, so it holds
    padding = "#" * (fetch.ROBOTS_MAX_BYTES - len(head) - len(rule) - 1) + "\n"
    robots = head + padding + rule
    assert len(robots.encode()) == fetch.ROBOTS_MAX_BYTES
    http_server.set("/robots.txt", robots, content_type="text/plain")
    http_server.set("/private/plan.html", HAISHU)
    with Fetcher(FetchSettings(delay=0)) as fetcher, pytest.raises(FetchError, match="disallows it"):
        fetcher.fetch(http_server.url("/private/plan.html"))
    assert http_server.hits_of("/private/plan.html") == []
