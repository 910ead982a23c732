"""One check of a source: fetch → read (in a worker, under the budget) → store a version and its
changes.

Every outcome becomes a CheckResult and a row in `checks`: a new version, unchanged (a 304 or the
same comparison form), suspicious (an empty body, an error page, or a shrunken text that is not a
plausible version: see watcher.reading; no version), blocked (a challenge or block page in place
of the document, also after a retry in the browser: watcher.challenge; no version) or failed (any
error, with its message). One source failing never stops the others, and every failure is
recorded as far as the disk allows.

A suspicious check keeps its body as evidence (the latest one per source): `accept_source` takes
it as a version on purpose, which is the only way such a text becomes one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from email.message import Message
from itertools import zip_longest
from urllib.parse import urlsplit

from watcher.attachments import AttachmentList, attachments_of
from watcher.browser import Browser
from watcher.budget import Budget, Workers
from watcher.challenge import challenge_in
from watcher.documents import announce_new
from watcher.errors import (
    BlockedPage,
    BrowserUnavailable,
    ConfigError,
    FetchError,
    Interrupted,
    StoreError,
    SuspiciousFetch,
    VersionNotFound,
    WatcherError,
)
from watcher.fetch import Fetcher, HTTPStatusError
from watcher.links import WEB_SCHEMES
from watcher.model import CheckResult, Fetched, Settings, Source, StoredVersion
from watcher.reading import Body, Previous, Reading, body_key, read
from watcher.store import Store, utc_now

log = logging.getLogger(__name__)

Progress = Callable[[CheckResult, int], None]
"""Called after each check with its result and the number of checks known so far (it grows as
attachments are found)."""


def budget_of(settings: Settings) -> Budget:
    """What one document may cost, from the [fetch] settings."""
    fetch = settings.fetch
    return Budget(memory=fetch.document_memory, seconds=fetch.document_seconds, processes=fetch.processes)


def check_source(
    source: Source,
    store: Store,
    fetcher: Fetcher,
    settings: Settings,
    workers: Workers,
    *,
    parent: str | None = None,
    origin: str | None = None,
    browser: Browser | None = None,
) -> CheckResult:
    """Check one source and record the outcome; never raises for a problem of the source itself.

    `origin` is the configured URL the source was found from (its page's, for an attachment):
    only that host and port may be internal (Fetcher.fetch). A source with fetch = "browser" is
    loaded in `browser`; a plain fetch whose answer is a challenge or a script-only page is
    tried there again, and what stays one is `blocked` (watcher.challenge)."""
    started_at, clock = utc_now(), time.monotonic()
    store.upsert_source(source, parent)
    latest = store.latest(source.name)
    # a browser fetch sends no validators: the document's would not tell what its scripts changed
    plain = source.fetch == "plain"
    etag, last_modified = store.validators(source.name, source.url) if latest and plain else (None, None)
    fetched: Fetched | None = None
    http_status: int | None = None
    escalation = _Escalation(source, fetcher, browser, workers, origin)
    try:
        try:
            if plain:
                fetched = escalation.plain(etag, last_modified)
            else:
                fetched = escalation.browser()
            return _take(source, store, fetched, latest, settings, workers, started_at, clock, (etag, last_modified), escalation)
        except BlockedPage as exc:
            if not plain or urlsplit(source.url).scheme.lower() not in WEB_SCHEMES:
                raise
            fetched = escalation.retry(str(exc))
            return _take(source, store, fetched, latest, settings, workers, started_at, clock, (None, None), escalation)
    except Interrupted:
        raise  # not recorded: the next run checks the source
    except BlockedPage as exc:
        status, error, http_status = "blocked", escalation.note(str(exc)), escalation.status
    except SuspiciousFetch as exc:
        status, error = "suspicious", _suspicious(str(exc), source)
    except HTTPStatusError as exc:
        status, error, http_status = "failed", str(exc), exc.status
    except WatcherError as exc:
        status, error = "failed", str(exc)
    except sqlite3.Error as exc:  # a full disk, a damaged database
        status, error = "failed", f"the database could not be written: {type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug in a stage: must not stop the run, nor go unrecorded
        log.debug("check of %s failed", source.name, exc_info=True)
        status, error = "failed", f"unexpected error: {type(exc).__name__}: {exc}"
    result = replace(_result(source, status, fetched, clock, error=error, http_status=http_status), sha256=escalation.sha256)
    evidence = fetched if status == "suspicious" and fetched is not None and fetched.body.strip() else None
    store.add_check(result, started_at=started_at, evidence=evidence)
    return result


def _take(
    source: Source,
    store: Store,
    fetched: Fetched,
    latest: StoredVersion | None,
    settings: Settings,
    workers: Workers,
    started_at: str,
    clock: float,
    sent: tuple[str | None, str | None],
    escalation: _Escalation,
) -> CheckResult:
    """A fetched answer read and recorded: unchanged (a 304 against the validators `sent`, or
    the latest version's body or text again) or a new version."""
    if fetched.not_modified:
        if latest is None:
            raise WatcherError("the server answered 304 Not Modified to an unconditional request")
        # a 304 carries no validators of its own at times: the ones sent still hold
        validators = (fetched.etag or sent[0], fetched.last_modified or sent[1])
        return _unchanged(source, store, fetched, latest, started_at, clock, validators, body_read=False)
    if not fetched.body.strip():
        raise SuspiciousFetch(f"empty body (HTTP {fetched.status}, {len(fetched.body)} bytes)")
    body = _body(source, fetched)
    key = body_key(body)
    if latest is not None and store.knows_body(source.name, latest.id, key):
        # the very body already read as the latest version: nothing to read again
        return _unchanged(source, store, fetched, latest, started_at, clock, body_key=key)
    reading, fetched_at = _read(workers, store, body, source.name, latest, ratio=settings.fetch.suspicious_ratio)
    escalation.sha256 = reading.sha256
    if latest is not None and reading.sha256 == latest.sha256:
        return _unchanged(source, store, fetched, latest, started_at, clock, body_key=key)
    return _store_new(
        source, store, fetched, reading, latest, started_at, clock, fetched_at, note=escalation.retried, body_key=key
    )


class _Escalation:
    """The fetches of one check: plain, then (for a challenge) in the browser; what each said."""

    def __init__(
        self, source: Source, fetcher: Fetcher, browser: Browser | None, workers: Workers, origin: str | None
    ) -> None:
        self.source, self.fetcher, self._browser, self.workers, self.origin = source, fetcher, browser, workers, origin
        self.status: int | None = None  # the HTTP status a challenge came with
        self.sha256: str | None = None  # the hash of what was read, once read
        self._first: str | None = None  # why the plain fetch was not the document
        self._said: str | None = None  # the whole note, when the browser could not help

    def plain(self, etag: str | None, last_modified: str | None) -> Fetched:
        source = self.source
        return self._judged(
            lambda: self.fetcher.fetch(
                source.url, etag=etag, last_modified=last_modified, robots=source.robots, origin=self.origin
            )
        )

    def browser(self) -> Fetched:
        source, browser = self.source, self._browser
        if browser is None:
            raise BrowserUnavailable("no browser in this run (check_all starts one)")

        def fetch() -> Fetched:
            with self.fetcher.page_slot(source.url, robots=source.robots, origin=self.origin):
                return browser.fetch(source.url, origin=self.origin, encoding=source.encoding)

        return self._judged(fetch)

    @property
    def retried(self) -> str | None:
        """The note of a version the browser gave after the plain fetch did not."""
        return f"read in a browser: {self._first}" if self._first else None

    def retry(self, reason: str) -> Fetched:
        """The page in the browser, after the plain fetch got a challenge (`reason`): what it
        renders, or BlockedPage when it cannot be tried or fails there."""
        self._first = reason
        try:
            return self.browser()
        except BlockedPage:
            raise
        except BrowserUnavailable as exc:
            self._said = f"{reason}; not retried in a browser: {exc}"
        except FetchError as exc:
            self._said = f"{reason}; the browser fetch failed: {exc}"
        raise BlockedPage(self._said)

    def note(self, last: str) -> str:
        """What the check says of a page that stayed blocked (`last`: the latest reason)."""
        if self._said or self._first is None:
            return self._said or last
        return f"{self._first}; in the browser too: {last}"

    def _judged(self, fetch: Callable[[], Fetched]) -> Fetched:
        """fetch(), with an error status whose body is a challenge page raised as BlockedPage."""
        try:
            return fetch()
        except HTTPStatusError as exc:
            if exc.body:
                charset = _charset(exc.content_type)
                reason = self.workers.run(challenge_in, exc.body, exc.status, charset, self.source.encoding)
                if reason:
                    self.status = exc.status
                    raise BlockedPage(reason) from None
            raise


def _suspicious(reason: str, source: Source) -> str:
    return f"{reason} (`watcher accept {source.name}` takes it as a version if it is one)"


def _body(source: Source, fetched: Fetched) -> Body:
    return Body(
        fetched.body,
        content_type=fetched.content_type,
        url=fetched.url,
        selector=source.selector,
        encoding=source.encoding,
        http_charset=_charset(fetched.headers.get("content-type", "")),
    )


def _read(
    workers: Workers,
    store: Store,
    body: Body,
    name: str,
    latest: StoredVersion | None,
    *,
    ratio: float = 0.3,
    accept: bool = False,
) -> tuple[Reading, str]:
    """The body read in a worker as the next version of source `name`, and when it was read."""
    previous = Previous(store.document(latest.id), latest.sha256, latest.info) if latest else None
    fetched_at = utc_now()
    new_ref = f"{name}@{latest.number + 1 if latest else 1}"
    reading = workers.run(read, body, previous, ratio=ratio, new_ref=new_ref, fetched_at=fetched_at, accept=accept)
    return reading, fetched_at


def _unchanged(
    source: Source,
    store: Store,
    fetched: Fetched,
    latest: StoredVersion,
    started_at: str,
    clock: float,
    validators: tuple[str | None, str | None] | None = None,
    *,
    body_read: bool = True,
    body_key: str | None = None,
) -> CheckResult:
    """Record a check that found the latest version again (validators: the response's by default);
    the check has the version's hash when it read (or knew) the body, none for a 304."""
    etag, last_modified = validators or (fetched.etag, fetched.last_modified)
    result = replace(
        _result(source, "unchanged", fetched, clock, version=latest), sha256=latest.sha256 if body_read else None
    )
    store.add_check(result, started_at=started_at, etag=etag, last_modified=last_modified, body_key=body_key)
    return result


def _store_new(
    source: Source,
    store: Store,
    fetched: Fetched,
    reading: Reading,
    latest: StoredVersion | None,
    started_at: str,
    clock: float,
    fetched_at: str,
    *,
    note: str | None = None,
    body_key: str | None = None,
) -> CheckResult:
    failure = f"new version stored, but {reading.diff_error}" if reading.diff_error else None
    error = "; ".join(part for part in (note, reading.note, failure) if part) or None
    if reading.ledger is None:
        log.warning("%s: the target ledger of the new version could not be read", source.name)
    with store.transaction():
        version = store.add_version(
            source.name,
            reading.document,
            sha256=reading.sha256,
            raw=fetched.body,
            url=fetched.url,
            content_type=fetched.content_type,
            charset=_charset(fetched.headers.get("content-type", "")),
            fetched_at=fetched_at,
            ledger=reading.ledger,
        )
        diff = reading.diff
        substantive = store.add_changes(version.id, latest.id, diff) if diff and latest else 0
        result = replace(
            _result(source, "new", fetched, clock, version=version, error=error),
            changes=substantive,
            sha256=reading.sha256,
        )
        store.add_check(
            result, started_at=started_at, etag=fetched.etag, last_modified=fetched.last_modified, body_key=body_key
        )
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


def _charset(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip() if isinstance(charset, str) and charset.strip() else None


# ---------------------------------------------------------------- accepting a suspicious body


def accept_source(settings: Settings, name: str) -> CheckResult:
    """Take the body of the source's last check, which looked suspicious, as its next version.

    Raises VersionNotFound when the source's last check was not suspicious or kept no body."""
    source = next((s for s in settings.sources if s.name == name), None)
    with Store(settings.storage_path) as store, store.lock(), Workers(budget_of(settings)) as workers:
        checks = store.checks(name)
        if not checks:
            raise VersionNotFound(f"no check of a source named {name!r} is stored")
        evidence = store.evidence(checks[-1].id)
        if checks[-1].status != "suspicious" or evidence is None:
            raise VersionNotFound(
                f"the last check of {name!r} was {checks[-1].status}, not suspicious with a body kept: nothing to accept"
            )
        source = source or Source(name=name, url=checks[-1].url or evidence.url)
        started_at, clock = utc_now(), time.monotonic()
        latest = store.latest(name)
        body = _body(source, evidence)
        reading, fetched_at = _read(workers, store, body, name, latest, accept=True)
        if latest is not None and reading.sha256 == latest.sha256:
            raise VersionNotFound(f"the body kept for {name!r} reads as its latest version: nothing to accept")
        note = f"accepted by hand (watcher accept) after the check of {checks[-1].started_at} looked suspicious"
        return _store_new(
            source, store, evidence, reading, latest, started_at, clock, fetched_at, note=note, body_key=body_key(body)
        )


def _with_note(result: CheckResult, note: str) -> CheckResult:
    return replace(result, error=f"{result.error}; {note}" if result.error else note)



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
    config order, each page followed by its attachments. Ctrl-C (KeyboardInterrupt) stops the run
    promptly: the fetches and readings under way are cut, what was finished is kept, and every
    source not finished has the result `interrupted`, which is not recorded.
    """
    selected = select_sources(settings, names)
    with Store(settings.storage_path) as store, store.lock(), Fetcher(settings.fetch) as fetcher:
        # started at the first page that needs it, closed with the run
        with Workers(budget_of(settings)) as workers, Browser(settings.fetch, fetcher.policy) as browser, ThreadPoolExecutor(
            max_workers=settings.fetch.workers, thread_name_prefix="check"
        ) as pool:
            run = _Run(store, fetcher, settings, workers, pool, progress, browser)
            for source in _interleave_hosts(selected):
                run.submit(source, None)
            try:
                run.collect()
            except KeyboardInterrupt:
                fetcher.stop()
                browser.stop()
                workers.stop()
                run.stop()
    return [run.results[name] for s in selected for name in (s.name, *run.children[s.name])]


class _Run:
    """The checks of one run under way: submitted, collected, each page's attachments submitted
    when its own check is done."""

    def __init__(
        self, store: Store, fetcher: Fetcher, settings: Settings, workers: Workers, pool: ThreadPoolExecutor,
        progress: Progress | None, browser: Browser | None = None,
    ) -> None:
        self.store, self.fetcher, self.settings, self.workers = store, fetcher, settings, workers
        self.pool, self.progress, self.browser = pool, progress, browser
        self.pending: dict[Future[CheckResult], tuple[Source, Source | None]] = {}
        self.results: dict[str, CheckResult] = {}
        self.children: dict[str, list[str]] = defaultdict(list)

    def submit(self, source: Source, parent: Source | None) -> None:
        future = self.pool.submit(
            _check_safely, source, self.store, self.fetcher, self.settings, self.workers, parent, self.browser
        )
        self.pending[future] = (source, parent)

    def collect(self) -> None:
        while self.pending:
            done, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            for future in done:
                source, parent = self.pending.pop(future)
                self._done(source, parent, future.result())

    def _done(self, source: Source, parent: Source | None, result: CheckResult) -> None:
        self.results[source.name] = result
        if result.status != "interrupted":
            self._follow_up(source, parent, result)
        if self.progress:
            self.progress(self.results[source.name], len(self.results) + len(self.pending))

    def _follow_up(self, source: Source, parent: Source | None, result: CheckResult) -> None:
        """An attachment checked: its page's news; a page or a listing checked: its documents."""
        if parent is not None:
            _announce_safely(self.store, parent.name)
        elif source.attachments or source.kind == "listing":
            listed = _attachments_safely(
                source, self.store, self.fetcher, self.workers, self.settings.fetch.max_attachments
            )
            for child in listed.followed:
                self.children[source.name].append(child.name)
                self.submit(child, source)
            if note := listed.note():
                self.results[source.name] = _with_note(result, note)

    def stop(self) -> None:
        """After fetcher and workers were stopped: the checks not started are cancelled, the
        ones under way end promptly (their fetches and readings were cut)."""
        for future in self.pending:
            future.cancel()
        for future, (source, _) in self.pending.items():
            self.results[source.name] = _interrupted(source) if future.cancelled() else future.result()
        self.pending.clear()


def _interrupted(source: Source) -> CheckResult:
    return CheckResult(source=source.name, status="interrupted", url=source.url, error="not checked: the run was stopped")


def _check_safely(
    source: Source,
    store: Store,
    fetcher: Fetcher,
    settings: Settings,
    workers: Workers,
    parent: Source | None,
    browser: Browser | None = None,
) -> CheckResult:
    """check_source, turning what it could not record (a full disk, a database error …) into a
    result: one line in the log, the traceback only at debug level."""
    try:
        origin = parent.url if parent else None  # an attachment may reach its page's host and port
        return check_source(
            source, store, fetcher, settings, workers, parent=parent.name if parent else None, origin=origin, browser=browser
        )
    except Interrupted:
        return _interrupted(source)
    except (sqlite3.Error, StoreError) as exc:
        message = _unrecorded(source, f"not recorded: the database could not be written: {type(exc).__name__}: {exc}")
    except Exception as exc:
        message = _unrecorded(source, f"unexpected error: {type(exc).__name__}: {exc}")
    return CheckResult(source=source.name, status="failed", url=source.url, error=message)


def _unrecorded(source: Source, message: str) -> str:
    """Log a failure check_source could not record: one line, the traceback at debug level.
    Called inside the except block, where the traceback is still at hand."""
    log.error("check of %s failed: %s", source.name, message)
    log.debug("check of %s failed", source.name, exc_info=True)
    return message


def _attachments_safely(
    source: Source, store: Store, fetcher: Fetcher, workers: Workers, limit: int
) -> AttachmentList:
    try:
        return attachments_of(source, store, fetcher, workers, limit)
    except Exception:
        log.exception("attachments of %s could not be listed", source.name)
        return AttachmentList()


def _announce_safely(store: Store, page: str) -> None:
    # After each attachment's check: a new document is announced once its first version is stored.
    try:
        announce_new(store, page)
    except Exception:
        log.exception("new documents of %s could not be announced", page)


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
    with Store(settings.storage_path) as store, store.lock(), Workers(budget_of(settings)) as workers:
        stored = [row.name for row in store.sources()]
        unknown = [name for name in names or () if name not in stored]
        if unknown:
            raise VersionNotFound(f"no stored source named {', '.join(map(repr, unknown))}")
        done: list[Reextraction] = []
        for name in names or stored:
            source = configured.get(name)
            for version in store.versions(name):
                done.append(_reextract_one(store, workers, version, source))
    return done


def _reextract_one(store: Store, workers: Workers, version: StoredVersion, source: Source | None) -> Reextraction:
    info = store.fetch_info(version.id)
    body = Body(
        store.raw(version.id),
        content_type=info.content_type or "",
        url=info.url or "",
        selector=source.selector if source else None,
        encoding=source.encoding if source else None,
        http_charset=info.charset,
    )
    try:
        reading = workers.run(read, body, accept=True)
    except WatcherError as exc:
        return Reextraction(version, "", str(exc))
    except Exception as exc:  # an extractor bug costs this version its re-extraction, not the run
        log.exception("re-extraction of %s failed", version.ref)
        return Reextraction(version, "", f"unexpected error: {type(exc).__name__}: {exc}")
    store.update_extraction(version.id, reading.document, reading.sha256, reading.ledger)
    return Reextraction(version, reading.sha256)
