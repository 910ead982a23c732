"""Stored changes of substance as an Atom feed (RFC 4287), for one source or for all of them.

One entry per stored change set (a new version of a source with changes of substance), newest
first: its title in Chinese with the source, the version and the counts; its time the time the
changes were stored; its content the HTML summary of the changes (the digest's parts). Ids are tag
URIs (RFC 4151) made of the source name, the two versions' store ids and the new version's hash,
so the same change set keeps its id from run to run, and a rebuilt database does not reuse one.

Written with the standard library's ElementTree: the serialiser escapes every text and attribute,
and document text also loses what XML 1.0 cannot hold (`xml_text`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from urllib.parse import quote

from watcher.changes import ChangeSet
from watcher.kinds import SUBSTANTIVE_KINDS
from watcher.language import _
from watcher.model import summarise
from watcher.normalise import xml_text
from watcher.report.layout import capped_layout, render_template, summary_line, web_link
from watcher.store import utc_now

ATOM = "http://www.w3.org/2005/Atom"
TAG_PREFIX = "tag:watcher,2026:"  # the tagging entity and the date it was minted: never changes
MAX_ENTRIES = 100  # the newest change sets; a feed reader keeps what it has already seen
GENERATOR = "watcher"


def entry_id(change_set: ChangeSet) -> str:
    """The stable id of a change set: tag:watcher,2026:SOURCE/PREVIOUS-VERSION-HASH."""
    previous, version = change_set.previous, change_set.version
    return f"{TAG_PREFIX}{quote(version.source, safe='')}/{previous.id}-{version.id}-{version.sha256[:16]}"


def feed_id(source: str | None) -> str:
    return f"{TAG_PREFIX}feed/{quote(source, safe='')}" if source else f"{TAG_PREFIX}feed"


def entry_title(change_set: ChangeSet) -> str:
    """"plan 第2版：目标调整 1 项、新增举措 1 项" ("plan version 2: 1 target changed, …" in English)."""
    substantive = summarise([c for c in change_set.diff.changes if c.kind in SUBSTANTIVE_KINDS])
    return _("{source} version {number}: {summary}").format(
        source=change_set.version.source, number=change_set.version.number, summary=summary_line(substantive)
    )


def render_feed(change_sets: Sequence[ChangeSet], source: str | None = None, now: str | None = None) -> str:
    """The feed of the change sets of substance among `change_sets` (of `source`, or of every
    source), as XML text. `now` (ISO 8601, UTC) is the feed's time when it has no entry."""
    shown = sorted((c for c in change_sets if c.substantive), key=lambda c: (c.stored_at, c.version.id), reverse=True)
    shown = shown[:MAX_ENTRIES]
    # Tags are written unqualified under a literal xmlns: ElementTree's default_namespace refuses
    # the unqualified attributes (rel, href, type) that Atom uses.
    feed = ET.Element("feed", xmlns=ATOM)
    _add(feed, "id", feed_id(source))
    title = _("watcher: changes of substance in {source}").format(source=source) if source else _(
        "watcher: changes of substance in every source"
    )
    _add(feed, "title", title)
    _add(feed, "updated", shown[0].stored_at if shown else now or utc_now())
    author = _add(feed, "author")
    _add(author, "name", GENERATOR)
    _add(feed, "generator", GENERATOR)
    home = web_link(shown[0].version.url) if source and shown else None
    if home:
        _add(feed, "link", rel="alternate", href=home)
    for change_set in shown:
        _entry(feed, change_set)
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True)


def _entry(feed: ET.Element, change_set: ChangeSet) -> None:
    entry = _add(feed, "entry")
    title = entry_title(change_set)
    _add(entry, "id", entry_id(change_set))
    _add(entry, "title", title)
    _add(entry, "updated", change_set.stored_at)
    _add(entry, "published", change_set.stored_at)
    link = web_link(change_set.version.url)
    if link:
        _add(entry, "link", rel="alternate", href=link)
    layout, omitted = capped_layout(change_set.diff.changes)
    html = render_template(
        "feed_entry.html.j2",
        title=change_set.version.title or title,
        diff=change_set.diff,
        url=change_set.version.url,
        source=change_set.version.source,
        layout=layout,
        omitted=omitted,
    )
    _add(entry, "content", html.strip(), type="html")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element
