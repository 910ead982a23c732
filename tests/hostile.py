"""Hostile documents, built in memory: what a fault run feeds watcher. Used by the tests and by
bench/bench_hostile.py; nothing is written to the repository.

Each builder returns the bytes of one file. Sizes are parameters so that tests can keep them
small and the bench can use the sizes of the fault run.
"""

from __future__ import annotations

import io
import socket
import ssl
import struct
import threading
import time
import zipfile
import zlib

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_PARAGRAPH = "<w:p><w:r><w:t>到2025年，全市科技型中小企业数达到3700家。</w:t></w:r></w:p>"


def _document_xml_pieces(size: int) -> list[bytes]:
    """A valid document.xml of about `size` bytes, as pieces (never one string of that size)."""
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}"><w:body>'
    tail = "</w:body></w:document>"
    paragraph = _PARAGRAPH.encode("utf-8")
    chunk = paragraph * (1024 * 1024 // len(paragraph))
    pieces, total = [head.encode()], len(head)
    while total < size:
        pieces.append(chunk)
        total += len(chunk)
    pieces.append(tail.encode())
    return pieces


def docx_with_document_xml(size: int) -> bytes:
    """A .docx whose word/document.xml is `size` bytes of real paragraphs (the fault run: 99 MB in
    a 404 KB file). Its zip headers are true."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=size > 2**31) as member:
            for piece in _document_xml_pieces(size):
                member.write(piece)
    return out.getvalue()


def lying_docx(inflated: int, declared: int = 1024) -> bytes:
    """A .docx whose word/document.xml inflates to `inflated` bytes while both its local header and
    the central directory declare `declared` (the fault run: 1 KB declared, 5 GiB inside)."""
    body = bytearray(docx_with_document_xml(inflated))
    # (signature, offset of the uncompressed size, of the name length, of the name) in a local
    # file header and in a central directory entry
    for signature, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = body.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", body, at + length_at)[0]
            if bytes(body[at + name_at : at + name_at + length]) == b"word/document.xml":
                struct.pack_into("<I", body, at + size_at, declared)
            at = body.find(signature, at + 4)
    return bytes(body)


def pdf_with_operator_stream(operators: int) -> bytes:
    """A one-page PDF whose content stream shows `operators` text strings: a few hundred KB of
    Flate data that a PDF reader turns into millions of characters (the fault run: 60 MB of text
    operators in 214 KB)."""
    show = b"BT /F1 1 Tf 10 10 Td (ABCDEFGHIJKLMNOPQRSTUVWXYZ) Tj ET\n"
    compressor = zlib.compressobj(9)
    packed = bytearray()
    block = show * 10_000
    left = operators
    while left > 0:
        count = min(left, 10_000)
        packed += compressor.compress(block if count == 10_000 else show * count)
        left -= count
    packed += compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + bytes(packed) + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects)


def pdf_with_image(width: int, height: int, data: bytes, codec: bytes, text: bytes = b"") -> bytes:
    """A one-page A4 PDF drawing one grey image of width × height pixels (its stream `data`,
    encoded with the filter `codec`) over the whole page, then the text operators `text` (font
    /F1, Helvetica) over it."""
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q\n" + text
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Im0 5 0 R >> /Font << /F1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter %s /Length %d >>\nstream\n" % (width, height, codec, len(data))
        + data + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects)


def pdf_with_declared_image(width: int, height: int) -> bytes:
    """A PDF drawing one JPEG image that declares width × height pixels, in a few bytes: a
    renderer decodes such an image whole (the stream caps do not decode image codecs)."""
    return pdf_with_image(width, height, b"\xff\xd8\xff\xd9", b"/DCTDecode")  # an empty JPEG


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of these numbered objects (1 is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def deep_html(levels: int, tag: str = "div") -> bytes:
    """A page whose body nests `levels` elements, with a real paragraph at the bottom."""
    paragraph = "<p>到2025年，全市科技型中小企业数达到3700家，高新技术企业数达到1200家。</p>"
    return (
        "<html><head><title>深层页面</title></head><body>"
        + f"<{tag}>" * levels
        + paragraph
        + f"</{tag}>" * levels
        + "</body></html>"
    ).encode("utf-8")


def never_ends() -> None:
    """A job that takes as long as it is let: what a reader stuck on hostile markup does."""
    while True:
        time.sleep(0.1)


class TrickleServer:
    """A raw socket server that answers every request with a status line and headers sent one
    byte every `pause` seconds; over TLS with `tls` (a server context)."""

    def __init__(self, pause: float = 0.5, tls: ssl.SSLContext | None = None) -> None:
        self.pause = pause
        self.tls = tls
        self.connections = 0
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}/plan.html"

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n<p>late</p>"
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.recv(65536)
        except OSError:
            conn.close()
            return
        with conn:
            for byte in answer:
                if self.stopped.wait(self.pause):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the client gave up
                    return

    def __enter__(self) -> TrickleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.listener.close()
        self.thread.join(5)


def fill_memory() -> int:
    """A job that takes all the memory it may, lets it go and succeeds: a worker's peak is then at
    its limit however little the next job needs."""
    held = []
    try:
        while True:
            held.append(bytearray(8 * 2**20))
    except MemoryError:
        taken = len(held)
    del held
    return taken
