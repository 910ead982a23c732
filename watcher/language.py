"""The language and time zone a report is rendered in: gettext catalogs (watcher/locale, made with
Babel) and one way of showing a stored time.

A rendering runs inside `rendering(language, zone)`: a context variable, set for that block and
reset after it, so two renders in one process (two digests in two languages) never see each other's
choice. Outside any block a report is in DEFAULT_LANGUAGE and the system's local zone.

Messages are marked `_()` / `ngettext()` where they are used, `N_()` / `NP_()` where a table of
labels is defined before any language is chosen (the table holds the English msgids; the label is
translated when it is shown). The templates use the same functions through jinja2.ext.i18n.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"  # the readers are Chinese policy teams
DOMAIN = "watcher"
LOCALE_DIR = Path(__file__).parent / "locale"


@dataclass(frozen=True)
class Rendering:
    language: str
    zone: tzinfo | None  # None: the system's local zone


_current: ContextVar[Rendering] = ContextVar("watcher_rendering", default=Rendering(DEFAULT_LANGUAGE, None))  # noqa: B039 (frozen)


@lru_cache(maxsize=len(LANGUAGES))
def translation(language: str) -> _gettext.NullTranslations:
    """The compiled catalog of `language` (a missing .mo is an error, not English in disguise)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown report language {language!r} (one of {', '.join(LANGUAGES)})")
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language])


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError with one line when there is none of that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None


@contextmanager
def rendering(language: str | None = None, zone_name: str | None = None) -> Iterator[Rendering]:
    """Render in `language` and show times in the zone `zone_name` inside this block (None keeps
    what the enclosing block, or the default, chose)."""
    outer = _current.get()
    chosen = Rendering(
        language or outer.language,
        zone(zone_name) if zone_name else outer.zone,
    )
    translation(chosen.language)  # fail here, not half-way through a report
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def current() -> Rendering:
    return _current.get()


def gettext(message: str) -> str:
    return translation(_current.get().language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translation(_current.get().language).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A message whose translation depends on where it stands ("Old" of a value: 原值)."""
    return translation(_current.get().language).pgettext(context, message)


_ = gettext


def N_(message: str) -> str:
    """Mark a msgid defined before a language is chosen; translate it with `_` when shown."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural msgid pair; show it with `ngettext(*pair, n)`."""
    return singular, plural


def count(pair: tuple[str, str], n: int) -> str:
    """A counted phrase of an NP_ pair, "{n}" standing for the number: "3 new measures"."""
    return ngettext(pair[0], pair[1], n).format(n=n)


# ---------------------------------------------------------------- times


def shown_time(stored: str | None) -> str:
    """A stored time (ISO 8601, UTC) as a reader sees it: "2026-12-01 08:00 (UTC+08:00)", in the
    zone of the rendering. A value that is not a time is shown as it is."""
    if not stored:
        return ""
    try:
        moment = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    except ValueError:
        return stored
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store writes UTC
    local = moment.astimezone(_current.get().zone)  # astimezone(None): the system's zone
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"
