"""What is known of each configured source: the attachments found on it, the versions stored and
the last check (what `watcher sources` lists)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from watcher.model import Settings
from watcher.store.records import SourceRecord


@dataclass(frozen=True)
class SourceStatus:
    name: str
    url: str
    title: str
    tags: tuple[str, ...]
    schedule: str | None
    attachment_of: str | None  # the configured source an attachment was found on
    versions: int
    last_check: str | None  # ISO 8601, UTC
    last_status: str | None  # model.CheckStatus
    last_error: str | None


def source_statuses(settings: Settings, stored: Sequence[SourceRecord] = ()) -> list[SourceStatus]:
    """Each configured source, followed by the attachments found on it, in config order.

    `stored` is Store.sources() (empty before the first check). Sources stored but no longer
    configured are left out; an attachment takes its tags and schedule from its source."""
    by_name = {row.name: row for row in stored}
    statuses: list[SourceStatus] = []
    for source in settings.sources:
        attachments = sorted(name for name, row in by_name.items() if row.parent == source.name)
        for name in [source.name, *attachments]:
            row = by_name.get(name)
            statuses.append(
                SourceStatus(
                    name=name,
                    url=(row.url if row else None) or source.url,
                    # The configured title, else the stored one (its latest version's own).
                    title=(source.title if name == source.name else None) or (row.title if row else None) or "",
                    tags=source.tags,
                    schedule=source.schedule,
                    attachment_of=row.parent if row else None,
                    versions=row.versions if row else 0,
                    last_check=row.last_check if row else None,
                    last_status=row.last_status if row else None,
                    last_error=row.last_error if row else None,
                )
            )
    return statuses
