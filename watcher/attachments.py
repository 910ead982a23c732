"""A page's attachments and a column page's entries: which of the documents it links become
sources of their own and are checked after it, and which are only named in its check's note (a
format watcher cannot read, an internal address, past [fetch] max_attachments). The documents
are surveyed on the way (watcher.documents): new ones recorded, gone ones noticed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from watcher.budget import Workers
from watcher.connect import endpoint
from watcher.documents import announce_new, plan_listing, survey_attachments
from watcher.fetch import Fetcher
from watcher.formats import followed_attachment
from watcher.links import followable_link
from watcher.listing import file_name
from watcher.model import Document, Source
from watcher.store import Store

log = logging.getLogger(__name__)


# Attachments in the formats watcher reads are followed (watcher.formats). Pages also link
# archives (.zip, .rar, .7z); checking those would fail on every run, so they are only named.
_MAX_NAMED = 5  # unreadable attachments named in a page's note


def attachment_sources(source: Source, document: Document) -> list[Source]:
    """The files linked from a notice page that watcher can read, as sources named
    "<source>/<file name>".

    Only links the page may lead to (followable_link: web to web, file:// to file://) are taken,
    whatever an older extractor stored: a page on the web must never make watcher read a local file.
    """
    return _sources(source, _linked(source, document))


def _sources(source: Source, linked: Sequence[str]) -> list[Source]:
    found: list[Source] = []
    names: set[str] = set()
    for url in linked:
        if not followed_attachment(url):
            continue
        filename = file_name(url)
        name, n = f"{source.name}/{filename}", 1
        while name in names:
            n += 1
            name = f"{source.name}/{n}-{filename}"
        names.add(name)
        found.append(Source(name=name, url=url, tags=source.tags, robots=source.robots, title=filename))
    return found


@dataclass(frozen=True)
class AttachmentList:
    """The attachments of a page to check, and the names of those not followed, by reason."""

    followed: tuple[Source, ...] = ()
    unreadable: tuple[str, ...] = ()  # a format watcher cannot read
    internal: tuple[str, ...] = ()  # "file at host:port": an internal address the config does not allow
    over_limit: tuple[str, ...] = ()  # past [fetch] max_attachments
    limit: int = 0
    later: tuple[str, ...] = ()  # a listing's new entries past the limit, taken on a later check
    noun: str = "attachments"  # what the note calls them ("entries" for a listing)

    def note(self) -> str | None:
        """What the page's check says about the attachments (a listing's entries) not followed."""
        reasons = (
            ("a format watcher cannot read", self.unreadable),
            ("an internal address", self.internal),
            (f"over the limit of {self.limit} a page, [fetch] max_attachments", self.over_limit),
        )
        notes = [_named_note(f"{self.noun} not followed ({reason})", names) for reason, names in reasons if names]
        if self.later:
            notes.append(
                _named_note(f"new entries left for the next check (over the limit of {self.limit} a check, "
                            "[fetch] max_attachments)", self.later)
            )
        return "; ".join(notes) or None


def screen_children(source: Source, children: Sequence[Source], fetcher: Fetcher, limit: int) -> AttachmentList:
    """Of the documents found on the page `source` (its attachments, a listing's entries), those
    to check: none at an internal address the fetcher may not reach from the page's configured
    URL, and at most `limit` followed or refused."""
    followed: list[Source] = []
    internal: list[str] = []
    over: list[str] = []
    for child in children:
        if len(followed) + len(internal) >= limit:
            over.append(child.title or child.name)
            continue
        refusal = fetcher.refusal(child.url, source.url)  # one resolution per host and port a run
        if refusal:
            host, port = endpoint(child.url)
            log.warning("%s: %s not followed: %s", source.name, child.url[:200], refusal)
            internal.append(f"{child.title} at {f'[{host}]' if ':' in host else host}:{port}")
            continue
        followed.append(child)
    return AttachmentList(tuple(followed), (), tuple(internal), tuple(over), limit)


def _linked(source: Source, document: Document) -> list[str]:
    allowed = []
    for url in dict.fromkeys(document.attachments):
        if followable_link(url, source.url):
            allowed.append(url)
        else:
            log.warning("%s: attachment %r not followed: not reachable from the page's address", source.name, url)
    return allowed


def _named_note(what: str, names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMED])
    more = f" and {len(names) - _MAX_NAMED} more" if len(names) > _MAX_NAMED else ""
    return f"{what}: {shown}{more}"


def attachments_of(
    source: Source, store: Store, fetcher: Fetcher, workers: Workers, limit: int
) -> AttachmentList:
    """The attachments (a listing's watched entries) to check and those skipped, from the latest
    stored version, so that a 304 or a failed fetch of the page still checks them. The page's
    documents are surveyed on the way (watcher.documents): new ones are recorded, gone ones noticed."""
    latest = store.latest(source.name)
    if latest is None:
        return AttachmentList()
    if source.kind == "listing":
        plan = plan_listing(source, store, workers, latest, limit)
        listed = replace(screen_children(source, plan.children, fetcher, limit), later=plan.later, noun="entries")
    else:
        document = store.document(latest.id)
        linked = _linked(source, document)  # once: it logs the links the page may not lead to
        children = _sources(source, linked)
        survey_attachments(source, store, workers, latest, children, html=document.format == "html")
        # of the links watcher reads at most `limit` followed or refused: a page of 3,000 links
        # costs at most `limit` name resolutions and fetches; the others are named by format
        unreadable = tuple(file_name(url) for url in linked if not followed_attachment(url))
        listed = replace(screen_children(source, children, fetcher, limit), unreadable=unreadable)
    announce_new(store, source.name)  # any found earlier whose first version is stored by now
    return listed
