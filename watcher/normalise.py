"""Display text → comparison form.

The display form is the text as published (only export artefacts and runs of white space are
cleaned). The comparison form is what two versions are compared on: full-width and half-width
punctuation and digits, white space, line wrapping, Traditional vs Simplified script, Word-export
artefacts and a `+` lost to a space all compare equal in it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import opencc

# Word/WPS export artefacts: "[bookmark: _Toc14345]", "[_Toc123]", "{PAGE}" fields.
_EXPORT_MARKS = re.compile(r"\[bookmark:\s*[^\]]*\]|\[_Toc\d+\]|\{\s*(?:PAGE|NUMPAGES)\s*\}", re.I)
# C0/C1 control characters other than tab and newline, and the bidirectional overrides and
# isolates (U+202A–E, U+2066–9, marks U+200E/F, U+061C): never text, and dangerous on a terminal or
# in a mail (an override can make a line read backwards).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SPACE_RUN = re.compile(r"[ \t\u3000\u00a0\u2002-\u200b\ufeff]+")
_ALL_SPACE = re.compile(r"[\s\u3000\u00a0\u2002-\u200b\ufeff]+")

# What NFKC leaves alone but publishers use interchangeably.
_PUNCT_MAP = str.maketrans(
    {
        "「": '"',
        "」": '"',
        "“": '"',
        "”": '"',
        "『": "'",
        "』": "'",
        "‘": "'",
        "’": "'",
        "〔": "[",
        "〕": "]",
        "【": "[",
        "】": "]",
        "—": "-",
        "–": "-",
        "―": "-",
        "─": "-",
        "～": "~",
        "〜": "~",
        "·": "·",
        "・": "·",
        "．": ".",
        "｡": "。",
        "+": "",  # "技术+制度" is often published as "技术 制度": a lost "+" is noise
    }
)


# Taiwan and Hong Kong editions (s2tw, s2hk) use variant characters that t2s keeps as they are.
# Folding them is safe in a comparison form: both versions are folded alike.
_VARIANTS = str.maketrans("著衞爲僞啓綫麪峯羣裏牀嘆鷄衆喫纔", "着卫为伪启线面峰群里床叹鸡众吃才")


def _replacer(table: Mapping[int, str | int | None]) -> Callable[[str], str]:
    """str.translate(table) as a chain of str.replace, each done only when its character is
    there: ten times faster than translate on long Chinese texts, where few characters map."""
    pairs = tuple((chr(k), "" if v is None else v if isinstance(v, str) else chr(v)) for k, v in table.items())

    def apply(text: str) -> str:
        for old, new in pairs:
            if old in text:
                text = text.replace(old, new)
        return text

    return apply


_fold_punct = _replacer(_PUNCT_MAP)
_fold_variants = _replacer(_VARIANTS)


@lru_cache(maxsize=1)
def _converters() -> tuple[opencc.OpenCC, opencc.OpenCC]:
    import opencc  # here: `printable` is imported by the CLI's start, which must stay quick

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def simplified(text: str) -> str:
    """A canonical Simplified form. t2s alone leaves some variants unconverted (慈谿 in one phrase,
    慈溪 in another); going through Traditional first maps both editions onto the same characters."""
    t2s, s2t = _converters()
    return _fold_variants(t2s.convert(s2t.convert(text)))


# Full-width ASCII → half-width, except "，" (a full-width comma is always a clause delimiter).
_READING_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if code != 0xFF0C}
_READING_WIDTH.update({0x3000: 0x20, 0x301C: 0x7E, 0x2212: 0x2D})
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef“”‘’"
_SPACE_BY_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_ANY_SPACE = re.compile(r"\s+")


def _before_script(text: str) -> str:
    """The reading form up to the script conversion (the separator of batches taken out)."""
    text = clean_display(text).translate(_READING_WIDTH)
    return _SPACE_BY_CJK.sub("", _ANY_SPACE.sub(" ", text)).strip().replace(_SEPARATOR, "")


def reading_form(text: str) -> str:
    """The form figures are read in: full-width digits, letters and signs half-width (the
    full-width comma kept), Traditional script Simplified (t2s), white space next to Chinese
    characters removed. Unlike the comparison form it keeps punctuation and words as written."""
    text = _before_script(text)
    return _converters()[0].convert(text) if not text.isascii() else text


def reading_forms(texts: list[str]) -> list[str]:
    """reading_form of many texts at once: one pass through the script converter."""
    prepared = [_before_script(t) for t in texts]
    if not prepared:
        return []
    converted: str = _converters()[0].convert(_SEPARATOR.join(prepared))
    return converted.split(_SEPARATOR)


def printable(text: str) -> str:
    """Text safe to print on a terminal, in a mail or a page: the control characters and the
    bidirectional controls of _CONTROLS removed, a carriage return made a line break (it could
    overwrite a line); tab and newline kept. Every output but JSON (see escape_controls) puts
    document text, stored text (which may predate the extraction that strips them), server replies
    and log lines through this."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


_NOT_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str) -> str:
    """`printable` text that XML 1.0 can also hold (a .docx, an Atom feed): without the
    non-characters U+FFFE, U+FFFF and lone surrogates, which an XML writer refuses or a parser rejects."""
    return _NOT_XML.sub("", printable(text))


def escape_controls(text: str) -> str:
    """JSON text with each character of _CONTROLS written as a \\uXXXX escape: a parser reads
    back the very same string, a terminal that shows the file sees no control. (json.dumps with
    ensure_ascii=False escapes only C0 controls; DEL, C1 and the bidirectional controls stay raw.)
    For JSON only: outside a string literal JSON has no such character to escape."""
    return _CONTROLS.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def clean_display(text: str) -> str:
    """Remove export artefacts and control characters and collapse runs of white space; keep
    everything else as published."""
    text = _CONTROLS.sub("", _EXPORT_MARKS.sub("", text))
    return _SPACE_RUN.sub(" ", text).strip()


def _width_and_space(text: str) -> str:
    text = unicodedata.normalize("NFKC", _EXPORT_MARKS.sub("", text))
    return _fold_punct(_ALL_SPACE.sub("", text))


def comparison_form(text: str, known: KnownForms | None = None) -> str:
    """The form two texts are compared on (see the module docstring). With `known`, a long text
    is converted by lines and sentences, and what the other version of a diff shares is reused."""
    if known is None or _SEPARATOR in text:  # the batches take the separator out; a text keeps it
        return simplified(_width_and_space(text))
    return known.whole(text)


_SEPARATOR = "\ue000"  # private-use: matches no phrase in the script converter
# No phrase of the script converter's dictionaries holds "。" (tests/test_normalise.py reads them),
# so a conversion never runs across one: a text converts alike whole or cut after each "。".
_SENTENCE_STOP = "。"


class KnownForms:
    """The forms computed in one diff, by the text they were computed from: the two versions
    share most of their lines and clauses, and each is converted once. Not a value: a memo that
    lives as long as one diff."""

    def __init__(self) -> None:
        self.clauses: dict[str, str] = {}  # clause text → comparison form
        self._lines: dict[str, str] = {}  # line → its form up to the script conversion
        self._sentences: dict[str, str] = {}  # a piece of that form ending in "。" → converted

    def forms(self, texts: list[str]) -> list[str]:
        missing = list(dict.fromkeys(text for text in texts if text not in self.clauses))
        if missing:
            self.clauses.update(zip(missing, _converted([_width_and_space(t) for t in missing]), strict=True))
        return [self.clauses[text] for text in texts]

    def whole(self, text: str) -> str:
        """comparison_form(text), the very same string. The width and space folding goes line by
        line (NFKC never joins across a line break, white space is dropped anyway); the export
        marks, which may span lines, are taken out of the whole text first."""
        lines = _EXPORT_MARKS.sub("", text).split("\n")
        missing = [line for line in dict.fromkeys(lines) if line not in self._lines]
        self._lines.update((line, _fold_punct(_ALL_SPACE.sub("", unicodedata.normalize("NFKC", line)))) for line in missing)
        folded = "".join(self._lines[line] for line in lines)
        pieces = [piece + _SENTENCE_STOP for piece in folded.split(_SENTENCE_STOP)]
        pieces[-1] = pieces[-1][: -len(_SENTENCE_STOP)]
        fresh = [piece for piece in dict.fromkeys(pieces) if piece not in self._sentences]
        self._sentences.update(zip(fresh, _converted(fresh), strict=True))
        return "".join(self._sentences[piece] for piece in pieces)


def _converted(prepared: list[str]) -> list[str]:
    """simplified() of each text, in one pass through the script converter."""
    if not prepared:
        return []
    return simplified(_SEPARATOR.join(text.replace(_SEPARATOR, "") for text in prepared)).split(_SEPARATOR)


def comparison_forms(texts: list[str], known: KnownForms | None = None) -> list[str]:
    """comparison_form of many texts at once: one pass through the script converter.

    `known` holds forms computed before (the other version of one diff shares most of its
    clauses); only the texts it lacks are converted, and their forms are added to it. The
    separator matches no dictionary phrase, so a text converts alike alone or in any batch."""
    if not texts:
        return []
    return (KnownForms() if known is None else known).forms(texts)


_LOOSE_DROP = re.compile(r"[^\w%.<>=≤≥~]|_|(?<!\d)\.|\.(?!\d)")


def loose_form(key: str) -> str:
    """A comparison form without punctuation and symbols, for telling a reworded clause from one
    that only lost or gained a mark. What a quantity is made of stays: decimal points, percent
    signs and comparison signs (>2.8 → ≥2.8 is a change)."""
    return _LOOSE_DROP.sub("", key)


def content_hash(comparison_text: str) -> str:
    """The identity of a version: sha256 of its comparison form."""
    return hashlib.sha256(comparison_text.encode("utf-8")).hexdigest()
