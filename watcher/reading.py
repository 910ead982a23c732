"""What a fetched body reads as: its document, its hash, its changes against the last version and
its target ledger. The CPU-bound part of a check, pure, run in a worker under the budget
(watcher.budget), so that a hostile file costs its own source and nothing else.

It also says when a body is not believable as a version of its source (SuspiciousFetch):

- an error page: a short text with an error-page cue (页面不存在, 404 …) that is not the source's
  document;
- a text that shrank under `ratio` of the last version's and is not a plausible version of it:
  less than PLAUSIBLE_SHARE of its characters are in paragraphs the last version had too. A
  document that really shrank (a chapter dropped) keeps most of its paragraphs; an error page or
  a login wall shares nothing but furniture.

and when the body is a challenge or block page in place of the document (BlockedPage; see
watcher.challenge). Repetition alone never makes such a text a version; `watcher accept SOURCE` takes it on purpose
(accept=True here).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from watcher.challenge import challenge_reason, page_shape
from watcher.differ import diff_documents, document_hash
from watcher.differ.ledger import indicators
from watcher.errors import BlockedPage, NoDocumentText, SuspiciousFetch
from watcher.extract import extract
from watcher.formats import detect_format
from watcher.model import Diff, Document, Indicator, VersionInfo
from watcher.normalise import comparison_forms
from watcher.vocabulary import ERROR_PAGE_CUES, ERROR_PAGE_MAX_CHARS

PLAUSIBLE_SHARE = 0.5


@dataclass(frozen=True)
class Body:
    """A fetched body and how to read it."""

    data: bytes
    content_type: str = ""
    url: str = ""
    selector: str | None = None
    encoding: str | None = None
    http_charset: str | None = None


def body_key(body: Body) -> str:
    """What identifies a body and the way it is read: the same key reads as the same document.
    (A new extractor reads old bytes anew: `watcher reextract` after an upgrade.)"""
    digest = hashlib.sha256(body.data)
    for part in (body.content_type, body.url, body.selector, body.encoding, body.http_charset):
        digest.update(b"\0" + (part or "").encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(frozen=True)
class Previous:
    """The last stored version, as far as reading a new body needs it."""

    document: Document
    sha256: str
    info: VersionInfo


@dataclass(frozen=True)
class Reading:
    """A body read as a version. `diff` is None when nothing changed, there was no previous
    version, or the differ failed (then `diff_error` says why); `ledger` None when it failed."""

    document: Document
    sha256: str
    note: str | None = None  # stored with the version (a shrink taken as real …)
    diff: Diff | None = None
    diff_error: str | None = None
    ledger: tuple[Indicator, ...] | None = None


def read(
    body: Body,
    previous: Previous | None = None,
    *,
    ratio: float = 0.3,
    new_ref: str = "new",
    fetched_at: str | None = None,
    accept: bool = False,
) -> Reading:
    """The body as a version: raises ExtractError when it cannot be read, SuspiciousFetch when it
    is not believable and BlockedPage when it is a challenge page (unless `accept`). Changes and
    ledger are computed only for a new text."""
    shape = None
    if not accept and detect_format(body.data, body.content_type, body.url) == "html":
        shape = page_shape(body.data, body.http_charset, body.encoding)
        reason = challenge_reason(shape, 0)
        if reason:
            raise BlockedPage(reason)
    try:
        document = extract(
            body.data,
            content_type=body.content_type,
            url=body.url,
            selector=body.selector,
            encoding=body.encoding,
            http_charset=body.http_charset,
        )
    except NoDocumentText:
        if shape is not None and shape.scripts:  # what there is to read may be a script's to write
            raise BlockedPage(f"the page has no document text, only {len(shape.visible)} characters and scripts") from None
        raise
    if not document.text.strip():
        raise SuspiciousFetch("no document text in the body")
    sha256 = document_hash(document)
    if previous is not None and sha256 == previous.sha256:
        return Reading(document, sha256)
    note = None if accept else believable(document, previous.document if previous else None, ratio)
    if document.ocr is not None:  # the run's report says the new text is a recognised one
        note = f"{note}; {document.ocr.note}" if note else document.ocr.note
    diff, diff_error = None, None
    if previous is not None:
        try:
            new_info = VersionInfo(new_ref, document.title, fetched_at, sha256, document.ocr)
            diff = diff_documents(previous.document, document, old_info=previous.info, new_info=new_info)
        except Exception as exc:  # a differ bug must not cost the user the new version
            diff_error = f"its changes could not be computed: {type(exc).__name__}: {exc}"
    try:
        ledger: tuple[Indicator, ...] | None = indicators(document)
    except Exception:  # nor may the ledger
        ledger = None
    return Reading(document, sha256, note, diff, diff_error, ledger)


def believable(document: Document, previous: Document | None, ratio: float) -> str | None:
    """None, or the note to store a shrunken but plausible version with; raises SuspiciousFetch
    for an error page or a shrunken text that is not the source's document."""
    text = document.text.strip()
    size = len(text)
    if size <= ERROR_PAGE_MAX_CHARS and _is_error_page(text):
        if previous is None or _shared_share(document, previous) < PLAUSIBLE_SHARE:
            raise SuspiciousFetch(f"the body reads as an error page ({size} characters): not stored")
    if previous is None:
        return None
    last = len(previous.text.strip())
    if size >= ratio * last:
        return None  # most new versions end here, without comparing their paragraphs
    shared = _shared_share(document, previous)
    if shared < PLAUSIBLE_SHARE:
        raise SuspiciousFetch(
            f"the text is {size} characters, under {ratio:.0%} of the last version's {last}, and only "
            f"{shared:.0%} of it is in the last version: probably an error page, not stored"
        )
    return f"stored although its text is under {ratio:.0%} of the last version's: {shared:.0%} of it is in the last version"


def _shared_share(document: Document, previous: Document) -> float:
    """The share of the document's characters in paragraphs (or table rows) the previous version
    has too, compared in comparison form."""
    old = set(comparison_forms(previous.text.splitlines()))
    lines = comparison_forms(document.text.splitlines())
    total = sum(len(line) for line in lines)
    return sum(len(line) for line in lines if line in old) / total if total else 0.0


_CUES = tuple(cue.casefold() for cue in ERROR_PAGE_CUES)


def _is_error_page(text: str) -> bool:
    folded = text.casefold()
    return any(cue in folded for cue in _CUES)
