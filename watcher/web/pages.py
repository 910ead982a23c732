"""What each page of the web view shows, read from the Store and rendered with the report's
templates (watcher/report/templates/web_*.html.j2, which import the report's own macros: a diff is
drawn by the same code as `watcher diff --format html`).

Every function takes the read-only Store and the request's values and returns the page's HTML or
a Download; an unknown source or version raises VersionNotFound (the app answers 404).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from watcher.changes import stored_change_sets
from watcher.differ import diff_documents
from watcher.differ.ledger import LedgerRow, ledger_history
from watcher.errors import VersionNotFound
from watcher.formats import REGISTRY, detect_format
from watcher.language import shown_time
from watcher.model import Indicator, StoredVersion
from watcher.report.layout import check_status, quantity, render_template, role_label, section_title
from watcher.store import SourceRecord, Store

SEARCH_MAX_PHRASE = 100  # characters of a search phrase
SEARCH_MAX_SOURCES = 50  # sources listed for one search
SEARCH_HITS_PER_SOURCE = 5  # places shown in one source's text
SEARCH_CONTEXT = 40  # characters shown on each side of a hit
LEDGER_MAX_VERSIONS = 12  # the latest versions shown as columns of a ledger
SOURCE_RECENT_CHECKS = 10  # the checks listed on a source's page

# How the last check of a source ended, for a Chinese reader.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=[^\x00-\x1f\x7f;]*)*")


def when(stamp: str | None) -> str:
    """A stored UTC time as a reader reads it, in the rendering's time zone; "—" for none."""
    return shown_time(stamp) or "—"


def _page(name: str, **context: Any) -> str:
    return render_template(
        name, when=when, check_status=check_status, **context
    ).rstrip()


def _source(store: Store, name: str) -> SourceRecord:
    found = next((s for s in store.sources() if s.name == name), None)
    if found is None:
        raise VersionNotFound(f"no source named {name!r}")
    return found


# ---------------------------------------------------------------- pages


def sources_page(store: Store) -> str:
    return _page("web_sources.html.j2", sources=store.sources())


def source_page(store: Store, name: str) -> str:
    source = _source(store, name)
    versions = store.versions(name)
    checks = store.checks(name)[-SOURCE_RECENT_CHECKS:]
    return _page(
        "web_source.html.j2",
        source=source,
        timeline=list(zip(reversed(versions), [*reversed(versions[:-1]), None], strict=True)),
        versions=versions,
        checks=list(reversed(checks)),
    )


def diff_page(store: Store, old_id: int, new_id: int, show_all: bool) -> str:
    old, new = store.version(old_id), store.version(new_id)
    diff = diff_documents(store.document(old.id), store.document(new.id), old_info=old.info, new_info=new.info)
    return _page("web_diff.html.j2", diff=diff, old=old, new=new, show_all=show_all)


@dataclass(frozen=True)
class LedgerLine:
    """One indicator of a source across the versions shown: its name, and a cell per version."""

    metric: str
    role: str
    section: str
    cells: tuple[str, ...]  # the value in each version, "" where absent
    changed: tuple[bool, ...]  # whether the value differs from the version before

    @property
    def moved(self) -> bool:
        """Its value changed, or it came or went, over the versions shown."""
        return len(set(self.cells)) > 1


def ledger_page(store: Store, name: str, changed_only: bool = False) -> str:
    """Each indicator of a source by version (the latest LEDGER_MAX_VERSIONS); `changed_only`:
    only those whose value changed, came or went."""
    source = _source(store, name)
    versions = store.versions(name)[-LEDGER_MAX_VERSIONS:]
    stored = [store.indicators(v.id) for v in versions]
    lines = _ledger_lines(ledger_history([ledger or () for ledger in stored]))
    moving = [line for line in lines if line.moved]
    missing = [v for v, ledger in zip(versions, stored, strict=True) if ledger is None]
    return _page(
        "web_ledger.html.j2",
        source=source, versions=versions, lines=moving if changed_only else lines, missing=missing,
        total=len(lines), moving=len(moving), changed_only=changed_only,
    )


def _ledger_lines(rows: Sequence[LedgerRow]) -> list[LedgerLine]:
    lines = []
    for row in rows:
        shown = next(i for i in reversed(row) if i is not None)  # the latest wording
        cells = tuple(_value(i) for i in row)
        changed = tuple(
            k > 0 and cells[k] != "" and cells[k - 1] != "" and cells[k] != cells[k - 1] for k in range(len(cells))
        )
        lines.append(
            LedgerLine(
                metric=shown.target.metric,
                role=role_label(shown.target.role),
                section=section_title(shown.path[-1:]) if shown.path else "",
                cells=cells,
                changed=changed,
            )
        )
    return lines


def _value(indicator: Indicator | None) -> str:
    if indicator is None:
        return ""
    t = indicator.target
    return quantity(t) + (t.unit if t.value is not None else "") + (f"（{t.year}年）" if t.year else "")


@dataclass(frozen=True)
class Hit:
    before: str
    match: str
    after: str


@dataclass(frozen=True)
class Found:
    version: StoredVersion
    count: int  # places in the text
    hits: tuple[Hit, ...]  # the first SEARCH_HITS_PER_SOURCE of them, in context


def search_page(store: Store, phrase: str) -> str:
    phrase = " ".join(phrase.split())[:SEARCH_MAX_PHRASE]
    found = [_found(v, phrase) for v in store.search_latest(phrase, SEARCH_MAX_SOURCES + 1)] if phrase else []
    return _page(
        "web_search.html.j2",
        q=phrase,
        found=found[:SEARCH_MAX_SOURCES],
        more=len(found) > SEARCH_MAX_SOURCES,
        max_sources=SEARCH_MAX_SOURCES,
    )


def _found(version: StoredVersion, phrase: str) -> Found:
    text, start = version.text, 0
    hits: list[Hit] = []
    while len(hits) < SEARCH_HITS_PER_SOURCE and (at := text.find(phrase, start)) >= 0:
        end = at + len(phrase)
        hits.append(Hit(text[max(0, at - SEARCH_CONTEXT) : at], phrase, text[end : end + SEARCH_CONTEXT]))
        start = end
    return Found(version, text.count(phrase), tuple(hits))


def feed(store: Store, name: str | None) -> str:
    """The Atom feed of `watcher feed` (of one source, or of all), as the view serves it."""
    from watcher.report.feed import render_feed

    if name is not None:
        _source(store, name)
    return render_feed(stored_change_sets(store, name), name)


def not_found_page(message: str) -> str:
    return _page("web_error.html.j2", heading="未找到", message=message)


def error_page(message: str) -> str:
    return _page("web_error.html.j2", heading="出错了", message=message)


def style_sheet() -> str:
    """The report's own CSS and the view's few additions, served as /style.css (no inline style:
    the Content-Security-Policy allows only this file)."""
    return render_template("web_style.css.j2")


# ---------------------------------------------------------------- the raw file


@dataclass(frozen=True)
class Download:
    body: bytes
    content_type: str
    filename: str  # what the browser saves it as


def raw_download(store: Store, version_id: int) -> Download:
    version = store.version(version_id)
    body = store.raw(version.id)
    charset = store.fetch_info(version.id).charset
    stored_type = version.content_type.strip()
    if charset and ";" not in stored_type and stored_type.startswith("text/"):
        stored_type += f"; charset={charset}"  # the store keeps the charset apart
    media = stored_type if _MEDIA_TYPE.fullmatch(stored_type) else "application/octet-stream"
    return Download(body, media, f"{version.source}@{version.number}{_extension(body, version)}".replace("/", "_"))


def _extension(body: bytes, version: StoredVersion) -> str:
    name = detect_format(body, version.content_type, version.url)
    fmt = next((f for f in REGISTRY if f.name == name), None)
    if fmt and fmt.extensions:
        return fmt.extensions[0]
    return mimetypes.guess_extension(version.content_type.split(";")[0].strip()) or ".bin"
