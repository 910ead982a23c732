"""decode(): configured encoding, BOM, HTTP charset, <meta>, detection — with real plan text."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from watcher.decode import codec_name, decode, meta_charset

CORPUS = Path(__file__).parent / "data" / "corpus"


def _gb2312_paragraphs(count: int) -> list[str]:
    """Paragraphs of the real cixi plan that GB2312 can encode (most of them)."""
    lines = (CORPUS / "cixi-sti-plan-2021.txt").read_text(encoding="utf-8").splitlines()
    found = []
    for line in (line.strip() for line in lines):
        try:
            line.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if len(line) > 40:
            found.append(line)
    assert len(found) >= count
    return found[:count]


def _page(paragraphs: list[str], head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head>{head}<title>规划</title></head><body>{body}</body></html>"


def test_gb2312_page_without_any_declaration_decodes_as_chinese() -> None:
    page = _page(_gb2312_paragraphs(12))
    assert decode(page.encode("gb2312"), markup=True) == page


def test_short_gb2312_text_without_declaration_is_not_mojibake() -> None:
    text = _gb2312_paragraphs(1)[0][:30]
    assert decode(text.encode("gb2312")) == text


@pytest.mark.parametrize("where", ["meta", "http-equiv", "header"])
def test_declared_gb2312_with_gbk_only_characters(where: str) -> None:
    # 镕 喆 堃 珺 are outside GB2312 but common in names; pages declaring gb2312 carry them.
    sentence = "朱镕基、王喆、李堃、张珺出席会议。" + _gb2312_paragraphs(1)[0]
    head = {
        "meta": '<meta charset="gb2312">',
        "http-equiv": '<meta http-equiv="Content-Type" content="text/html; charset=GB2312">',
        "header": "",
    }[where]
    page = _page([sentence], head)
    body = page.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    decoded = decode(body, markup=True, http_charset="gb2312" if where == "header" else None)
    assert decoded == page


def test_bom_wins_over_http_and_meta() -> None:
    page = _page(_gb2312_paragraphs(2), '<meta charset="gbk">')
    assert decode(codecs.BOM_UTF8 + page.encode("utf-8"), http_charset="gbk", markup=True) == page
    assert decode(codecs.BOM_UTF16_LE + page.encode("utf-16-le"), http_charset="gbk", markup=True) == page


def test_configured_encoding_wins_over_everything() -> None:
    page = _page(_gb2312_paragraphs(2), '<meta charset="utf-8">')
    assert decode(page.encode("gbk"), http_charset="utf-8", override="gbk", markup=True) == page


def test_http_charset_wins_over_meta() -> None:
    page = _page(_gb2312_paragraphs(2), '<meta charset="big5">')
    assert decode(page.encode("gb18030"), http_charset="gb2312", markup=True) == page


def test_meta_is_only_read_for_markup() -> None:
    text = '<meta charset="big5">' + _gb2312_paragraphs(1)[0]
    # Plain text is never searched for a <meta> declaration: detection decides.
    assert decode(text.encode("gb18030")) == text


def test_utf8_body_beats_a_wrong_declaration() -> None:
    page = _page(_gb2312_paragraphs(3), '<meta charset="gb2312">')
    assert decode(page.encode("utf-8"), markup=True) == page
    assert decode(page.encode("utf-8"), http_charset="gbk") == page


def test_latin1_server_default_does_not_make_mojibake() -> None:
    page = _page(_gb2312_paragraphs(3))
    assert decode(page.encode("gb18030"), http_charset="ISO-8859-1", markup=True) == page


def test_latin1_is_kept_for_real_latin1_text() -> None:
    text = "Café au lait, crème brûlée, naïve façade."
    assert decode(text.encode("latin-1"), http_charset="iso-8859-1") == text


def test_undecodable_bytes_are_replaced_only_as_last_resort() -> None:
    assert decode("中文".encode() + b"\xff\xfe\xfa", override="utf-8") == "中文\ufffd\ufffd\ufffd"


def test_codec_names() -> None:
    for label in ("gb2312", "GBK", "gb_2312-80", "x-gbk", "GB18030", "cp936"):
        assert codec_name(label) == "gb18030"
    assert codec_name("UTF8") == "utf-8"
    assert codec_name("no-such-charset") is None
    assert meta_charset(b'<html><head><meta http-equiv="content-type" content="text/html;charset=gbk">') == "gb18030"
    assert meta_charset(b'<?xml version="1.0" encoding="UTF-8"?><html>') == "utf-8"
    assert meta_charset(b"<html><head><title>x</title>") is None


@pytest.mark.parametrize("label", ["undefined", "idna", "rot13", "base64"])
def test_a_charset_a_page_names_that_cannot_decode_bytes_is_ignored(label: str) -> None:
    body = f'<html><head><meta charset="{label}"></head><body><p>中文内容</p></body></html>'.encode()
    assert codec_name(label) is None
    assert "中文内容" in decode(body, markup=True)
    assert "中文内容" in decode(body, http_charset=label, markup=True)
