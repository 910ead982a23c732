"""Email digests of stored changes: what changed in which source, built once and sent once.

`collect` reads the changes not yet sent from the store, grouped per source, and the sources whose
last check failed or looked suspicious; `build_digest` turns them into a Digest (subject with the
counts, text and HTML bodies from Jinja2 templates, recipients by tag); `send_digest` delivers it.

Idempotence lives in the store: a digest row is created first, marked sent only after the SMTP
server accepted the message, and marked failed otherwise, so its changes stay unsent and go out
with the next run. A run that dies between acceptance and marking sends them again next time: a
duplicate is possible in that window, a loss is not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Iterable, Literal, Mapping, Sequence

from watcher import notify
from watcher.errors import ConfigError, DeliveryError
from watcher.model import Change, Settings
from watcher.contract import change_from_dict
from watcher.report.layout import TARGET_KINDS, arrange, render_template
from watcher.store import Store

log = logging.getLogger(__name__)

DEFAULT_SENDER = "watcher@localhost"  # only for digests that are previewed, never sent
PROBLEM_STATUSES = ("failed", "suspicious")


@dataclass(frozen=True)
class SourceChanges:
    """The stored changes of one source that no sent digest covers yet."""

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
    """A source whose last check failed or looked suspicious."""

    source: str
    status: str  # "failed" or "suspicious"
    error: str = ""
    checked_at: str = ""
    url: str = ""


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
class DigestOutcome:
    status: Literal["sent", "nothing", "dry_run"]
    digest: Digest | None = None
    digest_id: int | None = None
    message: EmailMessage | None = None  # exactly what was sent


# ---------------------------------------------------------------- building


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def subject_line(groups: Sequence[SourceChanges], failures: Sequence[FailedCheck]) -> str:
    """"[watcher] 2 plans changed: 3 targets, 1 new measure" — counts only, never document text."""
    changed = [g for g in groups if g.substantive]
    kinds = [c.kind for g in changed for c in g.changes]
    counts = [
        (sum(k in TARGET_KINDS for k in kinds), "target", None),
        (kinds.count("measure_added"), "new measure", None),
        (kinds.count("measure_removed"), "removed measure", None),
        (sum(k.startswith("clause_") for k in kinds), "changed clause", None),
    ]
    parts = [_plural(n, s, p) for n, s, p in counts if n]
    subject = f"[watcher] {_plural(len(changed), 'plan')} changed"
    if parts:
        subject += ": " + ", ".join(parts)
    if failures:
        subject += f"; {_plural(len(failures), 'source')} failing"
    return subject


def recipients_for(groups: Iterable[SourceChanges], settings: Settings) -> tuple[str, ...]:
    """Routed recipients of each changed source (by tag), the default `to` for unrouted ones."""
    email = settings.email
    if email is None:
        return ()
    found: list[str] = []
    groups = [g for g in groups if g.substantive] or [None]
    for group in groups:
        tags = set(group.tags) if group else set()
        routed = [addr for route in email.routes if tags & set(route.tags) for addr in route.to]
        found.extend(routed or email.to)
    return tuple(dict.fromkeys(found))  # unique, in order


def build_digest(
    groups: Sequence[SourceChanges], failures: Sequence[FailedCheck], settings: Settings
) -> Digest | None:
    """The digest of these changes, or None when nothing changed in substance and
    settings.digest.send_empty is false. Formatting changes are covered but not shown."""
    if not any(g.substantive for g in groups) and not settings.digest.send_empty:
        return None
    subject = subject_line(groups, failures)
    shown = [(g, arrange(g.changes)) for g in groups if g.substantive]
    context = {"subject": subject, "groups": shown, "failures": list(failures)}
    return Digest(
        subject=subject,
        text=render_template("digest.txt.j2", **context),
        html=render_template("digest.html.j2", **context),
        sender=settings.email.sender if settings.email else DEFAULT_SENDER,
        recipients=recipients_for(groups, settings),
        change_ids=tuple(i for g in groups for i in g.change_ids),
    )


# ---------------------------------------------------------------- reading the store


def _tags_of(name: str, settings: Settings, parent: str | None) -> tuple[str, ...]:
    # An attachment ("<source>/<file name>") is routed by the tags of the source it came from.
    by_name = {s.name: s for s in settings.sources}
    source = by_name.get(name) or by_name.get(parent or name.split("/", 1)[0])
    return source.tags if source else ()


def collect(
    store: Store, settings: Settings, since: str | None = None
) -> tuple[list[SourceChanges], list[FailedCheck]]:
    """The unsent changes grouped per source (in the store's order) and the failing sources."""
    rows_by_source: dict[str, list[Mapping[str, Any]]] = {}
    for row in store.changes(since=since, unsent_only=True):
        rows_by_source.setdefault(row["source"], []).append(row)
    configured = {s.name: s for s in settings.sources}
    stored = {row["name"]: row for row in store.sources()}
    groups = []
    for name, rows in rows_by_source.items():
        source, row = configured.get(name), stored.get(name, {})
        groups.append(
            SourceChanges(
                source=name,
                title=(source.title if source else None) or row.get("title") or name,
                url=(source.url if source else None) or row.get("url") or "",
                changes=tuple(change_from_dict(r["payload"]) for r in rows),
                change_ids=tuple(int(r["id"]) for r in rows),
                tags=_tags_of(name, settings, row.get("parent")),
            )
        )
    failures = [
        FailedCheck(
            source=row["source"],
            status=row["status"],
            error=row.get("error") or "",
            checked_at=row.get("started_at") or "",
            url=row.get("url") or "",
        )
        for row in store.last_checks()
        if row.get("status") in PROBLEM_STATUSES
    ]
    return groups, failures


# ---------------------------------------------------------------- sending


def send_digest(
    store: Store, settings: Settings, dry_run: bool = False, since: str | None = None
) -> DigestOutcome:
    """Build the digest of every unsent change and deliver it; DeliveryError when the server
    did not accept it (the changes then stay unsent for the next run)."""
    groups, failures = collect(store, settings, since)
    digest = build_digest(groups, failures, settings)
    if digest is None:
        log.info("digest: nothing of substance to send")
        return DigestOutcome("nothing")
    if dry_run:
        return DigestOutcome("dry_run", digest)
    if settings.email is None:
        raise ConfigError(settings.config_path, "email", "missing: needed to send a digest")
    if not digest.recipients:
        raise ConfigError(settings.config_path, "email.to", "no recipients for the digest")
    digest_id = store.create_digest(digest.subject, list(digest.recipients), list(digest.change_ids))
    message = digest.message()
    try:
        notify.send(message, settings.email)
    except DeliveryError as exc:
        store.mark_digest_failed(digest_id, str(exc))
        log.warning("digest %d not delivered, kept for the next run: %s", digest_id, exc)
        raise
    store.mark_digest_sent(digest_id)
    log.info("digest %d sent to %d recipient(s): %s", digest_id, len(digest.recipients), digest.subject)
    return DigestOutcome("sent", digest, digest_id, message)
