"""Retention: old check rows and old versions removed on request (`watcher prune`), keeping
whatever the rest of the store still reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from watcher.model import RetentionSettings
from watcher.store.base import StoreBase, serialised
from watcher.store.sources import _PROBLEMS

# Checks kept whatever their age: each source's last good check and every check since (its
# latest check, and the run of failures last_checks() dates from); the newest check that read
# each (url, body) as the latest version (validators, knows_body); the one evidence names.
_KEPT_CHECKS = f"""
    SELECT c.id FROM checks c
    WHERE c.id >= COALESCE((SELECT MAX(g.id) FROM checks g WHERE g.source = c.source
                            AND g.status NOT IN {_PROBLEMS}), 0)
    UNION SELECT MAX(c.id) FROM checks c
    WHERE c.status IN ('new', 'unchanged')
      AND c.version_id = (SELECT v.id FROM versions v WHERE v.source = c.source ORDER BY v.number DESC LIMIT 1)
    GROUP BY c.source, c.url, c.body_key
    UNION SELECT check_id FROM evidence WHERE check_id IS NOT NULL
"""

# Versions kept whatever their age: those a stored change, a document or a survey names (the
# latest of each source is kept by the count, which is at least 1).
_NAMED_VERSIONS = """
    SELECT version_id FROM changes UNION SELECT previous_id FROM changes
    UNION SELECT seen_in FROM documents WHERE seen_in IS NOT NULL
    UNION SELECT version_id FROM document_surveys
"""


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed, and the old versions it kept because something names them."""

    checks: int
    versions: int
    indicators: int
    versions_kept: int  # older than the last keep_versions, kept: a change or a document names them


class RetentionPart(StoreBase):
    @serialised
    def prune(self, retention: RetentionSettings, now: datetime | None = None) -> PruneReport:
        """Delete the check rows older than keep_checks_days and, per source, the versions older
        than its last keep_versions (0: none of either), in one transaction."""
        checks = versions = indicators = kept = 0
        with self.db.atomic():
            if retention.keep_versions:
                old = """
                    SELECT v.id FROM versions v
                    WHERE v.number <= (SELECT MAX(number) FROM versions l WHERE l.source = v.source) - ?
                """
                params = [retention.keep_versions]
                kept = _count(self, f"{old} AND v.id IN ({_NAMED_VERSIONS})", params)
                doomed = f"{old} AND v.id NOT IN ({_NAMED_VERSIONS})"
                # A check that read a removed version stays, without it.
                self.db.execute(f"UPDATE checks SET version_id = NULL WHERE version_id IN ({doomed})", params)
                indicators = self.db.execute(f"DELETE FROM indicators WHERE version_id IN ({doomed})", params).rowcount
                versions = self.db.execute(f"DELETE FROM versions WHERE id IN ({doomed})", params).rowcount
            if retention.keep_checks_days:
                cutoff = (now or datetime.now(UTC)) - timedelta(days=retention.keep_checks_days)
                checks = self.db.execute(
                    f"DELETE FROM checks WHERE started_at < ? AND id NOT IN ({_KEPT_CHECKS})",
                    [cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")],
                ).rowcount
        return PruneReport(checks, versions, indicators, kept)

    @serialised
    def vacuum(self) -> None:
        """Give the space pruning freed back to the file system (rewrites the whole file)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")


def _count(store: StoreBase, sql: str, params: list[int]) -> int:
    return int(store.db.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0])
