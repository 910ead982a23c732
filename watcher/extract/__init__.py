"""Fetched bytes → Document: detect the format, then hand over to one module per format.

`FORMATS` maps a format name to its extractor; every extractor takes the body and the keyword
arguments of `extract` (url, selector, encoding, http_charset) and ignores those it has no use
for. A new format is a new module and one line here.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import zipfile
from typing import Callable
from urllib.parse import urlsplit

from watcher.errors import ExtractError
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
    "html": _lazy("watcher.extract.html", "extract_html"),
    "docx": _lazy("watcher.extract.docx", "extract_docx"),
    "pdf": _lazy("watcher.extract.pdf", "extract_pdf"),
    "text": _lazy("watcher.extract.text", "extract_text"),
}

MAX_FILE_BYTES = 256 * 1024 * 1024  # a local file larger than this is not read

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: .doc, .wps, .xls of old
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_CONTENT_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/vnd.ms-works": "doc",
    "application/kswps": "doc",
    "application/wps-office.wps": "doc",
}
_EXTENSIONS = {
    ".html": "html", ".htm": "html", ".shtml": "html", ".xhtml": "html", ".jhtml": "html", ".asp": "html",
    ".aspx": "html", ".jsp": "html", ".php": "html",
    ".txt": "text", ".text": "text",
    ".pdf": "pdf", ".docx": "docx", ".doc": "doc", ".wps": "doc",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image", ".tif": "image", ".tiff": "image",
    ".xls": "spreadsheet", ".xlsx": "spreadsheet", ".et": "spreadsheet", ".ofd": "ofd",
}
_MARKUP = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|meta|title|p|div|br|table|span|h[1-6])[\s>/]", re.I)
_SNIFF_BYTES = 4096

_UNSUPPORTED = {
    "doc": "a legacy binary Word/WPS document (.doc/.wps); only .docx, PDF, HTML and text can be read",
    "image": "an image; scanned documents need OCR, which watcher does not do",
    "spreadsheet": "a spreadsheet; only .docx, PDF, HTML and text can be read",
    "zip": "a zip archive that is not a .docx",
    "ofd": "an OFD document; only .docx, PDF, HTML and text can be read",
}


def _zip_format(body: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return "docx"  # a damaged zip: let the DOCX reader say what is wrong with it
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "spreadsheet"
    return "zip"


def detect_format(body: bytes, content_type: str = "", url: str = "") -> str:
    """The format of a body: "html", "docx", "pdf", "text", or an unsupported name ("doc", "image" …).

    Magic bytes first, then the content type, then the URL's extension, then sniffing.
    """
    if body.startswith(b"PK\x03\x04"):
        return _zip_format(body)
    if b"%PDF-" in body[:1024]:
        return "pdf"
    if body.startswith(_OLE):
        return "doc"
    if body.startswith(_IMAGE_MAGIC):
        return "image"
    media = content_type.split(";")[0].strip().lower()
    if media in _CONTENT_TYPES:
        return _CONTENT_TYPES[media]
    if media.startswith("image/"):
        return "image"
    extension = os.path.splitext(urlsplit(url).path if "://" in url else url)[1].lower()
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "html" if _MARKUP.search(head) else "text"


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
        raise ExtractError(f"cannot extract{where}: {_UNSUPPORTED.get(fmt, f'unsupported format {fmt!r}')}")
    document = FORMATS[fmt](body, url=url, selector=selector, encoding=encoding, http_charset=http_charset)
    if not document.blocks:
        where = f" at {url}" if url else ""
        raise ExtractError(f"no document text found{where} ({fmt})")
    return document


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
