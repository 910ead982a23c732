"""Fetched bytes → Document: detect the format, then hand over to one module per format.

`FORMATS` maps a format name to its extractor; every extractor takes the body and the keyword
arguments of `extract` (url, selector, encoding, http_charset) and ignores those it has no use
for. A new format is a new module and its entry in watcher.formats.REGISTRY.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from watcher.errors import ExtractError, NoDocumentText
from watcher.formats import REGISTRY, detect_format, unreadable_reason
from watcher.model import Document

__all__ = ["FORMATS", "MAX_FILE_BYTES", "detect_format", "extract", "extract_file"]

def _lazy(module: str, name: str) -> Callable[..., Document]:
    """An extractor imported on first use: a diff of two text files need not load pdfminer."""

    def extractor(body: bytes, **options: object) -> Document:
        document: Document = getattr(importlib.import_module(module), name)(body, **options)
        return document

    extractor.__name__ = name
    return extractor


FORMATS: dict[str, Callable[..., Document]] = {
    fmt.name: _lazy(*fmt.reader) for fmt in REGISTRY if fmt.reader is not None
}

MAX_FILE_BYTES = 256 * 1024 * 1024  # a local file larger than this is not read
# Random bytes decode to a text about half of which is replacement characters; the
# documents of tests/data and ../shared have none or a few.
MAX_NOT_TEXT_SHARE = 0.05


def extract(
    body: bytes,
    *,
    content_type: str = "",
    url: str = "",
    selector: str | None = None,
    encoding: str | None = None,
    http_charset: str | None = None,
) -> Document:
    """Bytes (as fetched or read) → Document. Raises ExtractError for unsupported or damaged input."""
    fmt = detect_format(body, content_type, url)
    if fmt not in FORMATS:
        where = f" ({url})" if url else ""
        raise ExtractError(f"cannot extract{where}: {unreadable_reason(fmt)}")
    document = FORMATS[fmt](body, url=url, selector=selector, encoding=encoding, http_charset=http_charset)
    if not document.blocks:
        where = f" at {url}" if url else ""
        raise NoDocumentText(f"no document text found{where} ({fmt})")
    junk = not_text_share(document.text)
    if junk > MAX_NOT_TEXT_SHARE:
        where = f" ({url})" if url else ""
        raise ExtractError(f"cannot extract{where}: {junk:.0%} of what it reads as text is not text (binary data?)")
    return document


def not_text_share(text: str) -> float:
    """The share of replacement characters (bytes that decode to nothing) in a document's text;
    control characters never reach it (the readers' clean_display drops them)."""
    return text.count("\ufffd") / len(text) if text else 0.0


def extract_file(path: str | os.PathLike[str]) -> Document:
    """A local file (.html/.htm, .txt, .docx, .pdf …) → Document."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
        if size > MAX_FILE_BYTES:
            raise ExtractError(f"{name}: {size / 2**20:.0f} MB is larger than the {MAX_FILE_BYTES // 2**20} MB limit")
        with open(name, "rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise ExtractError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    return extract(body, url=name)
