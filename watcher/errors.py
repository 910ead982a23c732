"""Named exceptions of the library, each carrying its exit status: the CLI turns any of them into
one line on stderr and `exit_status`.

The exit statuses of the `watcher` command (README, "Exit statuses"), defined once here.
"""

from __future__ import annotations

EXIT_OK = 0  # success (for `diff`: no change of substance)
EXIT_CHANGES = 1  # `diff` only: changes of substance
EXIT_ERROR = 2  # usage or configuration error, or any other error
EXIT_SOME_FAILED = 3  # `check`, `reextract`: some sources or versions failed, the others were done
EXIT_LOCKED = 4  # another run holds the database lock
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT, as shells report it)


class WatcherError(Exception):
    """Base class of every error the library raises on purpose."""

    exit_status: int = EXIT_ERROR


class ConfigError(WatcherError):
    """The configuration file is missing, unreadable or invalid."""

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)


class FetchError(WatcherError):
    """A document could not be fetched (network, HTTP status, size cap, robots.txt)."""


class RefusedAddress(FetchError):
    """A fetch would connect to an internal address (loopback, private, link-local …) that neither
    the source's own address nor [fetch] allow_internal allows."""


class SuspiciousFetch(FetchError):
    """A fetch succeeded but its body is not believable (empty, or a fraction of the last size)."""


class BlockedPage(FetchError):
    """The answer is a challenge, a block page or a script-only shell in place of the document
    (watcher.challenge): never a version, never an empty document."""


class BrowserUnavailable(FetchError):
    """A browser fetch was asked for, but Playwright for Python or Chromium is not installed."""


class ExtractError(WatcherError):
    """A fetched or local document could not be turned into text (corrupt DOCX/PDF, unknown format)."""


class ProgramMissing(ExtractError):
    """A reader needs a program that is not installed (LibreOffice for .doc/.wps/.xls); the
    message names the package that installs it."""


class NoDocumentText(ExtractError):
    """A body read without error holds no document text at all."""


class BudgetExceeded(ExtractError):
    """Reading a document needed more memory or time than one document may take."""


class StoreError(WatcherError):
    """The snapshot database cannot be used."""


class LockedError(StoreError):
    """Another run holds the database lock."""

    exit_status = EXIT_LOCKED


class VersionNotFound(WatcherError):
    """A version reference (SOURCE, SOURCE@N, an id, a path) names nothing."""


class DeliveryError(WatcherError):
    """An email digest could not be delivered."""


class Interrupted(WatcherError):
    """The run was stopped (Ctrl-C) before this fetch or reading finished; nothing of it is recorded."""

    exit_status = EXIT_INTERRUPTED


class OutputError(WatcherError):
    """A report could not be written where it was asked for (a file, or binary to a terminal)."""


class ServeError(WatcherError):
    """The web view cannot start: an address off this machine without --allow-remote, or a port
    that cannot be bound."""
