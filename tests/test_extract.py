"""Extraction of real published versions (HTML pages, DOCX, PDF, text exports) into Documents.

Documents are compared as lists of comparison forms: a paragraph or heading by
comparison_form(text), a table by the comparison form of every cell, row by row.
"""

from __future__ import annotations

import binascii
import difflib
import functools
import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from watcher.errors import ExtractError
from watcher.extract import FORMATS, detect_format, extract, extract_file
from watcher.extract.pdf import check_streams
from watcher.model import Block, Document
from watcher.normalise import comparison_form

CASES = Path(__file__).parent / "data" / "cases"
CORPUS = Path(__file__).parent / "data" / "corpus"

Form = str | tuple[tuple[str, ...], ...]


def forms(document: Document) -> list[Form]:
    return [
        tuple(tuple(comparison_form(cell) for cell in row) for row in block.rows)
        if block.kind == "table"
        else comparison_form(block.text)
        for block in document.blocks
    ]


def case(name: str, side: str) -> Document:
    (path,) = (CASES / name).glob(f"{side}.*")
    return extract_file(path)


def tables(document: Document) -> list[Block]:
    return [block for block in document.blocks if block.kind == "table"]


def differences(old: list[Form], new: list[Form]) -> list[tuple[str, list[Form], list[Form]]]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [(tag, old[i1:i2], new[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


# ---------------------------------------------------------------- the labelled cases


def test_haishu_page_noise_extracts_to_the_same_document() -> None:
    old, new = case("haishu-noise-page", "old"), case("haishu-noise-page", "new")
    assert forms(old) == forms(new)
    assert len(old.blocks) > 150
    assert old.title == "宁波市海曙区人民政府办公室关于印发海曙区科技创新“十四五”规划的通知"
    for document in (old, new):
        text = document.text
        for furniture in ("浏览次数", "311", "4720", "相关链接", "打印本页", "关闭窗口", "分享", "主办单位", "当前位置",
                          "政务公开", "索引号", "索 引 号", "发布机构", "成文日期", "网站标识码"):
            assert furniture not in text, furniture
        assert "海曙区科技创新“十四五”规划" in text
        assert document.blocks[-1].text.startswith("解读")


def test_haishu_page_keeps_its_indicator_table() -> None:
    (table,) = tables(case("haishu-noise-page", "new"))
    assert table.rows[0] == ("序号", "目标名称", "2020年完成值", "2025年目标值")
    assert table.rows[3] == ("3", "有效国家高新技术企业数（家）", "247", "500")
    assert len(table.rows) == 9


def test_cixi_pdf_extracts_to_the_same_document_as_its_text() -> None:
    text, pdf = case("cixi-pdf-noise", "old"), case("cixi-pdf-noise", "new")
    assert forms(pdf) == forms(text)
    assert pdf.title == "慈溪市科技创新“十四五”规划"
    assert pdf.format == "pdf" and text.format == "text"
    assert not any(mark in pdf.text for mark in ("— 1 —", "— 14 —", "- 1 -"))


def test_cixi_pdf_rejoins_wrapped_lines_and_merges_a_table_over_a_page_break() -> None:
    pdf = case("cixi-pdf-noise", "new")
    first = pdf.blocks[0].text
    assert first.startswith("“十四五”时期是慈溪") and first.endswith("编制本规划。")
    box1, box2 = tables(pdf)
    assert box1.rows[0] == ("指标", "2015年", "2020年目标值", "2020年", "备注")
    assert box1.rows[1][-1] == "超额完成"
    # 专栏2 starts on one page and goes on after the break with its header repeated.
    assert [row[0] for row in box2.rows].count("指标") == 1
    assert len(box2.rows) == 11
    assert box2.rows[-1] == ("高新技术产业投资（亿元）", "31.6", "50")


def test_cixi_export_noise_extracts_to_the_same_document() -> None:
    old, new = case("cixi-noise-export", "old"), case("cixi-noise-export", "new")
    assert forms(old) == forms(new)
    assert not any("bookmark" in block.text for block in old.blocks)


def test_cixi_docx_and_page_differ_only_in_the_changed_sentence() -> None:
    old, new = case("cixi-docx-vs-page", "old"), case("cixi-docx-vs-page", "new")
    assert old.title == new.title == "慈溪市科技创新“十四五”规划"
    # The DOCX marks headings; the page prints them as plain lines: compare the texts only.
    changed = differences(forms(old), forms(new))
    assert len(changed) == 1
    tag, before, after = changed[0]
    assert tag == "replace" and len(before) == len(after) == 1
    assert "重点实验室" in str(before[0]) and "重点实验室" in str(after[0])
    assert [b.level for b in old.blocks if b.kind == "heading"] == [1, 2, 2]


def test_haishu_new_measure_is_exactly_one_inserted_block() -> None:
    old, new = case("haishu-new-measure-html", "old"), case("haishu-new-measure-html", "new")
    (change,) = differences(forms(old), forms(new))
    tag, before, after = change
    assert tag == "insert" and before == [] and len(after) == 1
    assert "上市培育工程" in str(after[0])


# ---------------------------------------------------------------- text layouts


def test_haishu_table1_one_cell_a_line_becomes_rows() -> None:
    document = extract_file(CORPUS / "haishu-sti-plan-2021.txt")
    table1 = next(t for t in tables(document) if t.rows[0][0] == "序号")
    assert table1.rows[0] == ("序号", "目标名称", "2020年完成值", "2025年目标值")
    assert table1.rows[1] == ("1", "研发与试验发展经费支出占地区生产总值比重(%)", "2.28", "3.6")
    assert table1.rows[8] == ("8", "技术交易额(亿元)", "17.5", "25")
    assert len(table1.rows) == 9
    captions = [b.text for b in document.blocks if b.kind == "paragraph" and b.text.startswith("表1")]
    assert captions == ["表1 海曙区“十四五”科技创新核心指标目标"]
    # 专栏10 (names and long descriptions, no figures) stays paragraphs, as the page prints it.
    assert "综合体名称" in [b.text for b in document.blocks if b.kind == "paragraph"]


def test_cixi_tab_led_cells_become_rows() -> None:
    document = extract_file(CORPUS / "cixi-sti-plan-2021.txt")
    box1, box2 = tables(document)
    assert box1.rows[0] == ("指标", "2015年", "2020年目标值", "2020年", "备注")
    assert box1.rows[1] == ("全社会R&D经费占GDP比重（%）", "2.63", ">2.8", "3.2", "超额完成")
    assert box2.rows[2] == ("规模以上工业企业R&D经费支出占营业收入比重（%）", "1.34(2019)", "提高幅度不低于宁波平均水平")
    assert len(box2.rows) == 11
    # the indented line after the box is a paragraph again
    after = document.blocks[document.blocks.index(box1) + 1]
    assert after.kind == "paragraph" and after.text.startswith("准确把握创新引领")


def test_one_cell_a_line_without_an_index_column_uses_labels_and_figures() -> None:
    text = "\n".join(["专栏3 主要指标", "", "指标", "2020年", "基期值", "2025年", "目标值",
                      "研发投入强度(%)", "2.1", "3.0", "发明专利(件)", "1200", "2000", "", "下一段正文，不是表格。"])
    document = extract(text.encode("utf-8"), content_type="text/plain")
    (table,) = tables(document)
    assert table.rows == (("指标", "2020年基期值", "2025年目标值"), ("研发投入强度(%)", "2.1", "3.0"), ("发明专利(件)", "1200", "2000"))
    assert document.blocks[-1].text == "下一段正文，不是表格。"


def test_text_paragraphs_strip_indents_and_export_marks_and_decode_gb2312() -> None:
    text = "关于某某的规划\n\u3000\u3000第一段，内容。\n\n  [bookmark: _Toc123]一、总体要求\n\t\n第二段。\n"
    document = extract(text.encode("gb18030"), url="http://example.org/plan.txt")
    assert document.format == "text"
    assert document.title == "关于某某的规划"
    assert [b.text for b in document.blocks] == ["第一段，内容。", "一、总体要求", "第二段。"]


def test_tabs_in_numbered_and_indented_paragraphs_are_not_tables() -> None:
    text = (
        "1.\t加强组织领导。充分发挥作用。\n2.\t强化监测评价。建立制度。\n\n"
        "\t第一段用制表符缩进，内容。\n\n\t第二段也是，内容。\n附件\n"
        "指标\t2020年\t2025年\n研发投入\t2.1\t3.0\n"
    )
    document = extract(text.encode("utf-8"), content_type="text/plain")
    assert [(b.kind, b.text) for b in document.blocks[:5]] == [
        ("paragraph", "1. 加强组织领导。充分发挥作用。"),
        ("paragraph", "2. 强化监测评价。建立制度。"),
        ("paragraph", "第一段用制表符缩进，内容。"),
        ("paragraph", "第二段也是，内容。"),
        ("paragraph", "附件"),
    ]
    assert document.blocks[5].rows == (("指标", "2020年", "2025年"), ("研发投入", "2.1", "3.0"))


# ---------------------------------------------------------------- HTML templates


def test_br_separated_runs_are_paragraphs_and_cjk_source_breaks_are_not_spaces() -> None:
    page = (
        "<html><body><div class='wrap'><div class='content'>&emsp;&emsp;第一段中文内容在这里，用于测试。<br>"
        "&emsp;&emsp;第二段中文内容\n    也在这里，用于测试。<br/>\n&emsp;&emsp;第三段<b>加粗</b>内容，Latin words\nstay apart。"
        "</div><div class='side'><ul><li><a href='/a'>侧栏链接一二三四五</a></li></ul></div></div></body></html>"
    )
    document = extract(page.encode("utf-8"))
    assert [b.text for b in document.blocks] == [
        "第一段中文内容在这里，用于测试。",
        "第二段中文内容也在这里，用于测试。",
        "第三段加粗内容，Latin words stay apart。",
    ]


def _old_site_page(paragraphs: list[str]) -> str:
    """A table-layout template of the kind older government sites use, wrapped in an ASP.NET form."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<html><head><title>关于印发某某规划的通知 - 某市人民政府门户网站</title></head><body>
<form id="form1" method="post" action="./Detail.aspx"><input type="hidden" name="__VIEWSTATE" value="x">
<table width="100%"><tr><td class="logo"><a href="/">某市人民政府门户网站</a></td></tr>
<tr><td><table><tr>
<td class="left-menu"><a href="/a">首页</a><br><a href="/b">信息公开</a><br><a href="/c">政策文件</a><br><a href="/d">办事服务</a></td>
<td class="bt_content"><h1>关于印发某某规划的通知</h1>
<div>发布时间：2021-01-01 来源：市政府办公室 阅读次数：<script>document.write(1234)</script></div>
{body}
<table border="1"><tr><td rowspan="2">指标</td><td colspan="2">目标</td></tr><tr><td>2020年</td><td>2025年</td></tr>
<tr><td>研发投入(%)</td><td>2.1</td><td>3.0</td></tr></table>
<p>附件：<a href="/files/plan.pdf">某某规划全文.pdf</a> <a href="att/indicators.xlsx">指标表</a> <a href="view.html">正文</a></p>
<p>【打印本页】 【关闭窗口】</p>
</td></tr></table></td></tr>
<tr><td class="copyright">版权所有：某市人民政府 地址：某路1号 电话：0574-00000000</td></tr></table></form></body></html>"""


def _plan_paragraphs(count: int) -> list[str]:
    lines = (CORPUS / "cixi-sti-plan-2021.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if len(line.strip()) > 80][:count]


def test_old_table_layout_template_inside_a_form() -> None:
    paragraphs = _plan_paragraphs(5)
    document = extract(_old_site_page(paragraphs).encode("gb18030"), url="http://www.example.gov.cn/art/2021/1/1/art_9.html")
    texts = [b.text for b in document.blocks if b.kind == "paragraph"]
    assert texts[:5] == paragraphs
    assert document.title == "关于印发某某规划的通知"
    assert not any(word in document.text for word in ("首页", "阅读次数", "1234", "打印本页", "版权所有"))
    (table,) = tables(document)
    # a cell spanning columns is one cell; a cell spanning rows is repeated below
    assert table.rows == (("指标", "目标"), ("指标", "2020年", "2025年"), ("研发投入(%)", "2.1", "3.0"))
    assert document.attachments == (  # a page linked from the document's text is one of its files too
        "http://www.example.gov.cn/files/plan.pdf",
        "http://www.example.gov.cn/art/2021/1/1/att/indicators.xlsx",
        "http://www.example.gov.cn/art/2021/1/1/view.html",
    )


def test_selector_takes_that_element() -> None:
    page = _old_site_page(_plan_paragraphs(3))
    document = extract(page.encode("utf-8"), selector="td.bt_content table")
    assert [b.kind for b in document.blocks] == ["table"]
    with pytest.raises(ExtractError, match="matches nothing"):
        extract(page.encode("utf-8"), selector="#no-such-element")
    with pytest.raises(ExtractError, match="invalid CSS selector"):
        extract(page.encode("utf-8"), selector="div[[")


def test_selector_keeps_attachments_listed_next_to_the_chosen_element() -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in _plan_paragraphs(2))
    page = (
        f"<html><body><div class='nav'><a href='/other.pdf'>导航里的文件.pdf</a></div>"
        f"<div id='doc'>{paragraphs}<a href='a/part1.docx'>附件一</a></div>"
        f"<div class='fj'><a href='/files/part2.wps'>附件二</a></div></body></html>"
    )
    document = extract(page.encode("utf-8"), url="https://gov.example.cn/zc/index.html", selector="#doc")
    assert [b.text for b in document.blocks] == [*_plan_paragraphs(2), "附件一"]
    assert document.attachments == ("https://gov.example.cn/zc/a/part1.docx", "https://gov.example.cn/files/part2.wps")


def test_attachments_are_decided_by_the_address_and_stay_on_the_web() -> None:
    paragraphs = "".join(f"<p>{p}</p>" for p in _plan_paragraphs(2))
    links = (
        "<a href='file:///etc/passwd'>规划全文.pdf</a>"  # a label is the page's word, not the address's
        "<a href='file:///srv/plan.pdf'>附件一</a>"
        "<a href='/download.jsp?id=7'>规划全文.docx</a>"
        "<a href='javascript:open(\"a.pdf\")'>附件二</a>"
        "<a href='http://[broken/x.pdf'>附件三</a>"
        "<a href='files/part1.pdf'>附件四</a>"
        "<a href='https://files.example.cn/part2.docx'>附件五</a>"
    )
    page = f"<html><body><div id='doc'>{paragraphs}<p>{links}</p></div></body></html>".encode()
    on_the_web = extract(page, url="http://gov.example.cn/zc/notice.html")
    assert on_the_web.attachments == ("http://gov.example.cn/zc/files/part1.pdf", "https://files.example.cn/part2.docx")
    # a page read from a configured file:// address may list local files, and nothing else
    local = extract(page, url="file:///srv/site/notice.html")
    assert local.attachments == ("file:///srv/plan.pdf", "file:///srv/site/files/part1.pdf")

def test_headings_article_title_meta_and_title_suffix() -> None:
    body = "<h2>一、总体要求</h2><p>" + _plan_paragraphs(1)[0] + "</p><h3>（一）指导思想</h3><p>" + _plan_paragraphs(2)[1] + "</p>"
    with_meta = f'<html><head><meta name="ArticleTitle" content="某某规划"><title>其他_网站</title></head><body><main>{body}</main></body></html>'
    document = extract(with_meta.encode("utf-8"))
    assert document.title == "某某规划"
    assert [(b.kind, b.level) for b in document.blocks] == [("heading", 2), ("paragraph", None), ("heading", 3), ("paragraph", None)]
    plain = f"<html><head><title>某某规划_政策文件_某区人民政府</title></head><body><div>{body}</div></body></html>"
    assert extract(plain.encode("utf-8")).title == "某某规划"


def test_metadata_list_inside_the_content_is_kept_but_outside_it_is_dropped() -> None:
    meta = "<ul><li>索引号：123</li><li>发布机构：某办</li><li>成文日期：2021-01-01</li></ul>"
    paragraphs = "".join(f"<p>{p}</p>" for p in _plan_paragraphs(4))
    outside = f"<html><body><div class='xxgk'>{meta}</div><div class='zoom'>{paragraphs}</div></body></html>"
    assert "索引号" not in extract(outside.encode("utf-8")).text
    traditional = outside.replace("索引号", "索引號").replace("发布机构", "發佈機構")
    assert "索引號" not in extract(traditional.encode("utf-8")).text
    inside = f"<html><body><div class='zoom'>{meta}{paragraphs}</div></body></html>"
    assert "索引号：123" in extract(inside.encode("utf-8")).text


def test_text_in_a_cell_split_by_br_is_the_content_not_its_row() -> None:
    lines = "<br>".join(f"&emsp;&emsp;{p}" for p in _plan_paragraphs(4))
    links = "<br>".join(f"<a href='/c{n}'>栏目链接第{n}个入口</a>" for n in range(12))
    page = f"<html><body><table><tr><td>{links}</td><td>{lines}</td></tr></table></body></html>"
    document = extract(page.encode("utf-8"))
    assert [b.text for b in document.blocks] == _plan_paragraphs(4)


def test_counter_words_in_prose_are_not_furniture() -> None:
    body = "".join(f"<p>{p}</p>" for p in _plan_paragraphs(3))
    page = f"<html><body><div><p>（三）提升政务网站访问量</p>{body}<p>浏览次数：2048</p><p>阅读量 77</p><p>發佈日期：2022-01-19 來源：區政府辦公室 瀏覽次數：</p></div></body></html>"
    texts = [b.text for b in extract(page.encode("utf-8")).blocks]
    assert texts == ["（三）提升政务网站访问量", *_plan_paragraphs(3)]


def test_a_page_without_text_is_an_error() -> None:
    with pytest.raises(ExtractError, match="no document text"):
        extract(b"<html><head><title>x</title></head><body><script>render()</script></body></html>")


# ---------------------------------------------------------------- DOCX built with python-docx


def _docx(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_structure_numbering_and_merged_cells() -> None:
    def build(d: docx.document.Document) -> None:
        d.add_heading("某某规划", level=0)
        d.add_heading("一、总体要求", level=1)
        d.add_paragraph("第一段正文。")
        for text in ("加强组织领导。", "强化监测评价。"):
            d.add_paragraph(text, style="List Number")  # Word's automatic numbers: not in the text runs
        line = d.add_paragraph("第一行")
        line.add_run().add_break()
        line.add_run("第二行")
        table = d.add_table(rows=3, cols=3)
        table.cell(0, 0).text, table.cell(0, 1).text = "指标", "目标"
        table.cell(0, 1).merge(table.cell(0, 2))
        table.cell(1, 0).text = "研发投入"
        table.cell(1, 0).merge(table.cell(2, 0))
        for (r, c), value in {(1, 1): "2.1", (1, 2): "3.0", (2, 1): "2.2", (2, 2): "3.1"}.items():
            table.cell(r, c).text = value
        d.add_heading("（一）保障措施", level=2)
        d.add_paragraph("")

    document = extract(_docx(build), url="plan.docx")
    assert document.title == "某某规划" and document.format == "docx"
    assert [(b.kind, b.text, b.level) for b in document.blocks if b.kind != "table"] == [
        ("heading", "一、总体要求", 1),
        ("paragraph", "第一段正文。", None),
        ("paragraph", "1.加强组织领导。", None),
        ("paragraph", "2.强化监测评价。", None),
        ("paragraph", "第一行", None),
        ("paragraph", "第二行", None),
        ("heading", "（一）保障措施", 2),
    ]
    (table,) = tables(document)
    assert table.rows == (("指标", "目标"), ("研发投入", "2.1", "3.0"), ("研发投入", "2.2", "3.1"))


def test_docx_tracked_changes_count_as_accepted() -> None:
    def build(d: docx.document.Document) -> None:
        paragraph = d.add_paragraph("到2025年，达到")
        inserted, deleted = OxmlElement("w:ins"), OxmlElement("w:del")
        for element in (inserted, deleted):
            element.set(qn("w:id"), "1")
            element.set(qn("w:author"), "editor")
        new_run = OxmlElement("w:r")
        new_text = OxmlElement("w:t")
        new_text.text = "4000"
        new_run.append(new_text)
        inserted.append(new_run)
        old_run = OxmlElement("w:r")
        old_text = OxmlElement("w:delText")
        old_text.text = "3700"
        old_run.append(old_text)
        deleted.append(old_run)
        paragraph._p.append(deleted)
        paragraph._p.append(inserted)
        paragraph.add_run("家。")

    (block,) = extract(_docx(build)).blocks
    assert block.text == "到2025年，达到4000家。"


def test_docx_title_falls_back_to_core_properties() -> None:
    def build(d: docx.document.Document) -> None:
        d.core_properties.title = "属性里的标题"
        d.add_paragraph("正文。")

    assert extract(_docx(build)).title == "属性里的标题"


# ---------------------------------------------------------------- refusals


def test_corrupt_docx_is_an_extract_error() -> None:
    body = (CASES / "cixi-docx-vs-page" / "old.docx").read_bytes()
    with pytest.raises(ExtractError, match="corrupt DOCX"):
        extract(body[: len(body) // 2])
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><not-closed>")
    with pytest.raises(ExtractError, match="corrupt DOCX"):
        extract(damaged.getvalue(), url="x.docx")


def test_corrupt_pdf_is_an_extract_error() -> None:
    body = (CASES / "cixi-pdf-noise" / "new.pdf").read_bytes()
    with pytest.raises(ExtractError, match="PDF"):
        extract(body[: len(body) // 2])
    with pytest.raises(ExtractError, match="PDF"):
        extract(b"%PDF-1.7\n" + b"\x00 not a pdf " * 50)


def test_legacy_doc_and_images_are_refused() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048
    with pytest.raises(ExtractError, match="legacy binary Word/WPS"):
        extract(ole, url="http://example.org/plan.doc")
    with pytest.raises(ExtractError, match="legacy binary Word/WPS"):
        extract(ole, url="http://example.org/plan.wps", content_type="application/octet-stream")
    with pytest.raises(ExtractError, match="image"):
        extract(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


def test_zip_bomb_docx_is_refused() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        chunk = b"\x00" * (1 << 20)
        with archive.open("word/media/image1.bin", "w") as member:
            for _ in range(101):
                member.write(chunk)
    assert len(bomb.getvalue()) < 1 << 20  # ~100 KB on the wire, 101 MB unpacked
    with pytest.raises(ExtractError, match="zip bomb"):
        extract(bomb.getvalue())


def _blank_pdf(pages: int) -> bytes:
    """A valid PDF of `pages` empty pages (see _pdf below)."""
    return _pdf([[] for _ in range(pages)])


def test_pdf_page_cap_and_pdf_without_text() -> None:
    with pytest.raises(ExtractError, match="2001 pages"):
        extract(_blank_pdf(2001))
    with pytest.raises(ExtractError, match="no text layer"):
        extract(_blank_pdf(2))


# ---------------------------------------------------------------- PDF decompression bombs

_MIB = 1 << 20


@functools.cache
def _deflated_spaces(mib: int) -> bytes:
    """`mib` MiB of blanks (valid content-stream text), deflated: about 1/230 of the size."""
    packer = zlib.compressobj(1)
    chunk = b" " * _MIB
    return b"".join(packer.compress(chunk) for _ in range(mib)) + packer.flush()


def _one_page_pdf(contents: list[tuple[bytes, bytes]]) -> bytes:
    """A one-page PDF whose content streams are (filter entries, data) as written."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    refs = b" ".join(b"%d 0 R" % (4 + n) for n in range(len(contents)))
    objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [%s] >>" % refs)
    for filters, data in contents:
        objects.append(b"<< %s /Length %d >>\nstream\n%s\nendstream" % (filters, len(data), data))
    return _pdf_file(objects)


def test_pdf_decompression_bomb_is_refused_without_inflating_it() -> None:
    bomb = _one_page_pdf([(b"/Filter /FlateDecode", _deflated_spaces(160))])
    assert len(bomb) < _MIB
    tracemalloc.start()
    try:
        started = time.monotonic()
        with pytest.raises(ExtractError, match=r"PDF refused: object 4 decodes to more than 64 MB"):
            extract(bomb)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * _MIB  # pdfminer alone held the 160 MiB stream, and more while parsing it
    assert elapsed < 10


def test_pdf_bombs_behind_other_filters_are_refused_too() -> None:
    hexed = binascii.hexlify(_deflated_spaces(65)) + b">"
    chained = _one_page_pdf([(b"/Filter [/ASCIIHexDecode /FlateDecode]", hexed)])
    with pytest.raises(ExtractError, match="decodes to more than 64 MB"):
        extract(chained)
    runs = b"\x81 " * (_MIB // 2 + 1) + b"\x80"  # each pair: one blank 128 times
    with pytest.raises(ExtractError, match="decodes to more than 64 MB"):
        extract(_one_page_pdf([(b"/Filter /RunLengthDecode", runs)]))


def test_pdf_bomb_in_an_object_stream_is_refused_while_the_file_loads() -> None:
    """Objects kept in a compressed object stream are inflated by pdfminer as it resolves them."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    packer = zlib.compressobj(1)
    body = b"2 0 " + pages + b" " * 1024
    packed = packer.compress(body) + b"".join(packer.compress(b" " * _MIB) for _ in range(65)) + packer.flush()
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        4: b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (len(packed), packed),
    }
    out = bytearray(b"%PDF-1.5\n")
    offsets = {}
    for number, text in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, text)
    offsets[5] = len(out)
    rows = [(0, 0, 65535), (1, offsets[1], 0), (2, 4, 0), (1, offsets[3], 0), (1, offsets[4], 0), (1, offsets[5], 0)]
    table = b"".join(struct.pack(">BIH", *row) for row in rows)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(table), table,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[5]
    with pytest.raises(ExtractError, match="object 4 decodes to more than 64 MB"):
        extract(bytes(out))


def test_pdf_stream_caps_count_each_stream_and_all_of_them() -> None:
    content = b"BT ET" + b" " * 995
    three = _one_page_pdf([(b"/Filter /FlateDecode", zlib.compress(content))] * 3)
    check_streams(three, stream_cap=1000, total_cap=3000)
    with pytest.raises(ExtractError, match="decodes to more than"):
        check_streams(three, stream_cap=999, total_cap=3000)
    with pytest.raises(ExtractError, match="its streams decode to more than"):
        check_streams(three, stream_cap=1000, total_cap=2999)


def test_unreadable_local_file_is_an_extract_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="cannot read"):
        extract_file(tmp_path / "missing.html")


# ---------------------------------------------------------------- format detection


def test_detect_format_magic_bytes_first() -> None:
    assert detect_format((CASES / "cixi-docx-vs-page" / "old.docx").read_bytes(), "text/html", "x.html") == "docx"
    assert detect_format((CASES / "cixi-pdf-noise" / "new.pdf").read_bytes(), "text/html") == "pdf"
    assert detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "application/pdf") == "doc"


def test_detect_format_content_type_then_extension_then_sniffing() -> None:
    assert detect_format(b"plain words", "text/html; charset=utf-8") == "html"
    assert detect_format(b"<p>looks like markup</p>", "text/plain") == "text"
    assert detect_format(b"words", "application/octet-stream", "http://x.org/a/plan.HTM?id=1") == "html"
    assert detect_format(b"words", "", "/tmp/plan.txt") == "text"
    assert detect_format("\ufeff  <!DOCTYPE html><html>".encode("utf-8")) == "html"
    assert detect_format("<P>第一段".encode("gb18030")) == "html"
    assert detect_format("第一段，不是网页。".encode()) == "text"


def test_formats_table_has_one_extractor_per_format() -> None:
    assert set(FORMATS) == {"html", "docx", "pdf", "text", "ofd"}
    page = "<html><body><p>某某规划正文第一段。</p></body></html>".encode()
    assert FORMATS["html"](page, url="", selector=None, encoding=None, http_charset=None).blocks[0].text == "某某规划正文第一段。"



# ---------------------------------------------------------------- PDF geometry, on PDFs written by hand


def _pdf(pages: list[list[tuple]], title: str | None = None, height: int = 842) -> bytes:
    """A PDF with the built-in STSong-Light CJK font: ("text", x, top, size, text) and
    ("rect", x0, top, x1, bottom) items per page. Every glyph is one em wide."""
    objects: list[bytes] = [b"", b""]
    font_descriptor = (
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
    )
    objects.append(font_descriptor)  # 3
    objects.append(
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo"
        b" << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 3 0 R /DW 1000 >>"
    )  # 4
    objects.append(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>")  # 5
    kids = []
    for items in pages:
        ops = []
        for kind, *args in items:
            if kind == "text":
                x, top, size, text = args
                hexed = text.encode("utf-16-be").hex().encode()
                ops.append(b"BT /F1 %g Tf 1 0 0 1 %g %g Tm <%s> Tj ET" % (size, x, height - top - size, hexed))
            else:
                x0, top, x1, bottom = args
                ops.append(b"%g %g %g %g re S" % (x0, height - bottom, x1 - x0, bottom - top))
        stream = b"\n".join(ops)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 %d] /Contents %d 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            % (height, len(objects))
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = b""
    if title:
        objects.append(b"<< /Title <feff%s> >>" % title.encode("utf-16-be").hex().encode())
        info = b" /Info %d 0 R" % len(objects)
    return _pdf_file(objects, info)


def _pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """Objects 1, 2 … (1 the catalog) written out with their cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def _wrapped(text: str, top: float, *, indent: float = 102, left: float = 78, per_line: int = 36) -> tuple[list[tuple], float]:
    """A paragraph set 12 pt on 20 pt lines, first line indented two characters, wrapped at `per_line`."""
    items, first = [], True
    while text:
        take = per_line - 2 if first else per_line
        items.append(("text", indent if first else left, top, 12, text[:take]))
        text, top, first = text[take:], top + 20, False
    return items, top


_P1 = "第一段正文内容用于测试段落的重新拼接是否正确，这一句话足够长可以换行到第二行甚至第三行为止。"
_P2 = "框内第一段文字内容同样较长，需要在框的右边界处换行，然后继续在下一行书写直到结束为止。"
_P3 = "框内第二段文字内容，也要换行书写，检查是否被正确地拼接成为一个完整段落。"
_P4 = "第三页的段落接着写，内容结束。"


def test_pdf_boxes_running_headers_footers_and_a_file_name_title() -> None:
    page1, top = _wrapped(_P1, 100)
    page1.insert(0, ("text", 171, 60, 18, "某某规划"))
    box = top + 10  # a 专栏 drawn as a ruled box of one column: a caption row and a text row
    page1 += [("rect", 78, box, 517, box + 30), ("rect", 78, box + 30, 517, box + 200), ("text", 200, box + 8, 14, "专栏1 某某专项")]
    inside, below = _wrapped(_P2, box + 40, indent=114, left=90, per_line=34)
    page1 += inside + _wrapped(_P3, below, indent=114, left=90, per_line=34)[0]
    pages = [page1, [("text", 102, 100, 12, "第二页的段落。")], _wrapped(_P4, 100)[0]]
    for number, page in enumerate(pages, start=1):
        page += [("text", 200, 30, 10, "某某市人民政府办公室文件"), ("text", 250, 800, 10, f"第 {number} 页 共 3 页")]
    document = extract(_pdf(pages, title="Microsoft Word - 某某规划(终稿).docx"))
    assert document.title == "某某规划"
    assert [b.text for b in document.blocks] == [_P1, "专栏1 某某专项", _P2, _P3, "第二页的段落。", _P4]


def test_pdf_table_over_a_page_break_with_its_header_repeated() -> None:
    def table(top: float, rows: list[tuple[str, str]]) -> list[tuple]:
        items = []
        for row, (label, value) in enumerate(rows):
            y = top + 24 * row
            items += [("rect", 78, y, 300, y + 24), ("rect", 300, y, 517, y + 24)]
            items += [("text", 84, y + 6, 10, label), ("text", 306, y + 6, 10, value)]
        return items

    first, top = _wrapped(_P1, 100)
    page1 = first + [("text", 78, top + 10, 12, "表1 主要指标")] + table(top + 40, [("指标", "目标值"), ("研发投入", "3.0"), ("发明专利", "2000")])
    page2 = table(80, [("指标", "目标值"), ("技术交易额", "25")]) + [("text", 102, 200, 12, "表后的段落。")]
    document = extract(_pdf([page1, page2]))
    assert [b.kind for b in document.blocks] == ["paragraph", "paragraph", "table", "paragraph"]
    assert document.blocks[2].rows == (("指标", "目标值"), ("研发投入", "3.0"), ("发明专利", "2000"), ("技术交易额", "25"))


def test_xml_or_url_looking_bodies_served_as_html_raise_no_warning() -> None:
    # pytest turns warnings into errors here (filterwarnings=error)
    feed = "<?xml version='1.0'?><rss><channel><item><description>第一条新闻的摘要内容</description></item></channel></rss>"
    assert [b.text for b in extract(feed.encode("utf-8"), content_type="text/html").blocks] == ["第一条新闻的摘要内容"]
    url_like = extract(b"http://example.org/page.html", content_type="text/html")
    assert [b.text for b in url_like.blocks] == ["http://example.org/page.html"]


def test_a_text_copy_of_a_page_drops_the_page_furniture_lines_too() -> None:
    text = (CORPUS / "haishu-sti-plan-2021.txt").read_text(encoding="utf-8")
    assert "浏览次数" in text
    document = extract(text.encode("utf-8"), content_type="text/plain")
    assert not any("浏览次数" in block.text for block in document.blocks)
    assert any(block.text.startswith("各镇(乡)人民政府") for block in document.blocks)


def test_a_target_sentence_about_visits_is_not_a_counter() -> None:
    text = "数字文化\n到2025年，全市公共数字文化平台访问量10万人次以上。\n浏览次数：311\n"
    blocks = [b.text for b in extract(text.encode("utf-8"), content_type="text/plain").blocks]
    assert "到2025年，全市公共数字文化平台访问量10万人次以上。" in blocks
    assert not any("浏览次数" in b for b in blocks)
