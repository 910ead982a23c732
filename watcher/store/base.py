"""What every part of the Store shares: the connection, the lock that serialises its methods, and
the small readers and writers they all use."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database
from sqlite_utils.db import Table

from watcher.errors import VersionNotFound

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="StoreBase")


def utc_now() -> str:
    """The current time as stored: ISO 8601, UTC, seconds (e.g. 2026-11-20T06:00:03Z)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(db: Database, name: str) -> Table:
    found = db.table(name)
    assert isinstance(found, Table)  # db.table() gives a View only for a view's name
    return found


def last_pk(table: Table) -> int:
    # The rowid of the row just inserted (sqlite-utils types it loosely).
    assert table.last_pk is not None
    return int(table.last_pk)


def chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    # SQLite limits the number of bound parameters of one statement.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def serialised(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run the method under the store's lock: the threads of one run share a Store."""

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._mutex:
            return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper


class StoreBase:
    """The state the parts of the Store share (set by Store.__init__)."""

    path: str
    db: Database
    _mutex: threading.RLock
    closed: bool = False
    read_only: bool = False

    def _row(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    def _version_row(self, version_id: int, columns: str) -> dict[str, Any]:
        """These columns of a version; VersionNotFound when there is no such version."""
        row = self._row(f"SELECT {columns} FROM versions WHERE id = ?", [version_id])
        if row is None:
            raise VersionNotFound(f"no version with id {version_id}")
        return row
