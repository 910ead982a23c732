"""What the Store's reads return: frozen records, one a row, with the stored JSON decoded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceRecord:
    """A source ever checked, with its version count and last check."""

    name: str
    url: str
    title: str | None  # the configured title, else the latest version's own
    tags: tuple[str, ...]
    parent: str | None  # the source an attachment was found on
    first_seen: str | None
    versions: int
    latest: int | None  # the latest version's number
    last_check: str | None  # when the last check started
    last_status: str | None
    last_error: str | None


@dataclass(frozen=True)
class CheckRecord:
    """One recorded check of one source."""

    id: int
    source: str
    url: str | None
    started_at: str
    duration: float | None
    http_status: int | None
    bytes: int | None
    status: str  # model.CheckStatus: new, unchanged, failed, suspicious, blocked
    error: str | None
    version_id: int | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    body_key: str | None  # the key of the body read as its version (m0008)


@dataclass(frozen=True)
class LastCheckRecord(CheckRecord):
    """A source's latest check, with the source's title and parent, and the first check of its
    current run of failed, suspicious or blocked checks (None when the latest went well)."""

    title: str | None
    parent: str | None
    problem_since: int | None


@dataclass(frozen=True)
class ChangeRecord:
    """One stored change between two versions of a source."""

    id: int
    source: str
    version_id: int
    previous_id: int  # the version before (add_changes always names it)
    kind: str
    path: tuple[str, ...]
    payload: Mapping[str, Any]  # the change's contract dict (watcher.contract)
    substantive: bool
    created_at: str
    digest_id: int | None  # the last digest that covered it


@dataclass(frozen=True)
class UndeliveredChange(ChangeRecord):
    """A change some recipients still wait for, with the recipient lists of the sent digests that
    covered it (a retry goes only to those who missed it)."""

    sent_to: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class DigestRecord:
    id: int
    created_at: str
    sent_at: str | None
    subject: str | None
    recipients: tuple[str, ...]
    status: str  # pending, sent, failed
    error: str | None
    last_check_id: int | None


@dataclass(frozen=True)
class FetchInfo:
    """What extraction needs of a version besides its bytes."""

    url: str | None
    content_type: str | None
    charset: str | None


@dataclass(frozen=True)
class DocumentRecord:
    """A document a page links to or a column page lists (m0009): how it is watched, and whether
    its arrival was announced and its going noticed."""

    id: int
    parent: str  # the page or listing it was found on
    url: str
    source: str  # the source it is (or would be) checked as
    title: str | None  # the link's text, when the page gave one
    via: str  # "attachment" or "listing"
    first_seen: str
    seen_in: int | None  # the page's version it was first found in
    baseline: bool  # found on the page's first survey: known, never announced
    watched: bool  # checked on every run (a listing's baseline entries are only recorded)
    announced_id: int | None  # its document_added change
    removed_id: int | None  # its document_removed change, while it is gone from the page


@dataclass(frozen=True)
class DocumentFacts:
    """What a document_added or document_removed change says of a document's stored version."""

    version_id: int
    title: str
    size: int
