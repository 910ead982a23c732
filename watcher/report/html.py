"""A Diff as one self-contained HTML page (inline CSS, no external assets, no script).

Rendered with Jinja2 and autoescaping on: every piece of document text is escaped. The page also
carries a Content-Security-Policy that forbids scripts and remote loads, as a second guard.
"""

from __future__ import annotations

from watcher.model import Diff
from watcher.report.layout import render_template


def render_html(diff: Diff, show_all: bool = False) -> str:
    return render_template("diff.html.j2", diff=diff, show_all=show_all).rstrip()
