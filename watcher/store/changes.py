"""Changes and digests: what changed between two versions, and which digest told whom about it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from watcher.contract import change_to_dict
from watcher.model import Change, Diff
from watcher.store.base import StoreBase, chunks, last_pk, serialised, table, utc_now
from watcher.store.records import ChangeRecord, DigestRecord, UndeliveredChange


def change_row(source: str, version_id: int, previous_id: int, change: Change, created_at: str) -> dict[str, Any]:
    """A change as a row of `changes`: its contract dict as the payload, sent in no digest yet."""
    return {
        "source": source,
        "version_id": version_id,
        "previous_id": previous_id,
        "kind": change.kind,
        "path": json.dumps(list(change.path), ensure_ascii=False),
        "payload": json.dumps(change_to_dict(change), ensure_ascii=False),
        "substantive": int(change.substantive),
        "created_at": created_at,
        "digest_id": None,
    }


class ChangesPart(StoreBase):
    @serialised
    def add_changes(self, version_id: int, previous_id: int, diff: Diff) -> int:
        """Store the changes of `diff` (previous_id → version_id); returns how many are of substance."""
        source = self._version_row(version_id, "source")["source"]
        now = utc_now()
        rows = [change_row(source, version_id, previous_id, change, now) for change in diff.changes]
        with self.db.atomic():
            if rows:
                table(self.db, "changes").insert_all(rows)
        return sum(int(change.substantive) for change in diff.changes)

    @serialised
    def create_digest(
        self,
        subject: str,
        recipients: Sequence[str],
        change_ids: Sequence[int],
        last_check_id: int | None = None,
    ) -> int:
        """A digest about to be sent to `recipients`, covering these changes (status "pending")
        and reporting the failures known up to check `last_check_id`.

        A change's `digest_id` names the last digest that covered it; every digest that did is kept
        in `digest_changes`, since each recipient set gets its own."""
        with self.db.atomic():
            digests = table(self.db, "digests")
            digests.insert(
                {
                    "created_at": utc_now(),
                    "sent_at": None,
                    "subject": subject,
                    "recipients": _recipients_key(recipients),
                    "status": "pending",
                    "error": None,
                    "last_check_id": last_check_id,
                }
            )
            digest_id = last_pk(digests)
            ids = [int(i) for i in change_ids]
            table(self.db, "digest_changes").insert_all(
                ({"digest_id": digest_id, "change_id": i} for i in ids), ignore=True
            )
            for chunk in chunks(ids):
                self.db.execute(
                    f"UPDATE changes SET digest_id = ? WHERE id IN ({','.join('?' * len(chunk))})",
                    [digest_id, *chunk],
                )
        return digest_id

    @serialised
    def mark_digest_sent(self, digest_id: int) -> None:
        with self.db.atomic():
            table(self.db, "digests").update(
                digest_id, {"status": "sent", "sent_at": utc_now(), "error": None}
            )

    @serialised
    def mark_digest_failed(self, digest_id: int, error: str) -> None:
        with self.db.atomic():
            table(self.db, "digests").update(digest_id, {"status": "failed", "error": error})

    @serialised
    def reported_checks(self) -> dict[tuple[str, ...], int]:
        """Per recipient set, the newest check that a digest sent to it knew of (0 if none did)."""
        rows = self.db.query(
            "SELECT recipients, MAX(COALESCE(last_check_id, 0)) AS last FROM digests WHERE status = 'sent' GROUP BY recipients"
        )
        return {tuple(json.loads(row["recipients"])): int(row["last"]) for row in rows}

    @serialised
    def changes(
        self, source: str | None = None, since: str | None = None, unsent_only: bool = False
    ) -> list[ChangeRecord]:
        """Stored changes, oldest first; `since` is an ISO 8601 UTC time (or date); `unsent_only`
        keeps those that no sent digest covered."""
        return [ChangeRecord(**row) for row in self._changes(source, since, _NEVER_SENT if unsent_only else None)]

    @serialised
    def undelivered_changes(self, since: str | None = None) -> list[UndeliveredChange]:
        """The changes some recipients still wait for, oldest first: those no sent digest covered,
        and those of a digest that was not accepted whose recipients have not had them since.

        Each has `sent_to`: the recipient lists of the sent digests that covered it, so a retry
        goes only to the recipients who missed it."""
        rows = self._changes(None, since, f"({_NEVER_SENT} OR {_MISSED_BY_SOME})")
        sent_to: dict[int, list[tuple[str, ...]]] = {}
        for chunk in chunks([row["id"] for row in rows]):
            for link in self.db.query(
                f"""
                SELECT l.change_id, d.recipients FROM digest_changes l JOIN digests d ON d.id = l.digest_id
                WHERE d.status = 'sent' AND l.change_id IN ({','.join('?' * len(chunk))})
                """,
                chunk,
            ):
                sent_to.setdefault(link["change_id"], []).append(tuple(json.loads(link["recipients"])))
        return [UndeliveredChange(**row, sent_to=tuple(sent_to.get(row["id"], ()))) for row in rows]

    def _changes(self, source: str | None, since: str | None, condition: str | None) -> list[dict[str, Any]]:
        # The columns of each change, its stored JSON decoded: the fields of a ChangeRecord.
        clauses: list[str] = []
        params: list[str] = []
        if source:
            clauses.append("c.source = ?")
            params.append(source)
        if since:
            clauses.append("c.created_at >= ?")
            params.append(since)
        if condition:
            clauses.append(condition)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.query(f"SELECT c.* FROM changes c {where} ORDER BY c.id", params)
        return [
            {
                **row,
                "path": tuple(json.loads(row["path"] or "[]")),
                "payload": json.loads(row["payload"]),
                "substantive": bool(row["substantive"]),
            }
            for row in rows
        ]

    @serialised
    def digests(self) -> list[DigestRecord]:
        rows = self.db.query("SELECT * FROM digests ORDER BY id")
        return [DigestRecord(**{**row, "recipients": tuple(json.loads(row["recipients"] or "[]"))}) for row in rows]

# A change no sent digest covered; a change that a digest not accepted covered and that its
# recipients have not had in a sent digest since.
_NEVER_SENT = """NOT EXISTS (SELECT 1 FROM digest_changes l JOIN digests d ON d.id = l.digest_id
                  WHERE l.change_id = c.id AND d.status = 'sent')"""
_MISSED_BY_SOME = """EXISTS (SELECT 1 FROM digest_changes l JOIN digests d ON d.id = l.digest_id
               WHERE l.change_id = c.id AND d.status != 'sent'
                 AND NOT EXISTS (SELECT 1 FROM digest_changes l2 JOIN digests d2 ON d2.id = l2.digest_id
                                 WHERE l2.change_id = c.id AND d2.status = 'sent' AND d2.recipients = d.recipients))"""


def _recipients_key(recipients: Sequence[str]) -> str:
    # Stored as given; digests to one recipient set compare equal on this text.
    return json.dumps(list(recipients), ensure_ascii=False)
