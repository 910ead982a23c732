"""watcher.formats: one registry of formats, read by detection, the HTML reader's attachment
links and the check's followed/unreadable split; tested through a real check on loopback."""

from __future__ import annotations

import pytest
from conftest import PageServer, case_bytes, page_bytes

from watcher.check import check_all
from watcher.config import load_settings
from watcher.differ import document_hash
from watcher.extract import FORMATS, extract
from watcher.formats import REGISTRY, detect_format, followed_attachment, is_document_name
from watcher.links import followable_link
from watcher.store import Store

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# name on the page → (body, content type, format it is read as); real documents from tests/data
ATTACHMENTS = {
    "plan.txt": (case_bytes("cixi-measure-removed", "old.txt"), "text/plain; charset=utf-8", "text"),
    "notice.html": (case_bytes("haishu-noise-page", "old.html"), "text/html; charset=utf-8", "html"),
    "table.docx": (case_bytes("cixi-table-docx", "old.docx"), DOCX_TYPE, "docx"),
    "report.pdf": (case_bytes("cixi-pdf-noise", "new.pdf"), "application/pdf", "pdf"),
}


def _page_linking_all() -> bytes:
    """The notice page (its menus link the site's column pages, .html too) whose attachment
    paragraph links the four files."""
    links = "、".join(f'<a href="/files/{name}">附件{n}</a>' for n, name in enumerate(ATTACHMENTS, 1))
    page = page_bytes("notice.html")
    start = page.index("<p>附件：".encode())
    end = page.index(b"</p>", start) + len(b"</p>")
    return page[:start] + f"<p>附件：{links}</p>".encode() + page[end:]


@pytest.mark.parametrize("selector", [None, "#zoom"])
def test_linked_txt_html_docx_and_pdf_files_are_all_watched_as_attachments(
    http_server: PageServer, write_config, selector: str | None
) -> None:
    http_server.set("/notice.html", _page_linking_all())
    for name, (body, content_type, _fmt) in ATTACHMENTS.items():
        http_server.set(f"/files/{name}", body, content_type=content_type)
    source = {"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}
    if selector:
        source["selector"] = selector
    settings = load_settings(str(write_config([source])))
    results = {r.source: r for r in check_all(settings)}

    expected = [f"notice/{name}" for name in ATTACHMENTS]
    assert list(results) == ["notice", *expected]
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(["notice", *expected], "new")
    assert results["notice"].error is None  # nothing named as not followed
    assert not http_server.hits_of("/col/col1.html"), "the site's menus are not attachments"
    with Store(settings.storage_path) as store:
        for name, (body, content_type, fmt) in ATTACHMENTS.items():
            (version,) = store.versions(f"notice/{name}")
            url = http_server.url(f"/files/{name}")
            assert version.sha256 == document_hash(extract(body, content_type=content_type, url=url))
            assert store.document(version.id).format == fmt


def test_each_format_is_declared_once_and_its_extensions_detect_it() -> None:
    names = [fmt.name for fmt in REGISTRY]
    assert len(names) == len(set(names))
    extensions = [extension for fmt in REGISTRY for extension in fmt.extensions]
    assert len(extensions) == len(set(extensions)), "an extension in two formats"
    content_types = [media for fmt in REGISTRY for media in fmt.content_types]
    assert len(content_types) == len(set(content_types)), "a content type in two formats"
    for fmt in REGISTRY:
        assert set(fmt.attachment_extensions) <= set(fmt.extensions), fmt.name
        assert fmt.readable != bool(fmt.unreadable), f"{fmt.name}: a reader or a reason, not both"
        assert (fmt.name in FORMATS) == fmt.readable
        for extension in fmt.extensions:
            # bytes that carry no magic and sniff as text: the extension decides
            assert detect_format(b"words", "", f"/srv/plan{extension}") == fmt.name, extension
            assert detect_format(b"words", "", f"http://gov.example.cn/a/PLAN{extension.upper()}?x=1") == fmt.name
            assert is_document_name(f"plan{extension}")
        for media in fmt.content_types:
            assert detect_format(b"words", f"{media}; charset=utf-8", "/srv/plan") == fmt.name, media


def test_attachments_in_formats_watcher_cannot_read_are_not_followed() -> None:
    followed = {f"http://gov.example.cn/f/a{extension}": True for extension in (".docx", ".pdf", ".txt", ".htm", ".HTML", ".ofd")}
    named = {f"http://gov.example.cn/f/a{extension}": False for extension in (".doc", ".wps", ".xls", ".xlsx", ".et")}
    other = {"http://gov.example.cn/f/a.php": False, "http://gov.example.cn/f/a.png": False, "http://[bad/a.pdf": False}
    for url, expected in {**followed, **named, **other}.items():
        assert followed_attachment(url) is expected, url


def test_links_lead_web_to_web_and_file_to_file() -> None:
    assert followable_link("https://gov.example.cn/a.pdf", "http://gov.example.cn/n.html")
    assert not followable_link("file:///etc/passwd", "http://gov.example.cn/n.html")
    assert followable_link("file:///srv/a.pdf", "file:///srv/n.html")
    assert not followable_link("http://gov.example.cn/a.pdf", "file:///srv/n.html")
    assert not followable_link("javascript:void(0)", "http://gov.example.cn/n.html")
    assert not followable_link("http://[bad", "http://gov.example.cn/n.html")


def test_a_page_is_an_attachment_only_when_the_document_links_it_and_it_is_not_the_page_itself() -> None:
    page = _page_linking_all().replace(
        "<p>附件：".encode(), '<p>附件：<a href="notice.html#top">本页</a> <a href="/n/notice.html">本页</a> '.encode()
    )
    document = extract(page, url="http://gov.example.cn/n/notice.html")
    assert document.attachments == tuple(f"http://gov.example.cn/files/{name}" for name in ATTACHMENTS)
