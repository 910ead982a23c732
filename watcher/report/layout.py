"""How changes are arranged for a reader, shared by every renderer and the email digest.

What an analyst reads first: the target changes (one table), then new and removed measures, then the
other clause changes as a redline, each grouped by the section they stand in. Formatting changes
are hidden unless asked for, but always counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
import markupsafe
from jinja2.nodes import EvalContext

from watcher.contract import json_number
from watcher.kinds import DOCUMENT_KINDS, FORMATTING_KINDS, KIND_ORDER, MEASURE_KINDS, TARGET_KINDS, count_phrase, kind_label
from watcher.language import N_, _, current, gettext, ngettext, pgettext, shown_time
from watcher.links import WEB_SCHEMES
from watcher.model import Change, InlineOp, Target, summarise
from watcher.normalise import printable, reading_form

# How an indicator fared from one edition to the next (watcher diff --targets), in report order.
# English msgids, translated when shown (status_label, role_label).
STATUS_LABELS: dict[str, str] = {
    "raised": N_("raised"),
    "lowered": N_("lowered"),
    "changed": N_("changed"),
    "new": N_("new"),
    "dropped": N_("dropped"),
    "kept": N_("kept"),
}
ROLE_LABELS: dict[str, str] = {
    "target": N_("target"),
    "reported": N_("reported"),
    "baseline": N_("baseline"),
    "threshold": N_("threshold"),
}


# What a check came to, as a digest lists the sources that need attention (English msgids).
CHECK_STATUS_LABELS: dict[str, str] = {
    "new": N_("new version"),
    "unchanged": N_("unchanged"),
    "failed": N_("failed"),
    "suspicious": N_("suspicious"),
    "interrupted": N_("interrupted"),
    "blocked": N_("blocked"),
}


def check_status(status: str) -> str:
    return _(CHECK_STATUS_LABELS[status]) if status in CHECK_STATUS_LABELS else status


def html_lang() -> str:
    """The lang attribute of a page in the rendering's language."""
    return "zh-CN" if current().language == "zh" else current().language


def status_label(status: str) -> str:
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def role_label(role: str) -> str:
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role

_COMPARATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "~": "≈", "=": ""}


@dataclass(frozen=True)
class Section:
    """The changes that stand under one heading path, in the order the diff gave them."""

    path: tuple[str, ...]
    changes: tuple[Change, ...]

    @property
    def title(self) -> str:
        return section_title(self.path)


@dataclass(frozen=True)
class Layout:
    documents: tuple[Change, ...]  # document_added / document_removed: they lead the report
    targets: tuple[Change, ...]  # every target_* change, in diff order
    measures: tuple[Section, ...]  # measure_added / measure_removed
    clauses: tuple[Section, ...]  # clause_* (and formatting when shown)
    hidden: int  # formatting changes left out
    summary: dict[str, int]  # every change counted, shown or not

    @property
    def empty(self) -> bool:
        return not (self.documents or self.targets or self.measures or self.clauses)


def arrange(changes: Iterable[Change], show_all: bool = False) -> Layout:
    """Sort changes into the parts of a report; formatting only when `show_all`."""
    changes = tuple(changes)
    documents = tuple(c for c in changes if c.kind in DOCUMENT_KINDS)
    targets = tuple(c for c in changes if c.kind in TARGET_KINDS)
    measures = [c for c in changes if c.kind in MEASURE_KINDS]
    clauses = [
        c
        for c in changes
        if c.kind not in DOCUMENT_KINDS | TARGET_KINDS | MEASURE_KINDS and (show_all or c.substantive)
    ]
    hidden = sum(1 for c in changes if not c.substantive) if not show_all else 0
    summary = summarise(changes)
    return Layout(documents, targets, _by_section(measures), _by_section(clauses), hidden, summary)


# A digest or a feed entry is read in a mail client or a feed reader: past this many changes of one
# source it lists the most important (targets, then measures, then clauses) and says how many more
# `watcher changes` shows.
MAX_SHOWN_PER_SOURCE = 60


def capped_layout(changes: Sequence[Change]) -> tuple[Layout, int]:
    """The layout of at most MAX_SHOWN_PER_SOURCE changes of substance (the summary still counts
    every change), and how many were left out."""
    substantive = [c for c in changes if c.substantive]
    if len(substantive) <= MAX_SHOWN_PER_SOURCE:
        return arrange(changes), 0
    rank = {kind: n for n, kind in enumerate(KIND_ORDER)}
    keep = set(sorted(range(len(substantive)), key=lambda i: (rank[substantive[i].kind], i))[:MAX_SHOWN_PER_SOURCE])
    shown = arrange([c for i, c in enumerate(substantive) if i in keep])
    hidden = len(changes) - len(substantive)
    return replace(shown, summary=summarise(changes), hidden=hidden), len(substantive) - len(keep)


def _by_section(changes: list[Change]) -> tuple[Section, ...]:
    # Sections in order of first appearance; the differ reports in document order.
    groups: dict[tuple[str, ...], list[Change]] = {}
    for change in changes:
        groups.setdefault(tuple(change.path), []).append(change)
    return tuple(Section(path, tuple(items)) for path, items in groups.items())


def summary_line(summary: dict[str, int], hidden: int = 0) -> str:
    """"1 target changed, 1 new measure, 12 formatting changes (hidden)"."""
    if not summary:
        return _("no changes")
    # Only formatting is ever hidden: say so where it is counted.
    return _(", ").join(
        count_phrase(kind, n) + (_(" (hidden)") if kind in FORMATTING_KINDS and hidden else "")
        for kind, n in summary.items()
    )


def section_title(path: Iterable[str]) -> str:
    path = tuple(path)
    return " › ".join(path) if path else _("(before the first heading)")


# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class DocumentLine:
    """A new or removed document, as strings ready to print (not yet escaped)."""

    label: str  # "new document", "document removed"
    title: str
    url: str
    size: str  # "1.2 MB", "" when unknown
    targets: tuple[str, ...]  # "科技型中小企业数 ≥3700 家 (2025)"
    more: int  # targets of its ledger not listed


def document_line(change: Change) -> DocumentLine:
    news = change.document
    if news is None:  # a stored change without its document: still say what it was
        return DocumentLine(kind_label(change.kind), change.new or change.old or "", "", "", (), 0)
    targets = tuple(target_phrase(i.target) for i in news.targets)
    return DocumentLine(
        label=kind_label(change.kind),
        title=news.title,
        url=news.url,
        size=byte_size(news.size),
        targets=targets,
        more=max(news.total_targets - len(targets), 0),
    )


def byte_size(size: int | None) -> str:
    """"812 bytes", "36 KB", "1.2 MB"."""
    if size is None:
        return ""
    if size < 1024:
        return ngettext("{n} byte", "{n} bytes", size).format(n=size)
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def target_phrase(target: Target) -> str:
    """A target on one line: its metric, value, unit and year."""
    year = f" ({target.year})" if target.year else ""
    unit = f" {target.unit}" if target.unit and target.value is not None else ""
    return f"{target.metric} {quantity(target)}{unit}{year}".strip()


# ---------------------------------------------------------------- targets


def quantity(target: Target | None) -> str:
    """The value of an indicator with its comparator: "≥3700", "1–2", or its words (翻一番)."""
    if target is None:
        return "—"
    if target.value is None:
        return target.text or "—"
    text = str(json_number(target.value))  # 3700.0 → "3700", as a reader writes it
    if target.value_max is not None:
        text += "–" + str(json_number(target.value_max))
    return _COMPARATOR_SIGNS.get(target.comparator or "", "") + text


def either(old: Any, new: Any) -> str:
    """One value when both sides agree (or one is missing), "old → new" when they differ."""
    old_s = "" if old is None else str(old)
    new_s = "" if new is None else str(new)
    if old_s and new_s and old_s != new_s:
        return f"{old_s} → {new_s}"
    return new_s or old_s


@dataclass(frozen=True)
class TargetRow:
    """One line of a target table, as strings ready to print (not yet escaped). `change` is the
    kind's label, with the figure's role when it is an outcome or a baseline, not a plan."""

    kind: str
    change: str
    section: str
    metric: str
    old: str
    new: str
    unit: str
    year: str


def as_published(words: str, clause: str | None) -> str:
    """`words` (a metric, kept in the reading form: Simplified, half-width) as the clause it came
    from writes them, so a Traditional document's metric is shown in Traditional; `words` itself
    when the clause does not hold them."""
    if not words or not clause or words in clause:
        return words
    for drop_spaces in (False, True):
        # each character's reading form, and where it stands in the clause
        pieces = [(i, "" if drop_spaces and ch.isspace() else reading_form(ch)) for i, ch in enumerate(clause)]
        read, starts = "", []
        for i, piece in pieces:
            starts.extend([i] * len(piece))
            read += piece
        at = read.find(words)
        if at >= 0:
            return clause[starts[at]:starts[at + len(words) - 1] + 1]
    return words


def target_header() -> list[str]:
    """The column names of a target table, in TargetRow's order of metric to section."""
    return [_("Metric"), pgettext("value", "Old"), pgettext("value", "New"), _("Unit"), _("Year"), _("Change"), _("Section")]


def target_row(change: Change) -> TargetRow:
    tc = change.target
    old_t = tc.old if tc else None
    new_t = tc.new if tc else None
    metric = as_published(tc.metric, change.new or change.old) if tc else ""
    role = tc.role if tc else "target"
    label = kind_label(change.kind) + (f" ({role_label(role)})" if role in ("reported", "baseline") else "")
    return TargetRow(
        kind=change.kind,
        change=label,
        section=section_title(change.path),
        metric=metric,
        old=quantity(old_t),
        new=quantity(new_t),
        unit=either(old_t.unit if old_t else None, new_t.unit if new_t else None),
        year=either(old_t.year if old_t else None, new_t.year if new_t else None),
    )


# ---------------------------------------------------------------- redline


def redline(change: Change) -> tuple[InlineOp, ...]:
    """The inline diff of a change; one whole delete/insert when the differ gave none."""
    if change.inline:
        return tuple(change.inline)
    ops: list[InlineOp] = []
    if change.old and change.new and change.old == change.new:
        return (("=", change.new),)
    if change.old:
        ops.append(("-", change.old))
    if change.new:
        ops.append(("+", change.new))
    return tuple(ops)


def marked(op: str, part: str) -> str:
    """One redline piece in plain text, marked as in `git diff --word-diff`."""
    if op == "-":
        return f"[-{part}-]"
    if op == "+":
        return f"{{+{part}+}}"
    return part


def moved_from(change: Change) -> str | None:
    """The section a moved clause came from, when it differs from where it is now."""
    if change.old_path is None or tuple(change.old_path) == tuple(change.path):
        return None
    return section_title(change.old_path)


def web_link(url: str | None) -> str | None:
    """A URL fit for an href: http(s) only, so a stored value can never be a javascript: link."""
    if url and urlsplit(url).scheme.lower() in WEB_SCHEMES:
        return url
    return None


# ---------------------------------------------------------------- templates


def _finalize(value: Any) -> Any:
    # Every {{ value }} of a template: document text loses its control characters. Markup is the
    # output of a macro whose own values already went through here (and must not be escaped again).
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return printable(value)
    return value


def _formatted(eval_ctx: EvalContext, message: str, variables: dict[str, Any]) -> str:
    values = {key: _finalize(value) for key, value in variables.items()}
    if eval_ctx.autoescape:
        return markupsafe.Markup(message) % values  # Markup % escapes each value
    return message % values


@jinja2.pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
    return _formatted(eval_ctx, gettext(message), variables)


@jinja2.pass_eval_context
def _template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any) -> str:
    return _formatted(eval_ctx, ngettext(singular, plural, num), {"num": num, **variables})


@lru_cache(maxsize=2)
def _environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        extensions=["jinja2.ext.i18n"],
        loader=jinja2.PackageLoader("watcher.report", "templates"),
        autoescape=html,  # every piece of document text is escaped in HTML
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # The gettext callables read the rendering's language when called, so one cached environment
    # serves every language. Newstyle (`_("… %(n)s", n=x)`), but ours: the values of a message are
    # document text too, and go through _finalize (printable) before escaping.
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    env.globals.update(
        shown_time=shown_time,
        html_lang=html_lang,
        check_status=check_status,
        arrange=arrange,
        summary_line=summary_line,
        section_title=section_title,
        kind_label=kind_label,
        target_row=target_row,
        target_header=target_header,
        document_line=document_line,
        redline=redline,
        moved_from=moved_from,
        web_link=web_link,
        count_phrase=count_phrase,
    )
    return env


def render_template(name: str, **context: Any) -> str:
    """Render one of report/templates; autoescaped when the name ends in .html.j2."""
    return _environment(name.endswith(".html.j2")).get_template(name).render(**context)
