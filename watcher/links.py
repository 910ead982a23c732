"""Links and the addresses they lead to: which URL schemes are the web's, and which links a
page may lead watcher to. Read by the configuration, the fetcher, the HTML reader and the check."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["FILE_SCHEME", "WEB_SCHEMES", "followable_link"]

WEB_SCHEMES = frozenset({"http", "https"})
FILE_SCHEME = "file"


def followable_link(link: str, page_url: str) -> bool:
    """Whether a link found on the page at `page_url` may be fetched: a web page leads to web
    addresses only and a local (file://) page to local files only, so that a page on the web can
    never make watcher read a local file. A page without an address (a local path) keeps web and
    relative links; nothing fetches those."""
    try:
        page, scheme = urlsplit(page_url).scheme.lower(), urlsplit(link).scheme.lower()
    except ValueError:  # a malformed address (http://[… )
        return False
    if page in WEB_SCHEMES:
        return scheme in WEB_SCHEMES
    if page == FILE_SCHEME:
        return scheme == FILE_SCHEME
    return scheme in WEB_SCHEMES or scheme == ""
