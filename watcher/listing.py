"""Column pages (`kind = "listing"`: a site section's list of notices, 规划计划, 工作总结 …): the
links they list, and which of them are entries, the documents watcher watches for them.

`page_links` reads a stored listing page's links with their texts (a pure job, run in a worker
under the budget, like every reading of a body); `entries` keeps those that are entries: the
links the source's `pattern` finds (in the URL or the text), or without a pattern every link to
the listing's own host whose text is long enough to be a title, not a menu item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from posixpath import basename
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from watcher.decode import decode
from watcher.extract.markup import parse
from watcher.links import followable_link
from watcher.model import Source
from watcher.normalise import clean_display
from watcher.reading import Body

MAX_LINKS = 5000  # links read from one listing page; a page of more is not a site section's list
MAX_TITLE = 300  # characters kept of a link's text
MIN_TITLE = 8  # without a pattern, a shorter link text is a menu item (首页, 政务公开 …), not a notice


@dataclass(frozen=True)
class Link:
    """A link of a page: its absolute address (without fragment) and its text."""

    url: str
    text: str


def page_links(body: Body) -> tuple[Link, ...]:
    """The links of an HTML page in page order, each address once (with its first non-empty
    text), at most MAX_LINKS."""
    markup = decode(body.data, http_charset=body.http_charset, override=body.encoding, markup=True)
    found: dict[str, str] = {}
    for anchor in parse(markup).find_all("a", href=True):
        href = str(anchor["href"]).strip()
        if not href or href.startswith("#"):
            continue
        try:
            url = urldefrag(urljoin(body.url, href) if body.url else href).url
        except ValueError:  # a malformed address (http://[… ) links to nothing
            continue
        text = clean_display(" ".join(anchor.get_text(" ").split()))[:MAX_TITLE]
        if url not in found:
            if len(found) >= MAX_LINKS:
                break
            found[url] = text
        elif not found[url]:
            found[url] = text
    return tuple(Link(url, text) for url, text in found.items())


def entries(listing: Source, links: tuple[Link, ...]) -> list[Link]:
    """The links of the listing page that are its entries, in page order."""
    pattern = re.compile(listing.pattern) if listing.pattern else None
    itself = urldefrag(listing.url).url
    host = urlsplit(listing.url).netloc.lower()
    chosen: list[Link] = []
    for link in links:
        if link.url == itself or not followable_link(link.url, listing.url):
            continue
        if pattern is not None:
            if pattern.search(link.url) or pattern.search(link.text):
                chosen.append(link)
        elif urlsplit(link.url).netloc.lower() == host and len(link.text) >= MIN_TITLE:
            chosen.append(link)
    return chosen


def file_name(url: str) -> str:
    """The last part of a link's path, fit for a source name ("<source>/<file name>")."""
    filename = unquote(basename(urlsplit(url).path)) or "attachment"
    # "@" and blanks have a meaning in version references (SOURCE@N) and on command lines;
    # control characters would reach terminals.
    return "".join("_" if ch == "@" or ch.isspace() or not ch.isprintable() else ch for ch in filename)
