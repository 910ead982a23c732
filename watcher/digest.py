"""Email digests of stored changes: what changed in which source, built once and sent once.

Each recipient set gets its own digest with only the sources routed to it: the `to` of every
[[email.route]] that shares a tag with the source, or the default `to` for a source no route
takes. `collect` reads, per recipient set, the changes it has not been sent yet (grouped per
source) and its configured sources whose last check failed, looked suspicious or was blocked (a
challenge page in place of the document); `build_digest`
turns them into a Digest (subject with the counts, text and HTML bodies, its recipients);
`send_digest` delivers each one. A digest goes out when there is news: a change of substance, or a
source that began failing after the last digest those recipients were sent (a failure already
reported is listed again, but sends nothing on its own).

Idempotence lives in the store: a digest row is created first, marked sent only after the SMTP
server accepted the message, and marked failed otherwise, so its changes stay unsent to those
recipients and go to them (only) with the next run. A run that dies between acceptance and marking
sends them again next time: a duplicate is possible in that window, a loss is not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from watcher import notify
from watcher.contract import change_from_dict
from watcher.errors import ConfigError, DeliveryError
from watcher.kinds import SUBJECT_GROUPS
from watcher.language import NP_, _, count, rendering
from watcher.model import PROBLEM_STATUSES, Change, Settings, Source
from watcher.report.layout import capped_layout, render_template
from watcher.report.text import render_body
from watcher.store import ChangeRecord, SourceRecord, Store

log = logging.getLogger(__name__)

DEFAULT_SENDER = "watcher@localhost"  # only for digests that are previewed, never sent


@dataclass(frozen=True)
class SourceChanges:
    """The stored changes of one source that a recipient set has not been sent yet."""

    source: str
    title: str
    url: str
    changes: tuple[Change, ...]
    change_ids: tuple[int, ...] = ()  # store ids of `changes`, formatting ones included
    tags: tuple[str, ...] = ()

    @property
    def substantive(self) -> bool:
        return any(change.substantive for change in self.changes)


@dataclass(frozen=True)
class FailedCheck:
    """A source whose last check failed, looked suspicious or was blocked."""

    source: str
    status: str  # one of PROBLEM_STATUSES
    error: str = ""
    checked_at: str = ""
    url: str = ""
    new: bool = False  # began failing after the last digest these recipients were sent


@dataclass(frozen=True)
class Audience:
    """One recipient set and what it has not been sent yet: one digest."""

    recipients: tuple[str, ...]
    groups: tuple[SourceChanges, ...] = ()
    failures: tuple[FailedCheck, ...] = ()  # its configured sources whose last check went wrong
    last_check: int = 0  # the newest check id these failures were read up to


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    sender: str
    recipients: tuple[str, ...]
    change_ids: tuple[int, ...]  # every change this digest covers, shown or hidden

    def message(self) -> EmailMessage:
        """The email: multipart/alternative, plain text first and HTML second."""
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        return msg


@dataclass(frozen=True)
class Delivered:
    digest: Digest
    digest_id: int
    message: EmailMessage  # exactly what was sent


@dataclass(frozen=True)
class DigestOutcome:
    status: Literal["sent", "nothing", "dry_run"]
    digests: tuple[Digest, ...] = ()  # one per recipient set with news
    delivered: tuple[Delivered, ...] = ()


# ---------------------------------------------------------------- building


def subject_line(groups: Sequence[SourceChanges], failures: Sequence[FailedCheck]) -> str:
    """"[watcher] 2 plans changed: 3 targets, 1 new measure" — counts only, never document text."""
    changed = [g for g in groups if g.substantive]
    kinds = [c.kind for g in changed for c in g.changes]
    counts = [(sum(k in group for k in kinds), phrase) for group, phrase in SUBJECT_GROUPS]
    parts = [count(phrase, n) for n, phrase in counts if n]
    subject = "[watcher] " + count(NP_("{n} plan changed", "{n} plans changed"), len(changed))
    if parts:
        subject += _(": ") + _(", ").join(parts)
    if failures:
        failing = count(NP_("{n} source failing", "{n} sources failing"), len(failures))
        subject = subject + _("; ") + failing if changed else f"[watcher] {failing}"
    return subject


# The recipient sets of a source with these tags: email addresses, or a channel's key.
Routing = Callable[[Sequence[str], Settings], tuple[tuple[str, ...], ...]]


def recipient_sets(tags: Sequence[str], settings: Settings) -> tuple[tuple[str, ...], ...]:
    """Who gets the news of a source with these tags: the `to` of every route sharing one of
    them, else the default `to` (one empty set when no email is configured: a preview)."""
    email = settings.email
    if email is None:
        return ((),)
    routed = [route.to for route in email.routes if set(tags) & set(route.tags)]
    return tuple(dict.fromkeys(routed)) or (email.to,)


def is_news(groups: Sequence[SourceChanges], failures: Sequence[FailedCheck]) -> bool:
    """A change of substance, or a source that began failing since these recipients last heard."""
    return any(g.substantive for g in groups) or any(f.new for f in failures)


def build_digest(
    groups: Sequence[SourceChanges],
    failures: Sequence[FailedCheck],
    settings: Settings,
    recipients: Sequence[str] | None = None,
) -> Digest | None:
    """The digest of these changes and failures to `recipients` (default: the default `to`), or
    None when there is no news: nothing changed in substance, no source newly failed, and
    settings.digest.send_empty is false. Formatting changes are covered but not shown; failures
    already reported are listed again when a digest goes out, but are no reason to send one."""
    if not is_news(groups, failures) and not settings.digest.send_empty:
        return None
    if recipients is None:
        recipients = settings.email.to if settings.email else ()
    with rendering(settings.report.language, settings.report.timezone):
        subject = subject_line(groups, failures)
        shown = [(g, *capped_layout(g.changes)) for g in groups if g.substantive]
        context = {"subject": subject, "groups": shown, "failures": list(failures)}
        text = render_template("digest.txt.j2", text_body=render_body, **context)
        html = render_template("digest.html.j2", **context)
    return Digest(
        subject=subject,
        text=text,
        html=html,
        sender=settings.email.sender if settings.email else DEFAULT_SENDER,
        recipients=tuple(recipients),
        change_ids=tuple(i for g in groups for i in g.change_ids),
    )


# ---------------------------------------------------------------- reading the store


def _configured(name: str, settings: Settings, parent: str | None) -> Source | None:
    # An attachment ("<source>/<file name>") belongs to the source it came from.
    by_name = {s.name: s for s in settings.sources}
    return by_name.get(name) or by_name.get(parent or name.split("/", 1)[0])


def _parent_of(stored: SourceRecord | None) -> str | None:
    # The source an attachment was found on; None for a source, or one not stored yet.
    return stored.parent if stored else None


def _tags_of(name: str, settings: Settings, parent: str | None) -> tuple[str, ...]:
    source = _configured(name, settings, parent)
    return source.tags if source else ()


def collect(
    store: Store, settings: Settings, since: str | None = None, routing: Routing | None = None
) -> list[Audience]:
    """Per recipient set (every set of a configured source, in config order, then any other): the
    changes it has not been sent yet, grouped per source in the store's order, and the configured
    sources (and their attachments) routed to it whose last check failed or looked suspicious.
    `routing` gives the recipient sets of a source's tags (default: recipient_sets, by email)."""
    routing = routing or recipient_sets
    stored = {row.name: row for row in store.sources()}
    changes: dict[tuple[str, ...], dict[str, list[ChangeRecord]]] = {}
    for source in settings.sources:
        for recipients in routing(source.tags, settings):
            changes.setdefault(recipients, {})
    for row in store.undelivered_changes(since):
        name = row.source
        had_it = set(row.sent_to)
        for recipients in routing(_tags_of(name, settings, _parent_of(stored.get(name))), settings):
            if recipients not in had_it:
                changes.setdefault(recipients, {}).setdefault(name, []).append(row)

    checks = store.last_checks()
    reported = store.reported_checks()
    last_check_of = {check.source: check.id for check in checks}
    failures: dict[tuple[str, ...], list[FailedCheck]] = {}
    for check in checks:
        configured = _configured(check.source, settings, check.parent)
        if check.status not in PROBLEM_STATUSES or configured is None:
            continue  # a source no longer configured is nobody's news
        if check.parent and check.id < last_check_of.get(check.parent, 0):
            continue  # an attachment its page no longer leads to (or no longer followed): not checked since
        for recipients in routing(configured.tags, settings):
            failures.setdefault(recipients, []).append(
                FailedCheck(
                    source=check.source,
                    status=check.status,
                    error=check.error or "",
                    checked_at=check.started_at or "",
                    url=check.url or "",
                    new=(check.problem_since or 0) > reported.get(recipients, 0),
                )
            )
    last_check = max((check.id for check in checks), default=0)
    return [
        Audience(
            recipients,
            tuple(_source_changes(name, rows, settings, stored.get(name)) for name, rows in by_source.items()),
            tuple(failures.get(recipients, ())),
            last_check,
        )
        for recipients, by_source in changes.items()
    ]


def _source_changes(
    name: str, rows: list[ChangeRecord], settings: Settings, stored: SourceRecord | None
) -> SourceChanges:
    source = _configured(name, settings, _parent_of(stored))
    own = source if source is not None and source.name == name else None  # not the parent's
    return SourceChanges(
        source=name,
        title=(own.title if own else None) or (stored.title if stored else None) or name,
        url=(own.url if own else None) or (stored.url if stored else None) or "",
        changes=tuple(change_from_dict(r.payload) for r in rows),
        change_ids=tuple(r.id for r in rows),
        tags=source.tags if source else (),
    )


# ---------------------------------------------------------------- sending


def send_digest(
    store: Store,
    settings: Settings,
    dry_run: bool = False,
    since: str | None = None,
    audiences: Sequence[Audience] | None = None,
) -> DigestOutcome:
    """Build one digest per recipient set with news and deliver each; DeliveryError, once every
    digest was tried, when the server did not accept some (their changes then stay unsent to
    those recipients, for the next run). `audiences`: collect's, when read before other digests
    of this run were sent."""
    if audiences is None:
        audiences = collect(store, settings, since)
    planned = [
        (audience, digest)
        for audience in audiences
        if (digest := build_digest(audience.groups, audience.failures, settings, audience.recipients))
    ]
    digests = tuple(digest for _, digest in planned)
    if not digests:
        log.info("digest: nothing of substance to send")
        return DigestOutcome("nothing")
    if dry_run:
        return DigestOutcome("dry_run", digests)
    email = settings.email
    if email is None:
        raise ConfigError(settings.config_path, "email", "missing: needed to send a digest")
    if not all(digest.recipients for digest in digests):
        raise ConfigError(settings.config_path, "email.to", "no recipients for the digest")
    delivered: list[Delivered] = []
    problems: list[str] = []
    for audience, digest in planned:
        digest_id = store.create_digest(
            digest.subject, list(digest.recipients), list(digest.change_ids), audience.last_check
        )
        message = digest.message()
        try:
            notify.send(message, email)
        except DeliveryError as exc:
            store.mark_digest_failed(digest_id, str(exc))
            log.warning("digest %d to %s not delivered, kept for the next run: %s", digest_id, ", ".join(digest.recipients), exc)
            problems.append(f"digest to {', '.join(digest.recipients)}: {exc}")
            continue
        store.mark_digest_sent(digest_id)
        log.info("digest %d sent to %d recipient(s): %s", digest_id, len(digest.recipients), digest.subject)
        delivered.append(Delivered(digest, digest_id, message))
    if problems:
        sent = f" ({len(delivered)} other digest(s) sent)" if delivered else ""
        raise DeliveryError("; ".join(problems) + sent)
    return DigestOutcome("sent", digests, tuple(delivered))
