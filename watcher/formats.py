"""The document formats watcher knows, each declared once: its extensions, content types and
magic bytes (how a body or a link is recognised), whether watcher reads it (its reader, or the
message saying why not), and which links to it are a page's attachments.

Everything that asks "what format is this?" reads `REGISTRY`: format detection
(watcher.extract), the attachment links the HTML reader keeps, which of them a check follows
(watcher.attachments), and which `watcher diff` operands look like files (watcher.references).
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
    "compound_streams",
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
    # A Compound File (the legacy Office container: .doc, .wps, .xls, .et) holding one of these
    # streams is this format; one holding none of them is the format its content type or extension
    # names, if that is a Compound File format, else the format of that magic.
    compound_streams: tuple[str, ...] = ()
    attachment_extensions: tuple[str, ...] = ()  # a link ending so is an attachment of its page
    # … wherever it is on the page; False: only within the document's own text, since a site's
    # navigation (menus, breadcrumbs, related items) links its own pages so.
    attached_anywhere: bool = True
    reader: tuple[str, str] | None = None
    unreadable: str = ""

    @property
    def readable(self) -> bool:
        return self.reader is not None


_READ = "only Word (.docx, .doc, .wps), spreadsheets, OFD, PDF, HTML and text can be read"
_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

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
        content_types=(
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/kset",
            "application/wps-office.et",
        ),
        zip_member="xl/workbook.xml",
        compound_streams=("Workbook", "Book"),  # Excel 97 and Kingsoft ET; Excel 5
        attachment_extensions=(".xls", ".xlsx", ".et"),
        reader=("watcher.extract.spreadsheet", "extract_spreadsheet"),
    ),
    Format(
        "zip",
        extensions=(".zip", ".rar", ".7z"),
        magic=(b"PK\x03\x04",),
        # archives are named in a check's note, not fetched: watcher does not unpack them
        attachment_extensions=(".zip", ".rar", ".7z"),
        unreadable="an archive (.zip, .rar, .7z) that is not a .docx, .xlsx or .ofd; watcher does not unpack archives",
    ),
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
        extensions=(".doc", ".wps", ".dot"),
        content_types=("application/msword", "application/vnd.ms-works", "application/kswps", "application/wps-office.wps"),
        magic=(_COMPOUND_FILE,),
        compound_streams=("WordDocument",),  # Word 97 and Kingsoft WPS
        attachment_extensions=(".doc", ".wps"),
        reader=("watcher.extract.office", "extract_doc"),
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
_COMPOUND = next(fmt for fmt in REGISTRY if _COMPOUND_FILE in fmt.magic)
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
    """The format of a body: "html", "docx", "doc", "spreadsheet", "pdf", "text", or an
    unreadable one ("image" …).

    Magic bytes first, then the content type, then the URL's extension, then sniffing. A Compound
    File is a spreadsheet or a Word document by the streams it holds, else by its content type,
    then its extension.
    """
    for fmt in REGISTRY:
        if any(_has_magic(body, magic, fmt.magic_window) for magic in fmt.magic):
            if fmt is _ZIP:
                return _zip_format(body, _named_format(content_type, url))
            if fmt is _COMPOUND:
                return _compound_format(body, content_type, url)
            return fmt.name
    named = _named_format(content_type, url)
    if named is not None:
        return named.name
    head = body[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "html" if _MARKUP.search(head) else "text"


def _named_format(content_type: str, url: str) -> Format | None:
    """The format the content type names, else the URL's extension; None when neither does."""
    media = content_type.split(";")[0].strip().lower()
    if media in _BY_CONTENT_TYPE:
        return _BY_CONTENT_TYPE[media]
    for fmt in REGISTRY:
        if fmt.media_prefix and media.startswith(fmt.media_prefix):
            return fmt
    return _BY_EXTENSION.get(_last_suffix(urlsplit(url).path if "://" in url else url))


def compound_streams(body: bytes) -> frozenset[str] | None:
    """The names of the streams at the top of a Compound File; None when it is not a readable one."""
    import olefile  # only for Compound Files: most runs read none

    try:
        with olefile.OleFileIO(io.BytesIO(body)) as compound:
            return frozenset(path[0] for path in compound.listdir(streams=True, storages=False) if len(path) == 1)
    except Exception:  # olefile raises OSError, ValueError, IndexError … on damaged files
        return None


def _compound_format(body: bytes, content_type: str, url: str) -> str:
    streams = compound_streams(body) or frozenset()
    by_stream = next((fmt for fmt in REGISTRY if streams.intersection(fmt.compound_streams)), None)
    if by_stream is not None:
        return by_stream.name
    named = _named_format(content_type, url)
    return named.name if named is not None and named.compound_streams else _COMPOUND.name


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
