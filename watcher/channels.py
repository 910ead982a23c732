"""Digests to team chats and other channels ([[notify]]): DingTalk, WeCom, Feishu, mail, webhooks.

Each channel gets a short digest of the sources routed to it (those sharing one of its tags, or
every source when it has none): per source the target table, the new and removed measures, how
many clauses changed, a link to the full report when [digest] report_url is set, and the sources
that began failing. In Markdown where the service renders it, in plain text elsewhere.

Delivery goes through Apprise (`url = "dingtalk://${TOKEN}"`, wecombot://, feishu://, mailto://,
json:// …), one Apprise object per channel, so each channel's outcome is its own. Two shapes are
watcher's own, for what Apprise does not do: `wecom+https://…` and `dingtalk+https://…` post the
vendor's documented robot JSON as Markdown to the webhook address after the "+" (Apprise's
wecombot:// sends text only; its services post to the vendors' public hosts alone, so a private
deployment needs its own address), and count as accepted only when the answer's errcode is 0.

The bookkeeping is the email digests': a digest row per channel and run, keyed "notify:NAME",
marked sent only once the service accepted the message, failed otherwise, so its changes are
retried with the next run and never sent twice to one channel. A URL's secrets are expanded at the
moment of sending (watcher.channel_url) and everything Apprise logs meanwhile is redacted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from watcher import channel_url
from watcher.digest import Audience, DigestOutcome, SourceChanges, collect, is_news, send_digest, subject_line
from watcher.errors import DeliveryError
from watcher.kinds import CLAUSE_KINDS
from watcher.language import rendering
from watcher.model import Channel, Settings
from watcher.notify import redact, secret_forms
from watcher.report.layout import TargetRow, arrange, render_template, summary_line, target_row, web_link
from watcher.report.markdown import escape
from watcher.store import Store

log = logging.getLogger(__name__)

KEY_PREFIX = "notify:"  # a channel's recipient key in the digests table: never an email address
# A chat message is read on a phone: past these it says how many more `watcher changes` lists.
MAX_SOURCES = 10
MAX_TARGETS = 12  # per source
MAX_MEASURES = 6  # per source, of each kind
MEASURE_CHARS = 160  # a measure's text is cut after this many characters
# What the vendors' robot APIs take in one message, in UTF-8 bytes (their documented limits).
SHAPE_LIMITS = {"dingtalk": 20000, "wecom": 4096}
WEBHOOK_TIMEOUT = 30.0  # seconds, connect and read
MAX_ANSWER_BYTES = 64 * 1024  # a robot's answer is a line of JSON
CUT_NOTE = "…"


def channel_key(channel: Channel) -> tuple[str, ...]:
    return (KEY_PREFIX + channel.name,)


def channel_routing(tags: Sequence[str], settings: Settings) -> tuple[tuple[str, ...], ...]:
    """The channels that get the news of a source with these tags (digest.Routing)."""
    return tuple(channel_key(c) for c in settings.notify if not c.tags or set(tags) & set(c.tags))


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class SourcePart:
    """What a channel digest says of one source, as strings not yet escaped."""

    source: str
    title: str
    url: str | None  # http(s) only
    report: str | None  # the full report's address
    summary: str
    targets: tuple[TargetRow, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    clauses: int  # changed clauses, counted, not listed
    more: int  # targets and measures left out


@dataclass(frozen=True)
class ChannelMessage:
    channel: Channel
    title: str
    markdown: str
    text: str
    change_ids: tuple[int, ...]  # every change it covers, shown or not


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MEASURE_CHARS else text[:MEASURE_CHARS] + CUT_NOTE


def report_link(source: str, settings: Settings) -> str | None:
    base = settings.digest.report_url
    return base.replace("{source}", quote(source, safe="")) if base else None


def source_part(group: SourceChanges, settings: Settings) -> SourcePart:
    layout = arrange(group.changes)
    measures = [c for section in layout.measures for c in section.changes]
    added = [_cut(c.new or "") for c in measures if c.kind == "measure_added"]
    removed = [_cut(c.old or "") for c in measures if c.kind == "measure_removed"]
    targets = [target_row(c) for c in layout.targets]
    more = max(0, len(targets) - MAX_TARGETS) + max(0, len(added) - MAX_MEASURES) + max(0, len(removed) - MAX_MEASURES)
    return SourcePart(
        source=group.source,
        title=group.title,
        url=web_link(group.url),
        report=report_link(group.source, settings),
        summary=summary_line(layout.summary, layout.hidden),
        targets=tuple(targets[:MAX_TARGETS]),
        added=tuple(added[:MAX_MEASURES]),
        removed=tuple(removed[:MAX_MEASURES]),
        clauses=sum(1 for c in group.changes if c.kind in CLAUSE_KINDS),
        more=more,
    )


def _link_target(url: str) -> str:
    # A Markdown link target ends at ")" or a space: those are percent-encoded.
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def build_message(channel: Channel, audience: Audience, settings: Settings) -> ChannelMessage | None:
    """The channel digest of what `audience` has not been sent yet; None when there is no news
    (and settings.digest.send_empty is false)."""
    if not is_news(audience.groups, audience.failures) and not settings.digest.send_empty:
        return None
    changed = [g for g in audience.groups if g.substantive]
    with rendering(settings.report.language, settings.report.timezone):
        title = subject_line(audience.groups, audience.failures)
        context = {
            "title": title,
            "parts": [source_part(g, settings) for g in changed[:MAX_SOURCES]],
            "more_sources": max(0, len(changed) - MAX_SOURCES),
            "failures": list(audience.failures),
            "md": escape,
            "link_target": _link_target,
        }
        markdown = render_template("channel.md.j2", **context)
        text = render_template("channel.txt.j2", **context)
    return ChannelMessage(
        channel=channel,
        title=title,
        markdown=markdown,
        text=text,
        change_ids=tuple(i for g in audience.groups for i in g.change_ids),
    )


# ---------------------------------------------------------------- delivering


class _Redacting(logging.Filter):
    """Replaces the secrets of the URL being used in what a logger says (and Apprise captures)."""

    def __init__(self, forms: Sequence[str]) -> None:
        super().__init__()
        self.forms = forms

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = redact(text, self.forms)
        if cleaned != text:
            record.msg, record.args = cleaned, ()
        return True


# The loggers that quote the address a message is posted to (urllib3's request lines at DEBUG).
QUOTING_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.util.retry")


@contextmanager
def _redacted_logs(forms: Sequence[str]) -> Iterator[None]:
    guard = _Redacting(forms)
    loggers = [logging.getLogger(name) for name in QUOTING_LOGGERS]
    for logger in loggers:
        logger.addFilter(guard)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(guard)


def _forms(secrets: Sequence[str]) -> tuple[str, ...]:
    forms = {form for secret in secrets for form in secret_forms(secret)}
    return tuple(sorted(forms, key=len, reverse=True))


def deliver(message: ChannelMessage) -> None:
    """Send one channel digest; DeliveryError (with the URL as written, never expanded) unless
    the service accepted it."""
    channel = message.channel
    where = f"notify {channel.name} ({channel_url.scheme(channel.url)}://)"
    expanded = channel_url.expand(channel.url, where)
    forms = _forms(expanded.secrets)
    own = channel_url.own_shape(expanded.url)
    try:
        with _redacted_logs(forms):
            if own is not None:
                _post_robot(own[0], own[1], message)
            else:
                _through_apprise(expanded.url, message)
    except DeliveryError as exc:
        raise DeliveryError(f"{where}: {redact(str(exc), forms)}") from None


def _wants_markdown(channel: Channel, renders: Literal["markdown", "html", "text"]) -> bool:
    if channel.format != "auto":
        return channel.format == "markdown"
    return renders != "text"  # Apprise turns Markdown into HTML for mail


def _through_apprise(url: str, message: ChannelMessage) -> None:
    import apprise

    service = apprise.Apprise.instantiate(url)
    if service is None:
        raise DeliveryError("Apprise cannot use this URL (unknown service, or a part it does not accept)")
    resolved = service.resolve_format(apprise.NotifyFormat.MARKDOWN)
    renders: Literal["markdown", "html", "text"] = (
        "markdown" if resolved == apprise.NotifyFormat.MARKDOWN else "html" if resolved == apprise.NotifyFormat.HTML else "text"
    )
    markdown = _wants_markdown(message.channel, renders)
    sender = apprise.Apprise()
    sender.add(service)
    result = sender.notify(
        body=message.markdown if markdown else message.text,
        title=message.title,
        body_format=apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT,
    )
    if not result:
        said = [entry.message for entry in result.logs()]
        raise DeliveryError("not accepted: " + ("; ".join(said[-3:]) or "the service gave no reason"))


def fit(text: str, limit: int) -> str:
    """`text` cut at a line so that it takes at most `limit` UTF-8 bytes (with a closing "…")."""
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len(("\n" + CUT_NOTE).encode("utf-8"))
    kept: list[str] = []
    used = 0
    for line in text.splitlines():
        size = len(line.encode("utf-8")) + 1
        if used + size > room:
            break
        kept.append(line)
        used += size
    return "\n".join(kept) + "\n" + CUT_NOTE


def robot_payload(shape: str, message: ChannelMessage) -> dict[str, object]:
    """The JSON a DingTalk or WeCom group robot takes (their custom-robot documentation)."""
    limit = SHAPE_LIMITS[shape]
    if message.channel.format == "text":
        return {"msgtype": "text", "text": {"content": fit(f"{message.title}\n\n{message.text}", limit)}}
    body = fit(f"### {escape(message.title)}\n\n{message.markdown}", limit)
    if shape == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": body}}
    return {"msgtype": "markdown", "markdown": {"content": body}}


def _post_robot(shape: str, address: str, message: ChannelMessage) -> None:
    import requests

    data = json.dumps(robot_payload(shape, message), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    try:
        # No redirects: a digest goes to the address configured and nowhere else.
        with requests.post(
            address, data=data, headers=headers, timeout=WEBHOOK_TIMEOUT, allow_redirects=False, stream=True
        ) as answer:
            status = answer.status_code
            raw = answer.raw.read(MAX_ANSWER_BYTES, decode_content=True)
    except requests.RequestException as exc:
        raise DeliveryError(f"not delivered: {type(exc).__name__}: {exc}") from None
    if status != 200:
        raise DeliveryError(f"not accepted: HTTP {status}")
    try:
        reply = json.loads(raw)
    except ValueError:
        reply = None
    if not isinstance(reply, dict) or "errcode" not in reply:
        raise DeliveryError("not accepted: the answer is not the robot API's JSON (no errcode)")
    if reply["errcode"] != 0:
        said = str(reply.get("errmsg", ""))[:200]
        raise DeliveryError(f"not accepted: errcode {reply['errcode']}: {said}")


# ---------------------------------------------------------------- sending through the store


@dataclass(frozen=True)
class ChannelDelivery:
    message: ChannelMessage
    digest_id: int


@dataclass(frozen=True)
class ChannelOutcome:
    status: Literal["sent", "nothing", "dry_run", "failed"]
    messages: tuple[ChannelMessage, ...] = ()  # one per channel with news
    delivered: tuple[ChannelDelivery, ...] = ()
    problems: tuple[str, ...] = ()  # one line per channel that did not accept its digest


def channel_audiences(store: Store, settings: Settings, since: str | None = None) -> list[tuple[Channel, Audience]]:
    """Each configured channel with what it has not been sent yet."""
    by_key = {audience.recipients: audience for audience in collect(store, settings, since, channel_routing)}
    return [(channel, by_key.get(channel_key(channel), Audience(channel_key(channel)))) for channel in settings.notify]


def send_channels(
    store: Store,
    settings: Settings,
    dry_run: bool = False,
    since: str | None = None,
    audiences: Sequence[tuple[Channel, Audience]] | None = None,
) -> ChannelOutcome:
    """Build each channel's digest and deliver it (every channel is tried; one refusing does not
    stop the others). `audiences` are channel_audiences read before any digest of this run was
    sent (an email marked sent first would hide its changes from the channels)."""
    if audiences is None:
        audiences = channel_audiences(store, settings, since)
    planned = [
        (audience, message)
        for channel, audience in audiences
        if (message := build_message(channel, audience, settings)) is not None
    ]
    messages = tuple(message for _, message in planned)
    if not messages:
        return ChannelOutcome("nothing")
    if dry_run:
        return ChannelOutcome("dry_run", messages)
    delivered: list[ChannelDelivery] = []
    problems: list[str] = []
    for audience, message in planned:
        digest_id = store.create_digest(message.title, list(audience.recipients), list(message.change_ids), audience.last_check)
        try:
            deliver(message)
        except DeliveryError as exc:
            store.mark_digest_failed(digest_id, str(exc))
            log.warning("digest %d not delivered, kept for the next run: %s", digest_id, exc)
            problems.append(str(exc))
            continue
        store.mark_digest_sent(digest_id)
        log.info("digest %d sent to notify %s: %s", digest_id, message.channel.name, message.title)
        delivered.append(ChannelDelivery(message, digest_id))
    return ChannelOutcome("failed" if problems else "sent", messages, tuple(delivered), tuple(problems))



@dataclass(frozen=True)
class Deliveries:
    """One run's digests: by email (None when channels are configured and [email] is not) and to
    the channels, with a line for each digest that was not accepted."""

    email: DigestOutcome | None
    channels: ChannelOutcome
    problems: tuple[str, ...] = ()


def send_all(store: Store, settings: Settings, dry_run: bool = False, since: str | None = None) -> Deliveries:
    """The email digests and the channel digests of one run. What each recipient set and channel
    has not been sent yet is read before anything is sent; every digest is tried, and the ones
    not accepted are in `problems` (their changes stay unsent to them, for the next run)."""
    by_email = settings.email is not None or not settings.notify
    email_audiences = collect(store, settings, since) if by_email else None
    audiences = channel_audiences(store, settings, since)
    problems: list[str] = []
    email: DigestOutcome | None = None
    if email_audiences is not None:
        try:
            email = send_digest(store, settings, dry_run, since, email_audiences)
        except DeliveryError as exc:  # every email digest was tried: the channels still are
            problems.append(str(exc))
    channels = send_channels(store, settings, dry_run, since, audiences)
    return Deliveries(email, channels, (*problems, *channels.problems))
