"""Bytes → text: configured encoding, BOM, HTTP charset, <meta> charset, then detection.

Chinese government sites declare GB2312 and serve GBK or GB18030 characters, declare one charset
and save files in another, or send no charset at all. The rules below trust a declaration only
as far as the bytes bear it out, so the result is never mojibake: a declaration that the bytes
contradict falls through to the next source, and `errors="replace"` is the very last resort.
"""

from __future__ import annotations

import codecs
import functools
import re

from charset_normalizer import from_bytes

# GB2312 pages routinely carry GBK/GB18030-only characters (镕, 堃, 珺 …); GB18030 is a superset of both.
_GB_ALIASES = frozenset({"gb2312", "gbk", "gb_2312-80", "gb_2312", "gb-2312", "x-gbk", "csgb2312", "cp936", "ms936",
                         "windows-936", "euc-cn", "euccn", "chinese", "iso-ir-58", "hz-gb-2312", "gb18030"})
# Declarations that decode any byte string without error, so they cannot be checked by decoding.
_SINGLE_BYTE_LATIN = frozenset({"iso8859-1", "latin-1", "cp1252", "ascii"})

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# <meta charset="gbk">, <meta http-equiv="Content-Type" content="text/html; charset=gb2312">,
# <?xml version="1.0" encoding="utf-8"?>
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)
_META_SCAN_BYTES = 8192
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MIN_UTF8_EVIDENCE = 8  # non-ASCII bytes that must decode as UTF-8 before UTF-8 beats a declaration
_ASCII = bytes(range(0x80))


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label, with GB2312/GBK widened to GB18030; None if unknown
    or not a codec that decodes any bytes to text (rot13, idna, "undefined" …: a page may name
    anything)."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB_ALIASES:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if not decodes_bytes(name):
        return None
    return "gb18030" if name in ("gb2312", "gbk") else name


@functools.cache
def decodes_bytes(name: str) -> bool:
    """Whether codec `name` turns every byte sequence into text with errors="replace", as decode
    uses it."""
    try:  # bytes.decode raises TypeError for a codec whose result is not str
        bytes(range(256)).decode(name, errors="replace")
    except (UnicodeError, LookupError, ValueError, TypeError):
        return False
    return True


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def meta_charset(body: bytes) -> str | None:
    """The charset a page declares in its markup (<meta> or XML declaration), as a codec name."""
    head = body[:_META_SCAN_BYTES]
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return codec_name(found.group(1).decode("ascii", "ignore")) if found else None


def _non_ascii(body: bytes) -> int:
    return len(body.translate(None, _ASCII))


def _is_utf8(body: bytes) -> bool:
    """True when the body holds enough multi-byte UTF-8 to be UTF-8 beyond reasonable doubt."""
    return _non_ascii(body) >= _MIN_UTF8_EVIDENCE and _strict(body, "utf-8") is not None


def _cjk_ratio(text: str) -> float:
    non_ascii = sum(1 for ch in text if ord(ch) >= 0x80)
    return len(_CJK.findall(text)) / non_ascii if non_ascii else 0.0


def _detect(body: bytes) -> str | None:
    """Detection for a body nobody declared (or declared wrongly)."""
    if body.isascii():
        return body.decode("ascii")
    text = _strict(body, "utf-8")
    if text is not None:
        return text
    best = from_bytes(body).best()
    guess = codec_name(best.encoding) if best is not None else None
    text = _strict(body, guess) if guess else None
    # A statistical guess of a non-CJK code page for bytes that are clean GB18030 Chinese is the
    # classic short-page miss; GB18030 is by far the likeliest source encoding of such bytes.
    if text is None or _cjk_ratio(text) < 0.5:
        gb = _strict(body, "gb18030")
        if gb is not None and _cjk_ratio(gb) >= 0.8:
            return gb
    return text


def decode(body: bytes, *, http_charset: str | None = None, override: str | None = None, markup: bool = False) -> str:
    """Decode a fetched or local body to text.

    Order: `override` (the source's configured `encoding`), a byte-order mark, the HTTP charset,
    for markup the <meta> charset, then detection. A declared charset the bytes do not decode in
    falls through to the next source; body bytes that are valid UTF-8 beat a non-UTF-8 declaration.
    """
    forced = codec_name(override)
    if forced:
        return body.decode(forced, errors="replace")
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")

    declared = [codec_name(http_charset)]
    if markup:
        declared.append(meta_charset(body))
    utf8 = _is_utf8(body)
    for charset in declared:
        if not charset:
            continue
        if utf8 and charset not in ("utf-8", "ascii"):
            return body.decode("utf-8")
        if charset in _SINGLE_BYTE_LATIN and not body.isascii():
            # Latin-1 decodes anything; it is a server default far more often than the truth.
            detected = _detect(body)
            if detected is not None and _CJK.search(detected):
                return detected
        text = _strict(body, charset)
        if text is not None:
            return text
    detected = _detect(body)
    if detected is not None:
        return detected
    return body.decode(declared[0] or "utf-8", errors="replace")
