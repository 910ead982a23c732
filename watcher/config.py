"""TOML configuration → Settings.

Every problem is a ConfigError naming the file, the key (e.g. ``source[3].url``, sources counted
from 1 in file order) and what is wrong. Unknown keys are errors too: a typo such as ``selecter``
must not silently turn into "no selector".

Secrets stay out of what is logged and mailed: a source URL may not carry a user name or password,
the SMTP password is read from the variable ``[email] password_env`` names, and ``security = "none"``
with a ``username`` (a login in the clear) is refused unless ``allow_plaintext_login = true``.

The file is UTF-8, as TOML requires; a leading UTF-8 byte-order mark (Windows editors write one) is
skipped, any other byte that is not UTF-8 is an error naming its offset. Every number must lie in
its NUMBER_LIMITS range, and no text value may hold a control character or a line break: sender,
recipients and user agent become mail and HTTP headers, where a CR/LF would start a header of its own.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol, TypeVar, get_args
from urllib.parse import urlsplit

import soupsieve
from apscheduler.triggers.cron import CronTrigger

from watcher import channel_url
from watcher.decode import decodes_bytes
from watcher.errors import ConfigError
from watcher.language import LANGUAGES, zone
from watcher.links import FILE_SCHEME, WEB_SCHEMES, parse_allowance
from watcher.model import (
    FETCH_MODES,
    Channel,
    ChannelFormat,
    ClusterSettings,
    DigestSettings,
    EmailRoute,
    EmailSettings,
    FetchSettings,
    ReportSettings,
    RetentionSettings,
    Settings,
    Source,
    SourceKind,
)

DEFAULT_PATH = "config/watcher.toml"
ENV_VAR = "WATCHER_CONFIG"
DEFAULT_STORAGE = "watcher.db"  # beside the config file when [storage] path is not given
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # thousands of sources; --config /dev/zero must not fill memory

_TOP_KEYS = {"storage", "source", "fetch", "email", "digest", "notify", "cluster", "report"}
_SCHEDULER_SCHEMES = ("tcp", "tls")  # the dask comms that reach another machine
_NOTIFY_KEYS = {"name", "url", "tags", "format"}
_CHANNEL_FORMATS = get_args(ChannelFormat)
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # the key of its bookkeeping: no "@", never an address
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
    "fetch",
    "kind",
    "pattern",
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
_BOM = codecs.BOM_UTF8
# Unicode categories refused in text values: controls (C0, DEL, C1) and the line and paragraph
# separators, which str.splitlines() and some mail software take for line breaks.
_CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")
# Characters that the CLI gives a meaning in names: SOURCE@N refs, "<source>/<file>" attachments.
_NAME_RESERVED = set("@/ \t\n")

T = TypeVar("T")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


@dataclass(frozen=True)
class Limit:
    """The allowed range of a number setting. Whether it is an integer or may be fractional is its
    field's: the type of the FetchSettings / EmailSettings default."""

    low: float
    high: float
    low_open: bool = False  # low itself excluded: a timeout of 0 would be no time at all
    high_open: bool = False
    unit: str = ""

    def allows(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):  # inf, and nan (no order at all)
            return False
        # An int is compared as it is: float(10**400) would overflow.
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self, integer: bool) -> str:
        """E.g. "an integer from 0 to 10", "a number above 0 and at most 3600 (seconds)"."""
        kind = "an integer" if integer else "a number"
        if not (self.low_open or self.high_open):
            text = f"{kind} from {_shown(self.low)} to {_shown(self.high)}"
        else:
            low = f"above {_shown(self.low)}" if self.low_open else f"at least {_shown(self.low)}"
            high = f"below {_shown(self.high)}" if self.high_open else f"at most {_shown(self.high)}"
            text = f"{kind} {low} and {high}"
        return f"{text} ({self.unit})" if self.unit else text


# Every number of [fetch], [storage] and [email], keyed by section and field name. A new number
# field of FetchSettings, RetentionSettings or EmailSettings needs its row here
# (tests/test_config_battery.py checks). The upper bounds catch mistakes (a timeout in
# milliseconds, a size in bits), not taste.
NUMBER_LIMITS: dict[str, Limit] = {
    "fetch.timeout": Limit(0, 3600, low_open=True, unit="seconds"),
    "fetch.retries": Limit(0, 10),  # backoff doubles per retry: 10 already waits minutes
    "fetch.max_bytes": Limit(1, 1024**3, unit="bytes"),  # a body is held in memory
    "fetch.max_redirects": Limit(0, 20),  # browsers give up after 20
    "fetch.per_host": Limit(1, 16),  # more at once to one host is not polite
    "fetch.delay": Limit(0, 3600, unit="seconds"),
    "fetch.workers": Limit(1, 64),  # threads
    "fetch.suspicious_ratio": Limit(0, 1, high_open=True, unit="a fraction of the last size"),
    "fetch.processes": Limit(0, 64),  # worker processes reading documents; 0 reads in-process
    "fetch.document_memory": Limit(64 * 2**20, 64 * 2**30, unit="bytes"),  # the imports alone take ~80 MB
    "fetch.document_seconds": Limit(0, 3600, low_open=True, unit="seconds"),
    "fetch.max_attachments": Limit(1, 1000),  # per page; each one is a source of its own
    "fetch.browser_timeout": Limit(0, 600, low_open=True, unit="seconds"),
    "fetch.browser_settle": Limit(0, 120, unit="seconds"),
    "storage.keep_checks_days": Limit(0, 100 * 366, unit="days; 0 keeps every check"),
    "storage.keep_versions": Limit(0, 10**6, unit="versions a source; 0 keeps every version"),
    "email.smtp_port": Limit(1, 65535),
    "email.timeout": Limit(0, 3600, low_open=True, unit="seconds"),
}


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
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, None, "no such file (pass --config PATH or set WATCHER_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, None, f"larger than {MAX_CONFIG_BYTES} bytes: not a config file")
    try:
        data = tomllib.loads(_utf8(path, raw))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(path, None, "not valid TOML: arrays or tables nested too deeply") from None
    return _Reader(path).settings(data)


def _utf8(path: str, raw: bytes) -> str:
    """The file's text: UTF-8, as TOML requires, without a leading byte-order mark."""
    start = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = raw.count(b"\n", 0, offset) + 1
        raise ConfigError(
            path,
            None,
            f"not UTF-8: byte 0x{raw[offset]:02x} at byte offset {offset} (line {line}) cannot be read; "
            "save the file as UTF-8",
        ) from None


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
            raise self.fail(full, f"must be {_kind_name(kinds)}, not {_kind_name((type(value),))}")
        if isinstance(value, str):
            self.text(value, full)
            if not value.strip() and required:
                raise self.fail(full, "must not be empty")
        return value

    def text(self, value: str, key: str) -> None:
        """Refuse control characters and line breaks (said by code point: the value may be a secret)."""
        found = sorted({char for char in value if unicodedata.category(char) in _CONTROL_CATEGORIES})
        if found:
            shown = ", ".join(f"U+{ord(char):04X}" for char in found[:5])
            raise self.fail(key, f"must be one line without control characters (found {shown})")

    def strings(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        full = f"{where}.{key}" if where else key
        value = self.get(table, key, where, (list, str), default=[])
        if isinstance(value, str):
            value = [value]
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(full, "must be a list of non-empty strings")
        for item in value:
            self.text(item, full)
        return tuple(value)

    def cron(self, table: dict[str, Any], key: str, where: str, default: str | None) -> str | None:
        value: str | None = self.get(table, key, where, str, default=default)
        if value is None:
            return None
        try:
            parse_cron(value)
        except ValueError as exc:
            raise self.fail(f"{where}.{key}", f"invalid cron expression {value!r}: {exc}") from None
        return value

    def number(self, table: dict[str, Any], key: str, where: str, default: float) -> Any:
        """An int or float setting (its type taken from the default) within its NUMBER_LIMITS row."""
        full = f"{where}.{key}"
        limit = NUMBER_LIMITS[full]
        integer = type(default) is int
        wanted = limit.describe(integer)
        if key not in table:
            return default
        value = table[key]
        if isinstance(value, bool):  # TOML's true is an int to isinstance()
            raise self.fail(full, f"must be {wanted}, not a boolean")
        if not isinstance(value, (int, float)):
            raise self.fail(full, f"must be {wanted}, not {_kind_name((type(value),))}")
        if (integer and isinstance(value, float)) or not limit.allows(value):
            raise self.fail(full, f"must be {wanted}, not {value!r}")
        return type(default)(value)

    # ------------------------------------------------------------ sections

    def settings(self, data: dict[str, Any]) -> Settings:
        self.check_keys(data, _TOP_KEYS, "")
        return Settings(
            config_path=str(Path(self.path).resolve()),
            storage_path=self.storage(data.get("storage", {})),
            retention=self.retention(data.get("storage", {})),
            sources=self.sources(data.get("source", [])),
            email=self.email(data["email"]) if "email" in data else None,
            digest=self.digest(data.get("digest", {})),
            fetch=self.fetch(data.get("fetch", {})),
            notify=self.channels(data.get("notify", [])),
            cluster=self.cluster(data.get("cluster", {})),
            report=self.report(data.get("report", {})),
        )

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}]), not {type(value).__name__}")
        return value

    def storage(self, value: Any) -> str:
        table = self.table(value, "storage")
        self.check_keys(table, {"path", *(f.name for f in fields(RetentionSettings))}, "storage")
        raw = self.get(table, "path", "storage", str, default=DEFAULT_STORAGE)
        if not raw.strip():
            raise self.fail("storage.path", "must not be empty")
        path = Path(raw).expanduser()
        # Relative to the config file's folder, so cron and `cd` elsewhere find the same database.
        return str(path if path.is_absolute() else (self.folder / path).resolve())

    def retention(self, value: Any) -> RetentionSettings:
        table = self.table(value, "storage")
        default = RetentionSettings()
        return RetentionSettings(
            **{f.name: self.number(table, f.name, "storage", getattr(default, f.name)) for f in fields(default)}
        )

    def sources(self, value: Any) -> tuple[Source, ...]:
        return self.named_tables(value, "source", self.source, "source")

    def named_tables(
        self, value: Any, key: str, read: Callable[[dict[str, Any], str], N], what: str
    ) -> tuple[N, ...]:
        """An array of tables ([[source]], [[notify]]), each read by `read`, their names unique."""
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        items: list[N] = []
        seen: dict[str, int] = {}
        for number, item in enumerate(value, start=1):
            where = f"{key}[{number}]"
            read_item = read(self.table(item, where), where)
            if read_item.name in seen:
                raise self.fail(
                    f"{where}.name",
                    f"duplicate {what} name {read_item.name!r} (also {key}[{seen[read_item.name]}])",
                )
            seen[read_item.name] = number
            items.append(read_item)
        return tuple(items)

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
                raise self.fail(f"{where}.selector", f"invalid CSS selector {selector!r}: {exc.args[0]}") from None
        encoding = self.get(table, "encoding", where, str)
        if encoding is not None:
            self.encoding(encoding, f"{where}.encoding")
        fetch = self.get(table, "fetch", where, str, default="plain")
        if fetch not in FETCH_MODES:
            raise self.fail(f"{where}.fetch", f"must be one of {', '.join(FETCH_MODES)}, not {fetch!r}")
        if fetch == "browser" and urlsplit(url).scheme not in WEB_SCHEMES:
            raise self.fail(f"{where}.fetch", '"browser" fetches http(s) pages; a file:// source is read as it is')
        kind, pattern = self.listing(table, where)
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
            fetch=fetch,
            kind=kind,
            pattern=pattern,
        )

    def listing(self, table: dict[str, Any], where: str) -> tuple[SourceKind, str | None]:
        """A source's `kind` ("page", or "listing": a column page whose new links are watched) and a
        listing's `pattern` (a regular expression its entries' URL or text must match)."""
        kind = self.get(table, "kind", where, str, default="page")
        if kind not in get_args(SourceKind):
            choices = ", ".join(repr(k) for k in get_args(SourceKind))
            raise self.fail(f"{where}.kind", f"must be one of {choices}, not {kind!r}")
        pattern = self.get(table, "pattern", where, str)
        if pattern is not None and kind != "listing":
            raise self.fail(f"{where}.pattern", 'applies to a listing only (kind = "listing")')
        if kind == "listing" and table.get("attachments"):
            raise self.fail(f"{where}.attachments", "does not apply to a listing: its entries are its documents")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(f"{where}.pattern", f"invalid regular expression {pattern!r}: {exc}") from None
        return kind, pattern

    def encoding(self, encoding: str, key: str) -> None:
        """A text codec that turns any bytes into str, as watcher.decode uses it (errors="replace")."""
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise self.fail(key, f"unknown encoding {encoding!r}") from None
        # rot13, base64, zlib … are codecs too, but from bytes to bytes or str to str.
        if not codec._is_text_encoding:
            raise self.fail(key, f"{encoding!r} is not a text encoding (it does not decode bytes to text)")
        if not decodes_bytes(codec.name):  # idna, punycode, "undefined"
            raise self.fail(key, f"{encoding!r} cannot decode a web page")

    def url(self, url: str, key: str) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 — raises on a port that is not a number
        except ValueError as exc:
            raise self.fail(key, f"not a valid URL: {exc}") from None
        if parts.username is not None or parts.password is not None:
            # Said without the URL: repeating it would print the password this refuses.
            raise self.fail(key, "must not hold a user name or password (URLs are shown in logs, the database and digests)")
        if parts.scheme in WEB_SCHEMES:
            if not parts.hostname:
                raise self.fail(key, f"URL {url!r} has no host")
        elif parts.scheme == FILE_SCHEME:
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
            if isinstance(default, str):  # user_agent: a header value
                values[key] = self.get(table, key, "fetch", str, required=True)
            elif key == "allow_internal":
                values[key] = self.allow_internal(table)
            else:
                values[key] = self.number(table, key, "fetch", default)
        return FetchSettings(**values)

    def allow_internal(self, table: dict[str, Any]) -> tuple[str, ...]:
        entries = tuple(entry.strip() for entry in self.strings(table, "allow_internal", "fetch"))
        for entry in entries:
            try:
                parse_allowance(entry)
            except ValueError as exc:
                raise self.fail("fetch.allow_internal", f"{entry!r}: {exc}") from None
        return entries

    def cluster(self, value: Any) -> ClusterSettings:
        table = self.table(value, "cluster")
        self.check_keys(table, {"scheduler"}, "cluster")
        scheduler = self.get(table, "scheduler", "cluster", str)
        if scheduler is None:
            return ClusterSettings()
        parts = urlsplit(scheduler.strip())
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in _SCHEDULER_SCHEMES or not parts.hostname or not port or parts.path not in ("", "/"):
            wanted = "tcp://host:port or tls://host:port of a dask scheduler"
            raise self.fail("cluster.scheduler", f"must be {wanted}, not {scheduler!r}")
        return ClusterSettings(scheduler=f"{parts.scheme}://{parts.netloc}")

    def email(self, value: Any) -> EmailSettings:
        table = self.table(value, "email")
        self.check_keys(table, _EMAIL_KEYS, "email")
        security = self.get(table, "security", "email", str, default="starttls")
        if security not in _SECURITY:
            raise self.fail("email.security", f"must be one of {', '.join(_SECURITY)}, not {security!r}")
        port = self.number(table, "smtp_port", "email", 465 if security == "ssl" else 587)
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
        self.check_keys(table, {"schedule", "send_empty", "report_url"}, "digest")
        default = DigestSettings()
        report_url = self.get(table, "report_url", "digest", str)
        if report_url is not None:
            self.web_url(report_url.replace("{source}", "source"), "digest.report_url")
        return DigestSettings(
            schedule=self.cron(table, "schedule", "digest", default=default.schedule) or default.schedule,
            send_empty=self.get(table, "send_empty", "digest", bool, default=default.send_empty),
            report_url=report_url,
        )

    def report(self, value: Any) -> ReportSettings:
        table = self.table(value, "report")
        self.check_keys(table, {"language", "timezone"}, "report")
        default = ReportSettings()
        language_name = self.get(table, "language", "report", str, default=default.language)
        if language_name not in LANGUAGES:
            raise self.fail("report.language", f"must be one of {', '.join(map(repr, LANGUAGES))}, not {language_name!r}")
        zone_name = self.get(table, "timezone", "report", str, default=default.timezone)
        if zone_name is not None:
            try:
                zone(zone_name)
            except ValueError as exc:
                raise self.fail("report.timezone", str(exc)) from None
        return ReportSettings(language=language_name, timezone=zone_name)

    def web_url(self, url: str, key: str) -> None:
        self.url(url, key)
        if urlsplit(url).scheme not in WEB_SCHEMES:
            raise self.fail(key, f"URL {url!r} must start with http:// or https://")

    def channels(self, value: Any) -> tuple[Channel, ...]:
        return self.named_tables(value, "notify", self.channel, "channel")

    def channel(self, table: dict[str, Any], where: str) -> Channel:
        self.check_keys(table, _NOTIFY_KEYS, where)
        name = self.get(table, "name", where, str, required=True).strip()
        if not _CHANNEL_NAME.fullmatch(name):
            raise self.fail(f"{where}.name", "must be letters, digits, '_', '.' or '-' (it names the channel in the database)")
        url = self.get(table, "url", where, str, required=True).strip()
        try:
            channel_url.check(url)
        except ValueError as exc:  # said without the URL: it may hold the secret it refuses
            raise self.fail(f"{where}.url", str(exc)) from None
        channel_format = self.get(table, "format", where, str, default="auto")
        if channel_format not in _CHANNEL_FORMATS:
            raise self.fail(f"{where}.format", f"must be one of {', '.join(_CHANNEL_FORMATS)}, not {channel_format!r}")
        return Channel(name=name, url=url, tags=self.strings(table, "tags", where), format=channel_format)


def _shown(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


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
