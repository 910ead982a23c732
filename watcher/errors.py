"""Named exceptions of the library. The CLI maps each family to one line and an exit status."""

from __future__ import annotations


class WatcherError(Exception):
    """Base class of every error the library raises on purpose."""

    exit_status = 2


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


class ExtractError(WatcherError):
    """A fetched or local document could not be turned into text (corrupt DOCX/PDF, unknown format)."""


class BudgetExceeded(ExtractError):
    """Reading a document needed more memory or time than one document may take."""


class StoreError(WatcherError):
    """The snapshot database cannot be used."""


class LockedError(StoreError):
    """Another run holds the database lock."""


class VersionNotFound(WatcherError):
    """A version reference (SOURCE, SOURCE@N, an id, a path) names nothing."""


class DeliveryError(WatcherError):
    """An email digest could not be delivered."""
