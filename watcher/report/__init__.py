"""Renderers of a Diff: one function per format, `(diff, show_all) -> str`.

Each returns the whole rendering without a trailing newline. `show_all` also lists formatting
changes (they are always counted in the summary); JSON always holds every change, as the contract
says. A new format is a new module and one line here.
"""

from __future__ import annotations

from typing import Callable

from watcher.model import Diff
from watcher.report.html import render_html
from watcher.report.json import render_json
from watcher.report.markdown import render_markdown
from watcher.report.text import render_text

Renderer = Callable[[Diff, bool], str]

RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
}

__all__ = ["RENDERERS", "Renderer", "render_html", "render_json", "render_markdown", "render_text"]
