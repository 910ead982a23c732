"""Scanned PDFs, built in memory from text: pages drawn as images (no text layer), the way a
scanner or a "print to image" leaves a published document. Used by tests/test_ocr.py and by
bench/bench_ocr.py; nothing is written to the repository.

A page is A4 at SCAN_DPI in grey, the body in Noto Sans CJK at about 12 pt: each paragraph opens
with a two-character indent and wraps at the right margin, as a printed 公文 does.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from hostile import pdf_with_image
from PIL import Image, ImageDraw, ImageFont

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # Debian fonts-noto-cjk
FONT_INDEX = 2  # the .ttc's Simplified Chinese face (Noto Sans CJK SC)

SCAN_DPI = 200
_PAGE = (round(8.27 * SCAN_DPI), round(11.69 * SCAN_DPI))  # A4
_MARGIN = round(1.0 * SCAN_DPI)
_FONT_PX = round(12 / 72 * SCAN_DPI)  # 12 pt
_LINE_PX = round(_FONT_PX * 1.6)
_PARAGRAPH_GAP = round(_FONT_PX * 0.4)


def corpus_paragraphs(name: str = "haishu-sti-plan-2021.txt", *, start: int = 0) -> list[str]:
    """The non-empty lines of a corpus text from `start` on (each line a paragraph)."""
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines[start:] if line.strip()]


def font(size: int = _FONT_PX) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC at `size` pixels."""
    return ImageFont.truetype(str(FONT), size, index=FONT_INDEX)


def _wrapped(paragraph: str, font: ImageFont.FreeTypeFont, width: int) -> Iterator[str]:
    """The printed lines of a paragraph: two ideographs of indent, then as many characters as fit."""
    line, room = "", width - 2 * _FONT_PX
    for char in paragraph:
        if line and font.getlength(line + char) > room:
            yield line
            line, room = "", width
        line += char
    if line:
        yield line


def draw_pages(paragraphs: Sequence[str], *, pages: int) -> tuple[list[Image.Image], list[str]]:
    """Up to `pages` page images of `paragraphs`, and the paragraphs that are on them, whole
    (a paragraph that does not fit on the last page is left out)."""
    face = font()
    width, height = _PAGE[0] - 2 * _MARGIN, _PAGE[1] - 2 * _MARGIN
    images: list[Image.Image] = []
    printed: list[str] = []
    queue = list(paragraphs)
    while queue and len(images) < pages:
        image = Image.new("L", _PAGE, 255)
        draw = ImageDraw.Draw(image)
        y = _MARGIN
        while queue:
            lines = list(_wrapped(queue[0], face, width))
            if y + len(lines) * _LINE_PX > _MARGIN + height:
                break
            for k, line in enumerate(lines):
                x = _MARGIN + (2 * _FONT_PX if k == 0 else 0)
                draw.text((x, y), line, font=face, fill=0)
                y += _LINE_PX
            y += _PARAGRAPH_GAP
            printed.append(queue.pop(0))
        images.append(image)
    return images, printed


def image_pdf(images: Sequence[Image.Image]) -> bytes:
    """A PDF whose pages are the images and nothing else (no text layer)."""
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=SCAN_DPI, save_all=True, append_images=list(images[1:]))
    return out.getvalue()


def searchable_scan(lines: Sequence[str]) -> bytes:
    """A one-page PDF of an image over the whole page with a text layer over it (what OCR software
    leaves: a "searchable" scan). Its text is ASCII in Helvetica: the layer, not its script, matters."""
    show = b"".join(b"BT /F1 12 Tf 72 %d Td (%s) Tj ET\n" % (760 - 20 * k, line.encode("ascii"))
                    for k, line in enumerate(lines))
    return pdf_with_image(64, 64, zlib.compress(bytes([255]) * 64 * 64), b"/FlateDecode", show)


def scanned_pdf(paragraphs: Sequence[str], *, pages: int = 1) -> tuple[bytes, list[str]]:
    """An image-only PDF of the paragraphs, and the paragraphs printed on it."""
    images, printed = draw_pages(paragraphs, pages=pages)
    return image_pdf(images), printed
