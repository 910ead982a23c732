"""A channel's URL as the config writes it: secrets as ${NAME} references, expanded only to send.

The config holds `url = "dingtalk://${DINGTALK_TOKEN}"`; the variable is read at the moment of
sending, and everything watcher says about a channel (logs, errors, the database) shows the URL as
written, so an expanded URL is never printed. `check` refuses a URL that holds a secret itself:
a password in its user part, a token where a chat service keeps it (the first part of dingtalk://,
wecombot://, feishu://, lark://), or a query parameter named like a key. Standard library only:
reading the config must not import Apprise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from watcher.errors import DeliveryError

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# Apprise services whose first URL part is the token itself (dingtalk://{secret}@{token}/…).
TOKEN_SCHEMES = ("dingtalk", "wecombot", "feishu", "lark")
# Query parameters that hold a key wherever they appear (WeCom's ?key=, DingTalk's ?access_token=).
SECRET_PARAMETERS = ("key", "access_token", "token", "secret", "password", "pass", "apikey", "api_key")
# watcher's own webhook shapes: the vendor's robot JSON posted to the webhook address given after
# the "+" (Apprise's wecombot:// sends text only, and its services post to the public hosts alone).
OWN_SHAPES = ("dingtalk", "wecom")
_OWN_TRANSPORTS = ("https", "http")


def scheme(url: str) -> str:
    """The URL's scheme in lower case ("" when it has none)."""
    match = _SCHEME.match(url)
    return match[1].lower() if match else ""


def own_shape(url: str) -> tuple[str, str] | None:
    """("wecom", "https://…") for watcher's own webhook URLs (wecom+https://…), else None."""
    shape, plus, transport = scheme(url).partition("+")
    if plus and shape in OWN_SHAPES and transport in _OWN_TRANSPORTS:
        return shape, url.split("+", 1)[1]
    return None


def _literal(part: str) -> bool:
    # Something besides references and separators: a secret written into the config.
    return bool(re.sub(r"[@:/]", "", REFERENCE.sub("", part)))


def check(url: str) -> None:
    """Raise ValueError (saying what, never quoting the URL's secret) when `url` is not a channel
    URL whose secrets all come from the environment."""
    if "$" in REFERENCE.sub("", url):
        raise ValueError("a $ must open a reference to an environment variable, as in ${DINGTALK_TOKEN}")
    name = scheme(url)
    if not name:
        raise ValueError("must start with a service's scheme, as in dingtalk://, wecombot://, mailto:// or json://")
    if "+" in name and own_shape(url) is None:
        raise ValueError(
            f"unknown scheme {name!r}: watcher's own webhooks are "
            + ", ".join(f"{shape}+https://" for shape in OWN_SHAPES)
        )
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and _literal(userinfo.partition(":")[2]):
        raise ValueError("holds a password: write it as ${NAME}, an environment variable that holds it")
    if name in TOKEN_SCHEMES and _literal(parts.netloc):
        raise ValueError(f"holds the {name} token: write it as ${{NAME}}, an environment variable that holds it")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in SECRET_PARAMETERS and _literal(value):
            raise ValueError(f"holds the value of ?{key}=: write it as ${{NAME}}, an environment variable that holds it")


@dataclass(frozen=True)
class Expanded:
    url: str  # with every reference replaced: never to be logged
    secrets: tuple[str, ...]  # the values put in, for watcher.notify.redact


def expand(url: str, where: str, environ: Mapping[str, str] | None = None) -> Expanded:
    """`url` with its references replaced by the variables' values; DeliveryError naming the
    first variable that is not set or empty (`where` says whose URL it is)."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in REFERENCE.findall(url):
        value = environ.get(name)
        if not value:
            raise DeliveryError(f"{where}: the environment variable {name} is not set")
        values[name] = value
    expanded = REFERENCE.sub(lambda m: values[m[1]], url)
    return Expanded(expanded, tuple(sorted(set(values.values()), key=len, reverse=True)))
