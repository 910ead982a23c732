"""New documents are news: a document that appears on a watched page (an attachment) or on a
column page (a listing's entry) is announced once, as a `document_added` change of the page, and
one that goes from it as `document_removed`.

Each time a page has a new version, its documents are surveyed against those the store knows
(m0009). A page's first survey is its baseline: what it already links is recorded and not
announced (for a listing, its entries are recorded and not watched either: only entries that
appear later become watched documents). A document found later is announced once its first
version is stored, with its title, address, size and first targets; the store marks it announced
in the same transaction as the change, so no run announces it twice. A document found again after
it had gone is watched again without a second announcement.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from watcher.budget import Workers
from watcher.listing import Link, entries, file_name, page_links
from watcher.model import Change, DocumentNews, Source, StoredVersion
from watcher.reading import Body
from watcher.store import DocumentRecord, Store

log = logging.getLogger(__name__)

MAX_TARGETS = 5  # targets a document_added lists; the rest are counted


@dataclass(frozen=True)
class Found:
    """A document a page links to, and the source it is checked as."""

    url: str
    source: str
    title: str | None = None  # the link's text, when it names the document


@dataclass(frozen=True)
class ListingPlan:
    """A listing's watched entries to check this run, and the new ones left for a later check."""

    children: tuple[Source, ...] = ()
    later: tuple[str, ...] = ()


def survey_attachments(
    page: Source, store: Store, workers: Workers, version: StoredVersion, children: Sequence[Source], *, html: bool
) -> None:
    """Survey the attachments of `page` (watcher.attachments.attachment_sources) on its latest version;
    on an HTML page each is titled by its link's text."""
    if _surveyed_on(store, page.name, version.id):
        return
    texts = {link.url: link.text for link in _links(page, store, workers, version)} if html else {}
    found = [Found(c.url, c.name, texts.get(c.url) or None) for c in children]
    _survey(page, store, version, found, via="attachment")


def plan_listing(page: Source, store: Store, workers: Workers, version: StoredVersion, limit: int) -> ListingPlan:
    """Survey the listing `page` on its latest version (when it has not been) and return its
    watched entries, newest first; at most `limit` new entries are taken a check."""
    later: list[str] = []
    if not _surveyed_on(store, page.name, version.id):
        links = _links(page, store, workers, version)
        later = _survey(page, store, version, _named(page, store, entries(page, links)), via="listing", cap=limit)
    watched = [d for d in reversed(store.page_documents(page.name)) if d.watched and d.removed_id is None]
    children = tuple(
        Source(name=d.source, url=d.url, tags=page.tags, robots=page.robots, title=d.title or None) for d in watched
    )
    return ListingPlan(children, tuple(later))


def announce_new(store: Store, page: str) -> int:
    """Store a document_added change for each document of `page` found after its baseline whose
    first version is now stored and that no run announced yet; returns how many."""
    announced = 0
    for document in store.page_documents(page):
        if document.baseline or not document.watched or document.announced_id is not None:
            continue
        news = _news(store, document, first=True)
        if news is None:
            continue  # not read yet (its check failed, or comes later): announced once it is
        version_id = document.seen_in or _latest_id(store, page)
        change = Change("document_added", (), new=news.title, document=news)
        if store.add_document_change(document.id, version_id, store.version_before(version_id), change):
            log.info("%s: new document %s", page, document.url[:200])
            announced += 1
    return announced


# ---------------------------------------------------------------- surveying


def _links(page: Source, store: Store, workers: Workers, version: StoredVersion) -> tuple[Link, ...]:
    """The links of a stored version of the page, read in a worker under the budget."""
    info = store.fetch_info(version.id)
    body = Body(
        store.raw(version.id),
        content_type=info.content_type or "",
        url=info.url or page.url,
        encoding=page.encoding,
        http_charset=info.charset,
    )
    links: tuple[Link, ...] = workers.run(page_links, body)
    return links


def _surveyed_on(store: Store, page: str, version_id: int) -> bool:
    # Surveyed on this version already, and nothing left over for a later check.
    last = store.survey(page)
    return last is not None and last == (version_id, 0)


def _survey(
    page: Source,
    store: Store,
    version: StoredVersion,
    found: Sequence[Found],
    *,
    via: str,
    cap: int | None = None,
) -> list[str]:
    """Record the new documents of the page's `version`, notice those gone; returns the names of
    the new ones over `cap`, left for the next check."""
    known = {d.url: d for d in store.page_documents(page.name)}
    baseline = store.survey(page.name) is None
    present = {f.url for f in found}
    new = [f for f in found if f.url not in known]
    later: list[Found] = []
    if cap is not None and not baseline and len(new) > cap:
        new, later = new[:cap], new[cap:]
    restored = [d.id for d in known.values() if d.removed_id is not None and d.url in present]
    store.record_survey(
        page.name,
        version.id,
        [(f.url, f.source, f.title) for f in new],
        via=via,
        baseline=baseline,
        watched=via == "attachment" or not baseline,
        restored=restored,
        skipped=len(later),
    )
    for document in known.values():
        if document.removed_id is None and document.url not in present:
            _notice_removed(store, page.name, version, document)
    if baseline and new:
        log.info("%s: %d documents recorded as its baseline (not announced)", page.name, len(new))
    return [f.title or file_name(f.url) for f in later]


def _named(page: Source, store: Store, links: Sequence[Link]) -> list[Found]:
    """The listing's entries as documents, each new one with a source name of its own
    ("<listing>/<file name>", numbered when two share a file name); known ones keep theirs."""
    known = {d.url: d.source for d in store.page_documents(page.name)}
    taken = set(known.values())
    found: list[Found] = []
    for link in links:
        name = known.get(link.url)
        if name is None:
            filename = file_name(link.url)
            name, n = f"{page.name}/{filename}", 1
            while name in taken:
                n += 1
                name = f"{page.name}/{n}-{filename}"
            taken.add(name)
        found.append(Found(link.url, name, link.text or None))
    return found


def _notice_removed(store: Store, page: str, version: StoredVersion, document: DocumentRecord) -> None:
    news = _news(store, document, first=False) or DocumentNews(
        document.source, document.url, document.title or file_name(document.url)
    )
    change = Change("document_removed", (), old=news.title, document=news)
    if store.add_document_change(document.id, version.id, store.version_before(version.id), change):
        log.info("%s: document gone from the page: %s", page, document.url[:200])


def _news(store: Store, document: DocumentRecord, *, first: bool) -> DocumentNews | None:
    """What a change says of the document: from its first (or latest) stored version."""
    facts = store.document_facts(document.source, first=first)
    if facts is None:
        return None
    ledger = store.indicators(facts.version_id) or ()
    targets = [i for i in ledger if i.target.role == "target"]
    return DocumentNews(
        source=document.source,
        url=document.url,
        title=document.title or facts.title or file_name(document.url),
        size=facts.size,
        targets=tuple(targets[:MAX_TARGETS]),
        total_targets=len(targets),
    )


def _latest_id(store: Store, page: str) -> int:
    latest = store.latest(page)
    assert latest is not None  # a surveyed page has a version
    return latest.id
