"""The run lock: one flock per database file, so two watcher runs never write one store at once."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from watcher.errors import LockedError
from watcher.store.base import StoreBase

# One flock per database per process. Holders in the same process (a scheduler job around
# check_all, which takes it too) share it; other processes get LockedError.
_held: dict[str, list[int]] = {}  # lock path → [fd, holders]
_held_guard = threading.Lock()


class LockPart(StoreBase):
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run lock on this database; LockedError when another process holds it."""
        lock_path = self.path + ".lock"
        with _held_guard:
            entry = _held.get(lock_path)
            if entry is None:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    os.close(fd)
                    raise LockedError(
                        f"another watcher run holds the lock on {self.path} (pid {holder})"
                    ) from None
                os.ftruncate(fd, 0)
                try:  # the pid only tells a waiting run who holds the lock: a full disk must not stop this one
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                except OSError:
                    pass
                entry = _held[lock_path] = [fd, 0]
            entry[1] += 1
        try:
            yield
        finally:
            with _held_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    os.ftruncate(entry[0], 0)
                    fcntl.flock(entry[0], fcntl.LOCK_UN)
                    os.close(entry[0])
                    del _held[lock_path]
