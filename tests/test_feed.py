"""`watcher feed`: an Atom feed of the stored changes of substance, from a database filled by real
checks of pages served on loopback, read back by feedparser and by ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import PageServer, case_bytes, config_file, serving
from sample_changes import FORMATTING, TARGET_CHANGE

from watcher.changes import stored_change_sets
from watcher.cli import cli
from watcher.model import Block, Diff, Document, Source
from watcher.report.feed import render_feed
from watcher.store import Store

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = "实施&lt;script&gt;alert(1)&lt;/script&gt;上市培育工程"  # an entity: literal text of the page
TEXT_TYPE = "text/plain; charset=utf-8"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def watcher(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def http_server() -> Iterator[PageServer]:
    """One page server for the module: its database is filled once (two checks take seconds)."""
    with serving() as page_server:
        yield page_server


@pytest.fixture(scope="module")
def stored(http_server: PageServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three sources checked twice: a new measure (its text hostile), a changed target, noise only
    (which stores no new version)."""
    new_measure = case_bytes("haishu-new-measure-html", "new.html").decode("utf-8").replace("实施科技企业上市培育工程", HOSTILE)
    http_server.set("/haishu.html", case_bytes("haishu-new-measure-html", "old.html"))
    http_server.set("/cixi.docx", case_bytes("cixi-table-docx", "old.docx"), content_type=DOCX_TYPE)
    http_server.set("/noise.txt", case_bytes("cixi-noise-export", "old.txt"), content_type=TEXT_TYPE)
    config = config_file(tmp_path_factory.mktemp("feed"), [
        {"name": "haishu", "url": http_server.url("/haishu.html")},
        {"name": "cixi", "url": http_server.url("/cixi.docx")},
        {"name": "noise", "url": http_server.url("/noise.txt")},
    ], report=None)  # the default language: the titles below are Chinese
    watcher(config, "check")
    http_server.set("/haishu.html", new_measure)
    http_server.set("/cixi.docx", case_bytes("cixi-table-docx", "new.docx"), content_type=DOCX_TYPE)
    http_server.set("/noise.txt", case_bytes("cixi-noise-export", "new.txt"), content_type=TEXT_TYPE)
    watcher(config, "check")
    return config


def _feed(config: Path, tmp_path: Path, *source: str) -> tuple[feedparser.FeedParserDict, ET.Element, bytes]:
    out = tmp_path / "feed.xml"
    watcher(config, "feed", *source, "--output", str(out))
    data = out.read_bytes()
    return feedparser.parse(data), ET.fromstring(data), data


def _required(root: ET.Element) -> None:
    """RFC 4287: a feed and each entry have exactly one id, title and updated; a feed without an
    author on every entry has one of its own."""
    for element in (root, *root.iter(f"{ATOM}entry")):
        for tag in ("id", "title", "updated"):
            (found,) = element.findall(f"{ATOM}{tag}")
            assert found.text and found.text.strip()
    assert root.find(f"{ATOM}author/{ATOM}name") is not None


def test_a_feed_of_every_source_has_one_entry_per_change_set_of_substance(
    stored: Path, tmp_path: Path, http_server: PageServer
) -> None:
    parsed, root, data = _feed(stored, tmp_path)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert root.tag == f"{ATOM}feed"
    _required(root)
    assert parsed.feed.title == "watcher：全部来源的实质性变化"
    titles = sorted(entry.title for entry in parsed.entries)
    assert titles == ["cixi 第2版：目标调整 1 项", "haishu 第2版：新增举措 1 项"]  # noise: no entry
    links = {entry.title.split()[0]: entry.link for entry in parsed.entries}
    assert links == {"cixi": http_server.url("/cixi.docx"), "haishu": http_server.url("/haishu.html")}
    ids = [entry.id for entry in parsed.entries]
    assert len(set(ids)) == 2 and all(i.startswith("tag:watcher,2026:") for i in ids)
    updated = [entry.updated for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True)  # newest first

    again, _root, data_again = _feed(stored, tmp_path)
    assert [e.id for e in again.entries] == ids and data_again == data  # stable from run to run


def test_the_content_is_the_html_summary_with_document_text_escaped(stored: Path, tmp_path: Path) -> None:
    _parsed, root, data = _feed(stored, tmp_path, "haishu")
    (entry,) = root.iter(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    html = content.text or ""
    assert "<ins>" in html and "新增举措 1 项" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the document's words, escaped as HTML
    assert "<script" not in html
    assert b"<ins>" not in data and b"&lt;ins&gt;" in data  # and the HTML escaped once more as XML text


def test_a_feed_per_source(stored: Path, tmp_path: Path, http_server: PageServer) -> None:
    parsed, root, _data = _feed(stored, tmp_path, "cixi")
    assert parsed.bozo == 0
    _required(root)
    assert parsed.feed.title == "watcher：cixi 的实质性变化"
    assert parsed.feed.id == "tag:watcher,2026:feed/cixi"
    assert parsed.feed.link == http_server.url("/cixi.docx")
    (entry,) = parsed.entries
    assert entry.title == "cixi 第2版：目标调整 1 项"
    assert "3700" in entry.content[0].value and "4000" in entry.content[0].value


def test_a_source_without_changes_has_an_empty_valid_feed(stored: Path, tmp_path: Path) -> None:
    parsed, root, _data = _feed(stored, tmp_path, "noise")
    assert parsed.bozo == 0 and parsed.entries == []
    _required(root)


def test_a_change_set_of_formatting_only_has_no_entry(tmp_path: Path) -> None:
    plan = Source("plan", "https://example.org/p.html")
    with Store(tmp_path / "w.db") as store:
        store.upsert_source(plan)
        v1, v2, v3 = (
            store.add_version("plan", Document((Block("paragraph", str(n)),), title="规划"), sha256=f"{n}", raw=b"x")
            for n in range(3)
        )
        store.add_changes(v2.id, v1.id, Diff(v1.info, v2.info, (FORMATTING,)))
        store.add_changes(v3.id, v2.id, Diff(v2.info, v3.info, (TARGET_CHANGE, FORMATTING)))
        change_sets = stored_change_sets(store)
    assert len(change_sets) == 2
    parsed = feedparser.parse(render_feed(change_sets))
    assert parsed.bozo == 0
    assert [entry.title for entry in parsed.entries] == ["plan 第3版：目标调整 1 项"]


def test_an_unknown_source_is_one_clear_error(stored: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(stored), "feed", "nosuch"])
    assert result.exit_code == 2
    assert "nosuch" in result.stderr and "Traceback" not in result.output


def test_the_feed_is_in_english_on_request(stored: Path, tmp_path: Path) -> None:
    out = tmp_path / "feed.xml"
    watcher(stored, "feed", "cixi", "--lang", "en", "--output", str(out))
    parsed = feedparser.parse(out.read_bytes())
    assert parsed.feed.title == "watcher: changes of substance in cixi"
    assert [entry.title for entry in parsed.entries] == ["cixi version 2: 1 target changed"]
    assert "<h3>Targets</h3>" in parsed.entries[0].content[0].value
