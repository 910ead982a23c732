"""The document formats watcher knows, each declared once: its extensions, content types and
magic bytes (how a body or a link is recognised), whether watcher reads it (its reader, or the
message saying why not), and which links to it are a page's attachments.

Everything that asks "what format is this?" reads `REGISTRY`: format detection
(watcher.extract), the attachment links the HTML reader keeps, which of them a check follows
(watcher.check), and which `watcher diff` operands look like files (watcher.references).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "REGISTRY",
    "Format",
    "attachment_format",
    "detect_format",
    "followed_attachment",
    "is_document_name",
    "unreadable_reason",
]


@dataclass(frozen=True)
class Format:
    """One format. `reader` is (module, function), imported on first use; None when watcher
    cannot read the format, and `unreadable` then says why."""

    name: str
    extensions: tuple[str, ...] = ()  # lower case, with the dot
    content_types: tuple[str, ...] = ()  # media types, lower case
    media_prefix: str = ""  # any media type starting so ("image/")
    magic: tuple[bytes, ...] = ()  # the body starts with one of these …
    magic_window: int = 0  # … or, when > 0, holds one within its first so many bytes
    zip_member: str = ""  # a zip container holding this member is this format
    attachment_extensions: tuple[str, ...] = ()  # a link ending so is an attachment of its page
    # … wherever it is on the page; False: only within the document's own text, since a site's
    # navigation (menus, breadcrumbs, related items) links its own pages so.
    attached_anywhere: bool = True
    reader: tuple[str, str] | None = None
    unreadable: str = ""

    @property
    def readable(self) -> bool:
        return self.reader is not None


_READ = "only .docx, OFD, PDF, HTML and text can be read"

# Magic bytes are tried in this order: a zip before a PDF marker within it, a PDF marker before
# a Compound File or image header.
REGISTRY: tuple[Format, ...] = (
    Format(
        "html",
        extensions=(".html", ".htm", ".shtml", ".xhtml", ".jhtml", ".asp", ".aspx", ".jsp", ".php"),
        content_types=("text/html", "application/xhtml+xml"),
        # Not .php, .asp …: those name the site's pages, not files it publishes.
        attachment_extensions=(".html", ".htm"),
        attached_anywhere=False,
        reader=("watcher.extract.html", "extract_html"),
    ),
    Format(
        "text",
        extensions=(".txt", ".text"),
        content_types=("text/plain",),
        attachment_extensions=(".txt",),
        reader=("watcher.extract.text", "extract_text"),
    ),
    Format(
        "docx",
        extensions=(".docx",),
        content_types=("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
        zip_member="word/document.xml",
        attachment_extensions=(".docx",),
        reader=("watcher.extract.docx", "extract_docx"),
    ),
    Format(
        "spreadsheet",
        extensions=(".xls", ".xlsx", ".et"),
        zip_member="xl/workbook.xml",
        attachment_extensions=(".xls", ".xlsx", ".et"),
        unreadable=f"a spreadsheet; {_READ}",
    ),
    Format("zip", magic=(b"PK\x03\x04",), unreadable="a zip archive that is not a .docx or .ofd"),
    Format(
        "pdf",
        extensions=(".pdf",),
        content_types=("application/pdf", "application/x-pdf"),
        magic=(b"%PDF-",),
        magic_window=1024,  # some servers put a few bytes before the header; readers accept them
        attachment_extensions=(".pdf",),
        reader=("watcher.extract.pdf", "extract_pdf"),
    ),
    Format(
        "doc",
        extensions=(".doc", ".wps"),
        content_types=("application/msword", "application/vnd.ms-works", "application/kswps", "application/wps-office.wps"),
        magic=(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),  # Compound File: .doc, .wps, .xls of old
        attachment_extensions=(".doc", ".wps"),
        unreadable=f"a legacy binary Word/WPS document (.doc/.wps); {_READ}",
    ),
    Format(
        "image",
        extensions=(".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff"),
        media_prefix="image/",
        magic=(b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*"),
        unreadable="an image; scanned documents need OCR, which watcher does not do",
    ),
    Format(
        "ofd",
        extensions=(".ofd",),
        content_types=("application/ofd",),
        zip_member="OFD.xml",
        attachment_extensions=(".ofd",),
        reader=("watcher.extract.ofd", "extract_ofd"),
    ),
)

_BY_NAME = {fmt.name: fmt for fmt in REGISTRY}
_BY_EXTENSION = {extension: fmt for fmt in REGISTRY for extension in fmt.extensions}
_BY_CONTENT_TYPE = {media: fmt for fmt in REGISTRY for media in fmt.content_types}
_BY_ATTACHMENT_EXTENSION = {extension: fmt for fmt in REGISTRY for extension in fmt.attachment_extensions}
_ZIP_MEMBERS = tuple((fmt.zip_member, fmt) for fmt in REGISTRY if fmt.zip_member)
_ZIP = _BY_NAME["zip"]
_DAMAGED_ZIP = _BY_NAME["docx"]  # a damaged zip named as nothing else: the DOCX reader says what is wrong

_MARKUP = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|meta|title|p|div|br|table|span|h[1-6])[\s>/]", re.I)
_SNIFF_BYTES = 4096


def unreadable_reason(name: str) -> str:
    """Why watcher cannot read the format `name`, in words."""
    fmt = _BY_NAME.get(name)
    return fmt.unreadable if fmt and fmt.unreadable else f"unsupported format {name!r}"


def _last_suffix(path: str) -> str:
    """From the last dot of the path's last segment on, lower case: ".pdf" alone ends so too."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


def detect_format(body: bytes, content_type: str = "", url: str = "") -> str:
    """The format of a body: "html", "docx", "pdf", "text", or an unreadable one ("doc", "image" …).

    Magic bytes first, then the content type, then the URL's extension, then sniffing.
    """
    media = content_type.split(";")[0].strip().lower()
    extension = _last_suffix(urlsplit(url).path if "://" in url else url)
    for fmt in REGISTRY:
        if any(_has_magic(body, magic, fmt.magic_window) for magic in fmt.magic):
            return _zip_format(body, _BY_CONTENT_TYPE.get(media) or _BY_EXTENSION.get(extension)) if fmt is _ZIP else fmt.name
    if media in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[media].name
    for fmt in REGISTRY:
        if fmt.media_prefix and media.startswith(fmt.media_prefix):
            return fmt.name
    if extension in _BY_EXTENSION:
        return _BY_EXTENSION[extension].name
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "html" if _MARKUP.search(head) else "text"


def _has_magic(body: bytes, magic: bytes, window: int) -> bool:
    return magic in body[:window] if window else body.startswith(magic)


def _zip_format(body: bytes, named: Format | None) -> str:
    """The format of a zip by the member it holds; a damaged one is the zip format its content
    type or name says (`named`), so that its reader says what is wrong with it."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return (named if named is not None and named.zip_member and named.readable else _DAMAGED_ZIP).name
    return next((fmt.name for member, fmt in _ZIP_MEMBERS if member in names), _ZIP.name)


def attachment_format(url: str) -> Format | None:
    """The format of the file a link leads to when the link is an attachment of its page (by
    the extension of the address's path: a link's label is the page's word, not the address's);
    None for any other link. Raises ValueError for a malformed address. Whether the link is one
    where it stands is the format's `attached_anywhere`."""
    return _BY_ATTACHMENT_EXTENSION.get(_last_suffix(urlsplit(url).path))


def followed_attachment(url: str) -> bool:
    """Whether an attachment link is followed: watcher reads the format it leads to."""
    try:
        fmt = attachment_format(url)
    except ValueError:
        return False
    return fmt is not None and fmt.readable


def is_document_name(name: str) -> bool:
    """Whether `name` ends in the extension of a format watcher knows (a file, not a reference)."""
    return _last_suffix(name) in _BY_EXTENSION
