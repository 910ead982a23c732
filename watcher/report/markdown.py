"""A Diff as Markdown (GitHub-flavoured): target table, measures, then a redline by section.

Every piece of document text goes through `escape`: Markdown punctuation is backslash-escaped and
`<`, `>`, `&` can never open HTML, so a clause holding `<script>` stays text. The redline uses
<del>/<ins> rather than ~~ and **, whose flanking rules fail next to CJK punctuation.
"""

from __future__ import annotations

import re

from watcher.kinds import kind_label
from watcher.language import _, shown_time
from watcher.model import Change, Diff
from watcher.normalise import printable
from watcher.report.layout import (
    Layout,
    arrange,
    document_line,
    moved_from,
    redline,
    summary_line,
    target_header,
    target_row,
)

# What can open markup anywhere in a line (our text never starts a line, so "-", "+", "1." are safe).
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def escape(text: str) -> str:
    """Document text as literal Markdown, on one line, without control characters."""
    return _SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", printable(text)))


def redline_md(change: Change) -> str:
    parts = []
    for op, part in redline(change):
        if op == "=":
            parts.append(escape(part))
        else:
            tag = "del" if op == "-" else "ins"
            parts.append(f"<{tag}>{escape(part)}</{tag}>")
    return "".join(parts)


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def body_lines(layout: Layout, heading: str = "##") -> list[str]:
    """The body of a diff as Markdown lines: targets, measures, then clauses by section."""
    lines: list[str] = []
    if layout.documents:
        lines += [f"{heading} " + _("New and removed documents"), ""]
        for change in layout.documents:
            d = document_line(change)
            where = " · ".join(escape(part) for part in (d.url, d.size) if part)
            lines.append(f"- *{d.label}:* {escape(d.title)}" + (f" ({where})" if where else ""))
            if d.targets:
                more = _(" (and {n} more)").format(n=d.more) if d.more else ""
                lines.append("  " + _("targets: {targets}").format(targets=escape("; ".join(d.targets))) + more)
        lines.append("")
    if layout.targets:
        lines += [f"{heading} " + _("Targets"), ""]
        lines.append(row(target_header()))
        lines.append(row(["---"] * 7))
        for change in layout.targets:
            r = target_row(change)
            cells = [r.metric, r.old, r.new, r.unit, r.year, r.change, r.section]
            lines.append(row([escape(c) for c in cells]))
        lines.append("")
    for title, sections in (
        (_("New and removed measures"), layout.measures),
        (_("Changed clauses"), layout.clauses),
    ):
        if not sections:
            continue
        lines += [f"{heading} {title}", ""]
        for section in sections:
            lines += [f"{heading}# {escape(section.title)}", ""]
            for change in section.changes:
                lines.append(f"- *{kind_label(change.kind)}:* {redline_md(change)}")
                origin = moved_from(change)
                if origin:
                    lines.append("  " + _("(was under {section})").format(section=escape(origin)))
            lines.append("")
    return lines


def render_markdown(diff: Diff, show_all: bool = False) -> str:
    layout = arrange(diff.changes, show_all)
    lines = ["# " + _("Changes: {old} → {new}").format(old=escape(diff.old.ref), new=escape(diff.new.ref)), ""]
    for label, info in ((_("Old"), diff.old), (_("New"), diff.new)):
        details = " · ".join(
            escape(x) for x in (info.ref, info.title, shown_time(info.fetched_at), info.ocr.note if info.ocr else "") if x
        )
        lines.append(f"- **{label}:** {details}")
    summary = summary_line(layout.summary, layout.hidden)
    lines += ["", "**" + _("Summary:") + f"** {escape(summary)}", ""]
    if layout.empty:
        lines += [_("No changes of substance."), ""]
    lines += body_lines(layout)
    return "\n".join(lines).rstrip()
