"""One check of a source: fetch → extract → hash → store a version and its changes.

Every outcome becomes a CheckResult and a row in `checks`: a new version, unchanged (a 304 or the
same comparison form), suspicious (an empty body or a fraction of the last text: no version) or
failed (any error, with its message). One source failing never stops the others.

A text that shrank under suspicious_ratio is stored after all once the same text has come
SUSPICIOUS_REPEATS checks in a row (failed checks in between do not count): an error page comes
and goes, a document that really shrank stays. The suspicious checks' messages carry the text's
hash for that.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from email.message import Message
from itertools import zip_longest
from posixpath import basename
from typing import Callable, Iterable, Sequence
from urllib.parse import unquote, urlsplit

from watcher.differ import diff_documents, document_hash
from watcher.differ.ledger import indicators
from watcher.errors import ConfigError, SuspiciousFetch, VersionNotFound, WatcherError
from watcher.extract import extract
from watcher.extract.html import followable_link
from watcher.fetch import Fetcher, HTTPStatusError
from watcher.model import CheckResult, Document, Fetched, Indicator, Settings, Source, StoredVersion, VersionInfo
from watcher.store import Store, utc_now

log = logging.getLogger(__name__)

SUSPICIOUS_REPEATS = 3  # the same shrunken text this many checks in a row is a real version

Progress = Callable[[CheckResult, int], None]
"""Called after each check with its result and the number of checks known so far (it grows as
attachments are found)."""


def check_source(
    source: Source,
    store: Store,
    fetcher: Fetcher,
    settings: Settings,
    *,
    parent: str | None = None,
) -> CheckResult:
    """Check one source and record the outcome; never raises for a problem of the source itself."""
    started_at, clock = utc_now(), time.monotonic()
    store.upsert_source(source, parent)
    latest = store.latest(source.name)
    etag, last_modified = store.validators(source.name, source.url) if latest else (None, None)
    fetched: Fetched | None = None
    sha256: str | None = None
    try:
        fetched = fetcher.fetch(
            source.url, etag=etag, last_modified=last_modified, robots=source.robots
        )
        if fetched.not_modified:
            if latest is None:
                raise WatcherError("the server answered 304 Not Modified to an unconditional request")
            result = _result(source, "unchanged", fetched, clock, version=latest)
            store.add_check(
                result,
                started_at=started_at,
                etag=fetched.etag or etag,
                last_modified=fetched.last_modified or last_modified,
            )
            return result
        if not fetched.body.strip():
            raise SuspiciousFetch(f"empty body (HTTP {fetched.status}, {len(fetched.body)} bytes)")
        document = extract(
            fetched.body,
            content_type=fetched.content_type,
            url=fetched.url,
            selector=source.selector,
            encoding=source.encoding,
            http_charset=_charset(fetched.headers.get("content-type", "")),
        )
        if not document.text.strip():
            raise SuspiciousFetch("no document text in the body")
        sha256 = document_hash(document)
        note = _accept_shrink(store, source.name, document, sha256, latest, settings.fetch.suspicious_ratio)
        if latest is not None and sha256 == latest.sha256:
            result = replace(_result(source, "unchanged", fetched, clock, version=latest), sha256=sha256)
            store.add_check(result, started_at=started_at, etag=fetched.etag, last_modified=fetched.last_modified)
            return result
        return _store_new(source, store, fetched, document, sha256, latest, started_at, clock, note=note)
    except SuspiciousFetch as exc:
        status, error, http_status = "suspicious", str(exc), None
    except HTTPStatusError as exc:
        status, error, http_status = "failed", str(exc), exc.status
    except WatcherError as exc:
        status, error, http_status = "failed", str(exc), None
    except Exception as exc:  # a bug in a stage must not stop the run, nor go unrecorded
        log.exception("check of %s failed", source.name)
        status, error, http_status = "failed", f"unexpected error: {type(exc).__name__}: {exc}", None
    result = replace(_result(source, status, fetched, clock, error=error, http_status=http_status), sha256=sha256)
    store.add_check(result, started_at=started_at)
    return result


def _store_new(
    source: Source,
    store: Store,
    fetched: Fetched,
    document: Document,
    sha256: str,
    latest: StoredVersion | None,
    started_at: str,
    clock: float,
    *,
    note: str | None = None,
) -> CheckResult:
    fetched_at = utc_now()
    diff, error = None, note
    if latest is not None:
        # Diffing happens before the transaction: the database is never held during slow work.
        try:
            diff = diff_documents(
                store.document(latest.id),
                document,
                old_info=latest.info,
                new_info=VersionInfo(
                    f"{source.name}@{latest.number + 1}", document.title, fetched_at, sha256
                ),
            )
        except Exception as exc:  # a differ bug must not cost the user the new version
            log.exception("diff of %s failed", source.name)
            failure = f"new version stored, but its changes could not be computed: {type(exc).__name__}: {exc}"
            error = f"{note}; {failure}" if note else failure
    ledger = _ledger(document, source.name)  # before the transaction too
    with store.transaction():
        version = store.add_version(
            source.name,
            document,
            sha256=sha256,
            raw=fetched.body,
            url=fetched.url,
            content_type=fetched.content_type,
            charset=_charset(fetched.headers.get("content-type", "")),
            fetched_at=fetched_at,
            ledger=ledger,
        )
        substantive = store.add_changes(version.id, latest.id, diff) if diff and latest else 0
        result = replace(
            _result(source, "new", fetched, clock, version=version, error=error), changes=substantive, sha256=sha256
        )
        store.add_check(result, started_at=started_at, etag=fetched.etag, last_modified=fetched.last_modified)
    return result


def _result(
    source: Source,
    status: str,
    fetched: Fetched | None,
    clock: float,
    *,
    version: StoredVersion | None = None,
    error: str | None = None,
    http_status: int | None = None,
) -> CheckResult:
    if http_status is None and fetched is not None:
        http_status = fetched.status
    return CheckResult(
        source=source.name,
        status=status,  # type: ignore[arg-type]
        url=source.url,
        http_status=http_status,
        bytes=len(fetched.body) if fetched else 0,
        duration=time.monotonic() - clock,
        version_id=version.id if version else None,
        version_number=version.number if version else None,
        error=error,
    )


def _accept_shrink(
    store: Store, name: str, document: Document, sha256: str, latest: StoredVersion | None, ratio: float
) -> str | None:
    """An error page served with 200 comes out as a fraction of the text: not a version, unless
    the same text has now come SUSPICIOUS_REPEATS checks in a row. Returns the note to store it
    with; raises SuspiciousFetch while it is still suspicious."""
    size, last = len(document.text.strip()), len(latest.text.strip()) if latest else 0
    if latest is None or size >= ratio * last:
        return None
    seen = 1 + _suspicious_streak(store, name, sha256)
    if seen < SUSPICIOUS_REPEATS:
        raise SuspiciousFetch(
            f"the text is {size} characters, under {ratio:.0%} of the last version's {last}: probably an "
            f"error page, not stored ({seen} of {SUSPICIOUS_REPEATS} checks in a row with this text "
            "needed to take it as a version)"
        )
    return (
        f"stored although its text is under {ratio:.0%} of the last version's: "
        f"the same text came {SUSPICIOUS_REPEATS} checks in a row"
    )


def _suspicious_streak(store: Store, name: str, sha256: str) -> int:
    """How many of the latest checks, failed ones aside, were suspicious of this same text."""
    streak = 0
    for check in reversed(store.checks(name)):
        if check["status"] == "failed":
            continue
        if check["status"] != "suspicious" or check.get("sha256") != sha256:
            break
        streak += 1
    return streak


def _charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip() if isinstance(charset, str) and charset.strip() else None


# ---------------------------------------------------------------- attachments


# Attachments of these kinds are followed: the formats watcher extracts. Pages also link .doc,
# .wps, .xls, .et, .ofd files; checking those would fail on every run, so they are only named.
FOLLOWED_EXTENSIONS = (".docx", ".pdf", ".txt", ".htm", ".html")
_MAX_NAMED = 5  # unreadable attachments named in a page's note


def attachment_sources(source: Source, document: Document) -> list[Source]:
    """The files linked from a notice page that watcher can read, as sources named
    "<source>/<file name>".

    Only links the page may lead to (followable_link: web to web, file:// to file://) are taken,
    whatever an older extractor stored: a page on the web must never make watcher read a local file.
    """
    found: list[Source] = []
    names: set[str] = set()
    for url in _linked(source, document):
        if not _readable(url):
            continue
        filename = _file_name(url)
        name, n = f"{source.name}/{filename}", 1
        while name in names:
            n += 1
            name = f"{source.name}/{n}-{filename}"
        names.add(name)
        found.append(Source(name=name, url=url, tags=source.tags, robots=source.robots, title=filename))
    return found


def unreadable_attachments(source: Source, document: Document) -> list[str]:
    """File names of the attachments not followed because watcher cannot read their format."""
    return [_file_name(url) for url in _linked(source, document) if not _readable(url)]


def _linked(source: Source, document: Document) -> list[str]:
    allowed = []
    for url in dict.fromkeys(document.attachments):
        if followable_link(url, source.url):
            allowed.append(url)
        else:
            log.warning("%s: attachment %r not followed: not reachable from the page's address", source.name, url)
    return allowed


def _readable(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(FOLLOWED_EXTENSIONS)


def _file_name(url: str) -> str:
    filename = unquote(basename(urlsplit(url).path)) or "attachment"
    # "@" and blanks have a meaning in version references (SOURCE@N) and on command lines;
    # control characters would reach terminals.
    return "".join("_" if ch == "@" or ch.isspace() or not ch.isprintable() else ch for ch in filename)


def _unreadable_note(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMED])
    more = f" and {len(names) - _MAX_NAMED} more" if len(names) > _MAX_NAMED else ""
    return f"attachments not followed (a format watcher cannot read): {shown}{more}"


def _with_note(result: CheckResult, note: str) -> CheckResult:
    return replace(result, error=f"{result.error}; {note}" if result.error else note)


def _attachments_of(source: Source, store: Store) -> tuple[list[Source], list[str]]:
    """The attachments to check and the names of those skipped, from the latest stored version,
    so that a 304 or a failed fetch of the page still checks them."""
    latest = store.latest(source.name)
    if latest is None:
        return [], []
    document = store.document(latest.id)
    return attachment_sources(source, document), unreadable_attachments(source, document)


# ---------------------------------------------------------------- a run


def select_sources(settings: Settings, names: Sequence[str] | None) -> list[Source]:
    """The configured sources named (all when names is empty), in config order."""
    if not names:
        return list(settings.sources)
    known = {source.name: source for source in settings.sources}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            settings.config_path,
            None,
            f"no source named {', '.join(map(repr, unknown))} (configured: {', '.join(known) or 'none'})",
        )
    return [known[name] for name in dict.fromkeys(names)]


def check_all(
    settings: Settings, names: Sequence[str] | None = None, progress: Progress | None = None
) -> list[CheckResult]:
    """Check the named sources (all by default) and their attachments, concurrently and politely.

    Holds the database lock for the run (LockedError when another run holds it). Results come in
    config order, each page followed by its attachments.
    """
    selected = select_sources(settings, names)
    with Store(settings.storage_path) as store, store.lock(), Fetcher(settings.fetch) as fetcher:
        with ThreadPoolExecutor(max_workers=settings.fetch.workers, thread_name_prefix="check") as pool:

            def submit(source: Source, parent: str | None) -> Future[CheckResult]:
                return pool.submit(_check_safely, source, store, fetcher, settings, parent)

            pending = {submit(s, None): (s, None) for s in _interleave_hosts(selected)}
            results: dict[str, CheckResult] = {}
            children: dict[str, list[str]] = defaultdict(list)
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    source, parent = pending.pop(future)
                    results[source.name] = future.result()
                    if parent is None and source.attachments:
                        found, unreadable = _attachments_safely(source, store)
                        for child in found:
                            children[source.name].append(child.name)
                            pending[submit(child, source.name)] = (child, source.name)
                        if unreadable:
                            results[source.name] = _with_note(results[source.name], _unreadable_note(unreadable))
                    if progress:
                        progress(results[source.name], len(results) + len(pending))
    return [results[name] for s in selected for name in (s.name, *children[s.name])]


def _check_safely(
    source: Source, store: Store, fetcher: Fetcher, settings: Settings, parent: str | None
) -> CheckResult:
    """check_source, turning what it could not record (a database error …) into a result."""
    try:
        return check_source(source, store, fetcher, settings, parent=parent)
    except Exception as exc:
        log.exception("check of %s failed", source.name)
        return CheckResult(source=source.name, status="failed", url=source.url, error=f"{type(exc).__name__}: {exc}")


def _attachments_safely(source: Source, store: Store) -> tuple[list[Source], list[str]]:
    try:
        return _attachments_of(source, store)
    except Exception:
        log.exception("attachments of %s could not be listed", source.name)
        return [], []


def _interleave_hosts(sources: Iterable[Source]) -> list[Source]:
    """Round-robin over hosts, so that workers waiting on one host's politeness do not idle the
    others."""
    by_host: dict[str, list[Source]] = defaultdict(list)
    for source in sources:
        by_host[urlsplit(source.url).netloc.lower()].append(source)
    return [s for group in zip_longest(*by_host.values()) for s in group if s is not None]


# ---------------------------------------------------------------- re-extraction


@dataclass(frozen=True)
class Reextraction:
    """One stored version run through the current extractor again."""

    version: StoredVersion  # as it was before
    sha256: str  # the hash now ("" when extraction failed)
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.error is None and self.sha256 != self.version.sha256


def reextract(settings: Settings, names: Sequence[str] | None = None) -> list[Reextraction]:
    """Re-run extraction over the stored raw bytes of every version (of the named sources), with
    each source's current selector and encoding, and update text, blocks, title and hash. A
    version that cannot be extracted keeps its text and says why in its Reextraction."""
    configured = {source.name: source for source in settings.sources}
    with Store(settings.storage_path) as store, store.lock():
        stored = [row["name"] for row in store.sources()]
        unknown = [name for name in names or () if name not in stored]
        if unknown:
            raise VersionNotFound(f"no stored source named {', '.join(map(repr, unknown))}")
        done: list[Reextraction] = []
        for name in names or stored:
            source = configured.get(name)
            for version in store.versions(name):
                done.append(_reextract_one(store, version, source))
    return done


def _reextract_one(store: Store, version: StoredVersion, source: Source | None) -> Reextraction:
    info = store.fetch_info(version.id)
    try:
        document = extract(
            store.raw(version.id),
            content_type=info["content_type"] or "",
            url=info["url"] or "",
            selector=source.selector if source else None,
            encoding=source.encoding if source else None,
            http_charset=info["charset"],
        )
        sha256 = document_hash(document)
    except WatcherError as exc:
        return Reextraction(version, "", str(exc))
    except Exception as exc:  # an extractor bug costs this version its re-extraction, not the run
        log.exception("re-extraction of %s failed", version.ref)
        return Reextraction(version, "", f"unexpected error: {type(exc).__name__}: {exc}")
    store.update_extraction(version.id, document, sha256, _ledger(document, version.ref))
    return Reextraction(version, sha256)


def _ledger(document: Document, name: str) -> tuple[Indicator, ...] | None:
    """The document's target ledger; None (none stored) when the differ fails on it, which must
    not cost the version."""
    try:
        return indicators(document)
    except Exception:
        log.exception("target ledger of %s failed", name)
        return None
