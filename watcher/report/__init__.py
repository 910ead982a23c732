"""Renderers of a Diff: one function per format, `(diff, show_all) -> str`.

Each returns the whole rendering without a trailing newline. `show_all` also lists formatting
changes (they are always counted in the summary); JSON always holds every change, as the contract
says. A new format is a new module, `render_<format>` in watcher/report/<format>.py, and its name
in DIFF_FORMATS.

The format sets are read without importing any renderer (the CLI offers them as `--format`
choices and its start stays light); `renderer(fmt)` and RENDERERS import them on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from watcher.model import Diff
    from watcher.report.html import render_html
    from watcher.report.json import render_json
    from watcher.report.markdown import render_markdown
    from watcher.report.text import render_text

Renderer = Callable[["Diff", bool], str]

# What `watcher diff` prints: the name of each renderer's module.
DIFF_FORMATS: tuple[str, ...] = ("text", "json", "markdown", "html")
# What `watcher diff` writes as a file (`--output`, or stdout when it is not a terminal): the name
# of each module, whose `render_<format>(diff, show_all)` returns bytes.
DOCUMENT_FORMATS: tuple[str, ...] = ("docx",)
# What `watcher targets` and `watcher diff --targets` print (watcher.report.targets).
TARGET_FORMATS: tuple[str, ...] = ("text", "json", "markdown", "html")
# What `watcher check`, `sources`, `history` and `changes` print (watcher.report.listings).
LISTING_FORMATS: tuple[str, ...] = ("text", "json")

if TYPE_CHECKING:
    RENDERERS: dict[str, Renderer]

DocumentRenderer = Callable[["Diff", bool], bytes]


def document_renderer(fmt: str) -> DocumentRenderer:
    """The renderer of one of DOCUMENT_FORMATS; KeyError for any other name."""
    if fmt not in DOCUMENT_FORMATS:
        raise KeyError(fmt)
    render: DocumentRenderer = getattr(importlib.import_module(f"watcher.report.{fmt}"), f"render_{fmt}")
    return render


def renderer(fmt: str) -> Renderer:
    """The renderer of one of DIFF_FORMATS; KeyError for any other name."""
    if fmt not in DIFF_FORMATS:
        raise KeyError(fmt)
    render: Renderer = getattr(importlib.import_module(f"watcher.report.{fmt}"), f"render_{fmt}")
    return render


def write_report(path: str, data: bytes) -> None:
    """Write a rendered report (a .docx, a feed) to `path` whole: a failure is an OutputError."""
    from watcher.errors import OutputError

    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def __getattr__(name: str) -> Any:
    # RENDERERS and the render_* functions, imported when first asked for.
    if name == "RENDERERS":
        return {fmt: renderer(fmt) for fmt in DIFF_FORMATS}
    if name.startswith("render_") and name.removeprefix("render_") in DIFF_FORMATS:
        return renderer(name.removeprefix("render_"))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DIFF_FORMATS",
    "DOCUMENT_FORMATS",
    "DocumentRenderer",
    "LISTING_FORMATS",
    "RENDERERS",
    "TARGET_FORMATS",
    "Renderer",
    "document_renderer",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "renderer",
    "write_report",
]
