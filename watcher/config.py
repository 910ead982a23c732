"""TOML configuration → Settings.

Every problem is a ConfigError naming the file, the key (e.g. ``source[3].url``, sources counted
from 1 in file order) and what is wrong. Unknown keys are errors too: a typo such as ``selecter``
must not silently turn into "no selector".

Secrets stay out of what is logged and mailed: a source URL may not carry a user name or password,
the SMTP password is read from the variable ``[email] password_env`` names, and ``security = "none"``
with a ``username`` (a login in the clear) is refused unless ``allow_plaintext_login = true``.
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from dataclasses import fields
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import soupsieve
from apscheduler.triggers.cron import CronTrigger

from watcher.errors import ConfigError
from watcher.model import (
    DigestSettings,
    EmailRoute,
    EmailSettings,
    FetchSettings,
    Settings,
    Source,
)

DEFAULT_PATH = "config/watcher.toml"
ENV_VAR = "WATCHER_CONFIG"
DEFAULT_STORAGE = "watcher.db"  # beside the config file when [storage] path is not given

_TOP_KEYS = {"storage", "source", "fetch", "email", "digest"}
_SOURCE_KEYS = {
    "name",
    "url",
    "selector",
    "encoding",
    "attachments",
    "schedule",
    "tags",
    "robots",
    "title",
}
_EMAIL_KEYS = {
    "smtp_host",
    "smtp_port",
    "security",
    "username",
    "password_env",
    "from",
    "to",
    "route",
    "timeout",
    "allow_plaintext_login",
}
_SECURITY = ("starttls", "ssl", "none")
_ZERO_OK = {"retries", "delay", "processes"}  # [fetch] settings that may be 0; the others must be positive
# Characters that the CLI gives a meaning in names: SOURCE@N refs, "<source>/<file>" attachments.
_NAME_RESERVED = set("@/ \t\n")

T = TypeVar("T")


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab's numbering: 0 (and 7) is Sunday
_WEEKDAY_ITEM = re.compile(r"(?:(?P<star>\*)|(?P<first>[0-9]+|[a-z]{3})(?:-(?P<last>[0-9]+|[a-z]{3}))?)(?:/(?P<step>[0-9]+))?")


def _weekday_number(token: str) -> int:
    if token.isdigit():
        if int(token) > 7:
            raise ValueError(f"weekday {token} is out of range (0-7; 0 and 7 are Sunday)")
        return int(token)
    if token in _WEEKDAYS:
        return _WEEKDAYS.index(token)
    raise ValueError(f"unknown weekday {token!r} (use 0-7 or sun, mon, … sat)")


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field → the days it means, as names for APScheduler ("*" for every day).

    Crontab counts from Sunday = 0 (7 is Sunday too) and a step walks its range: "*/2" is Sunday,
    Tuesday, Thursday, Saturday. APScheduler counts from Monday = 0, so numbers cannot be passed on.
    Raises ValueError for what crontab would refuse (8, a backwards range, a step of 0).
    """
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _WEEKDAY_ITEM.fullmatch(item)
        if match is None:
            raise ValueError(f"cannot read {item!r} in the weekday field {field!r}")
        if match["step"] and not (match["star"] or match["last"]):
            raise ValueError(f"a step needs a range: write {item.split('/')[0]}-7/{match['step']}, not {item!r}")
        first = 0 if match["star"] else _weekday_number(match["first"])
        last = 6 if match["star"] else _weekday_number(match["last"] or match["first"])
        step = int(match["step"] or 1)
        if first > last:
            raise ValueError(f"the weekday range {item!r} runs backwards")
        if step == 0:
            raise ValueError(f"a step of 0 in {item!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return "*" if len(days) == 7 else ",".join(_WEEKDAYS[day] for day in sorted(days))


def parse_cron(expr: str) -> CronTrigger:
    """A cron expression → trigger: 5 fields (crontab), or 6 fields with seconds first.

    The weekday field means what it means in crontab (0 and 7 are Sunday, ranges and steps over
    0-7). Raises ValueError with an explanation when the expression is invalid, and when it gives
    both a day of the month and a weekday: crontab then runs on either, APScheduler only on both.
    """
    parts = expr.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise ValueError(f"Wrong number of fields; got {len(parts)}, expected 5 (crontab) or 6 (seconds first)")
    second, minute, hour, day, month, day_of_week = parts
    if not day.startswith("*") and not day_of_week.startswith("*"):
        raise ValueError(
            f"day of month {day!r} and weekday {day_of_week!r} together: crontab runs on either, "
            "this scheduler would run only when both match; give one of them and '*' for the other"
        )
    return CronTrigger(
        second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=crontab_weekdays(day_of_week)
    )


def config_path(path: str | None = None) -> str:
    """The config file to read: the argument, else $WATCHER_CONFIG, else config/watcher.toml."""
    return path or os.environ.get(ENV_VAR) or DEFAULT_PATH


def load_settings(path: str | None = None) -> Settings:
    """Read and validate the config file; raise ConfigError on any problem."""
    path = config_path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, None, "no such file (pass --config PATH or set WATCHER_CONFIG)")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}")
    return _Reader(path).settings(data)


class _Reader:
    """Validates one parsed file; keeps the path so every error can name it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.folder = Path(path).resolve().parent

    def fail(self, key: str | None, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)

    # ------------------------------------------------------------ typed getters

    def check_keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                if key == "password":
                    raise self.fail(
                        f"{where}.password",
                        "passwords do not go in the config file: set password_env to the name "
                        "of an environment variable that holds it",
                    )
                known = ", ".join(sorted(allowed))
                prefix = f"{where}." if where else ""
                raise self.fail(f"{prefix}{key}", f"unknown key (known keys: {known})")

    def get(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        kind: type[T] | tuple[type, ...],
        default: Any = None,
        required: bool = False,
    ) -> Any:
        full = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                raise self.fail(full, "is required")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML booleans are ints to isinstance(); a number is never a valid boolean and vice versa.
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(full, f"must be {_kind_name(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise self.fail(full, f"must be {_kind_name(kinds)}, not {type(value).__name__}")
        if isinstance(value, str) and not value.strip() and required:
            raise self.fail(full, "must not be empty")
        return value

    def strings(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        full = f"{where}.{key}" if where else key
        value = self.get(table, key, where, (list, str), default=[])
        if isinstance(value, str):
            value = [value]
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(full, "must be a list of non-empty strings")
        return tuple(value)

    def cron(self, table: dict[str, Any], key: str, where: str, default: str | None) -> str | None:
        value = self.get(table, key, where, str, default=default)
        if value is None:
            return None
        try:
            parse_cron(value)
        except ValueError as exc:
            raise self.fail(f"{where}.{key}", f"invalid cron expression {value!r}: {exc}")
        return value

    def number(self, table: dict[str, Any], key: str, where: str, default: float, zero_ok: bool = False) -> Any:
        """An int or float setting (its type taken from the default), positive or, if zero_ok, ≥ 0."""
        kind = type(default)
        value = self.get(table, key, where, (int, float) if kind is float else int, default=default)
        if value < 0 or (value == 0 and not zero_ok):
            raise self.fail(f"{where}.{key}", "must be at least 0" if zero_ok else "must be positive")
        return kind(value)

    # ------------------------------------------------------------ sections

    def settings(self, data: dict[str, Any]) -> Settings:
        self.check_keys(data, _TOP_KEYS, "")
        return Settings(
            config_path=str(Path(self.path).resolve()),
            storage_path=self.storage(data.get("storage", {})),
            sources=self.sources(data.get("source", [])),
            email=self.email(data["email"]) if "email" in data else None,
            digest=self.digest(data.get("digest", {})),
            fetch=self.fetch(data.get("fetch", {})),
        )

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}]), not {type(value).__name__}")
        return value

    def storage(self, value: Any) -> str:
        table = self.table(value, "storage")
        self.check_keys(table, {"path"}, "storage")
        raw = self.get(table, "path", "storage", str, default=DEFAULT_STORAGE)
        if not raw.strip():
            raise self.fail("storage.path", "must not be empty")
        path = Path(raw).expanduser()
        # Relative to the config file's folder, so cron and `cd` elsewhere find the same database.
        return str(path if path.is_absolute() else (self.folder / path).resolve())

    def sources(self, value: Any) -> tuple[Source, ...]:
        if not isinstance(value, list):
            raise self.fail("source", "must be an array of tables ([[source]])")
        sources: list[Source] = []
        seen: dict[str, int] = {}
        for number, item in enumerate(value, start=1):
            where = f"source[{number}]"
            source = self.source(self.table(item, where), where)
            if source.name in seen:
                raise self.fail(
                    f"{where}.name",
                    f"duplicate source name {source.name!r} (also source[{seen[source.name]}])",
                )
            seen[source.name] = number
            sources.append(source)
        return tuple(sources)

    def source(self, table: dict[str, Any], where: str) -> Source:
        self.check_keys(table, _SOURCE_KEYS, where)
        name = self.get(table, "name", where, str, required=True).strip()
        bad = sorted(_NAME_RESERVED.intersection(name))
        if bad:
            shown = " ".join(repr(char) for char in bad)
            raise self.fail(f"{where}.name", f"must not contain {shown} (used in version references)")
        if name.isdigit() or name.lstrip("-").isdigit():
            raise self.fail(f"{where}.name", "must not be a number (numbers are version ids)")
        url = self.get(table, "url", where, str, required=True).strip()
        self.url(url, f"{where}.url")
        selector = self.get(table, "selector", where, str)
        if selector is not None:
            try:
                soupsieve.compile(selector)
            except soupsieve.SelectorSyntaxError as exc:
                raise self.fail(f"{where}.selector", f"invalid CSS selector {selector!r}: {exc.args[0]}")
        encoding = self.get(table, "encoding", where, str)
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise self.fail(f"{where}.encoding", f"unknown encoding {encoding!r}")
        return Source(
            name=name,
            url=url,
            selector=selector,
            encoding=encoding,
            attachments=self.get(table, "attachments", where, bool, default=False),
            schedule=self.cron(table, "schedule", where, default=None),
            tags=self.strings(table, "tags", where),
            robots=self.get(table, "robots", where, bool, default=True),
            title=self.get(table, "title", where, str),
        )

    def url(self, url: str, key: str) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 — raises on a port that is not a number
        except ValueError as exc:
            raise self.fail(key, f"not a valid URL: {exc}") from None
        if parts.username is not None or parts.password is not None:
            # Said without the URL: repeating it would print the password this refuses.
            raise self.fail(key, "must not hold a user name or password (URLs are shown in logs, the database and digests)")
        if parts.scheme in ("http", "https"):
            if not parts.hostname:
                raise self.fail(key, f"URL {url!r} has no host")
        elif parts.scheme == "file":
            if not parts.path:
                raise self.fail(key, f"URL {url!r} has no path")
        else:
            raise self.fail(key, f"URL {url!r} must start with http://, https:// or file://")

    def fetch(self, value: Any) -> FetchSettings:
        table = self.table(value, "fetch")
        names = {f.name for f in fields(FetchSettings)}
        self.check_keys(table, names, "fetch")
        base = FetchSettings()
        values: dict[str, Any] = {}
        for key in table:
            default = getattr(base, key)
            if key == "user_agent":
                values[key] = self.get(table, key, "fetch", str, required=True)
            else:
                values[key] = self.number(table, key, "fetch", default, zero_ok=key in _ZERO_OK)
        if values.get("suspicious_ratio", 0) >= 1:
            raise self.fail("fetch.suspicious_ratio", "must be below 1 (a fraction of the last size)")
        return FetchSettings(**values)

    def email(self, value: Any) -> EmailSettings:
        table = self.table(value, "email")
        self.check_keys(table, _EMAIL_KEYS, "email")
        security = self.get(table, "security", "email", str, default="starttls")
        if security not in _SECURITY:
            raise self.fail("email.security", f"must be one of {', '.join(_SECURITY)}, not {security!r}")
        port = self.get(table, "smtp_port", "email", int, default=465 if security == "ssl" else 587)
        if not 0 < port < 65536:
            raise self.fail("email.smtp_port", f"must be a TCP port (1-65535), not {port}")
        routes = []
        raw_routes = self.get(table, "route", "email", list, default=[])
        for number, item in enumerate(raw_routes, start=1):
            where = f"email.route[{number}]"
            route = self.table(item, where)
            self.check_keys(route, {"tags", "to"}, where)
            tags = self.strings(route, "tags", where)
            if not tags:
                raise self.fail(f"{where}.tags", "is required (the tags whose changes go to these recipients)")
            routes.append(EmailRoute(tags=tags, to=self.addresses(route, "to", where)))
        password_env = self.get(table, "password_env", "email", str)
        if password_env is not None and not password_env.strip():
            raise self.fail("email.password_env", "must name an environment variable")
        username = self.get(table, "username", "email", str)
        plaintext_ok = self.get(table, "allow_plaintext_login", "email", bool, default=False)
        if security == "none" and username and not plaintext_ok:
            raise self.fail(
                "email.security",
                '"none" with a username would send the password unencrypted: use "starttls" or "ssl", '
                "or set allow_plaintext_login = true (a relay on this machine, say)",
            )
        return EmailSettings(
            smtp_host=self.get(table, "smtp_host", "email", str, required=True),
            sender=self.address(self.get(table, "from", "email", str, required=True), "email.from"),
            to=self.addresses(table, "to", "email"),
            smtp_port=port,
            security=security,
            username=username,
            password_env=password_env,
            routes=tuple(routes),
            timeout=self.number(table, "timeout", "email", 30.0),
        )

    def address(self, value: str, key: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address:
            raise self.fail(key, f"not an email address: {value!r}")
        return value

    def addresses(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        values = self.strings(table, key, where)
        if not values:
            raise self.fail(f"{where}.{key}", "is required (at least one email address)")
        return tuple(self.address(value, f"{where}.{key}") for value in values)

    def digest(self, value: Any) -> DigestSettings:
        table = self.table(value, "digest")
        self.check_keys(table, {"schedule", "send_empty"}, "digest")
        default = DigestSettings()
        return DigestSettings(
            schedule=self.cron(table, "schedule", "digest", default=default.schedule) or default.schedule,
            send_empty=self.get(table, "send_empty", "digest", bool, default=default.send_empty),
        )


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(dict.fromkeys(names.get(kind, kind.__name__) for kind in kinds))
