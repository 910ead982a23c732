"""Red-team measurement of the clause-level differ on about 300 generated version pairs.

bench/data/summary.txt (a year's work summary and plan) and bench/data/action.txt (an action plan) are
hand-written in the style of such documents, not publications; the two real plans come from tests/data/corpus/;
the "provisions" family amends the old text of each regulation in ../shared/real-cases (when it is there).

Run from the project root:  .venv/bin/python bench/edit_pairs.py [-k SUBSTR] [-v] [--keep DIR]

Each pair is one edit (or one kind of publication noise) made to one of the four texts, rendered as
text, a web page in one of several site templates, DOCX or PDF (PDF only where reportlab can be
imported; it is not a project dependency), run through extract → diff_documents in process, and scored
against its labels: every expected flag must be matched by kind, by a `contains` string and by the
values and years it names; any other target_*/measure_* change is a false alarm; a noise-only pair
must yield formatting changes only. The pair folders (old.*, new.*, expected.json, the layout of
tests/data/cases) and results.json go to a temporary directory, or to DIR with --keep.
Prints a per-family table and the failing pairs; always exits 0: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import random
import re
import sys
import tempfile
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import opencc

from watcher.contract import change_to_dict
from watcher.differ import diff_documents
from watcher.extract import extract
from watcher.extract.text import extract_text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CORPUS = ROOT / "tests" / "data" / "corpus"
HAVE_REPORTLAB = importlib.util.find_spec("reportlab") is not None

Flag = dict[str, Any]


def load(name: str) -> str:
    folder = CORPUS if name.endswith("-2021") else DATA
    return (folder / f"{name}.txt").read_text(encoding="utf-8")


def renumber(text: str, first: int, delta: int) -> str:
    """Shift the run of items first., first+1. … at the start of `text` by delta (up to the next heading)."""
    out, expect = [], first
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^(\d{1,2})([.．、])", line)
        if m and int(m.group(1)) == expect:
            out.append(f"{expect + delta}{m.group(2)}" + line[m.end():])
            expect += 1
        elif re.match(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\))", line):
            return "\n".join(out + lines[i:])
        else:
            out.append(line)
    return "\n".join(out)


def rep(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace `old`, which must occur exactly `count` times (so an edit never silently misses)."""
    n = text.count(old)
    if n != count:
        raise ValueError(f"{old[:30]!r} occurs {n} times, expected {count}")
    return text.replace(old, new)


# ============================================================== noise transforms (text → text)

def cc(config: str) -> Callable[[str], str]:
    return opencc.OpenCC(config).convert


HALF = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"})
HALF_STOP = str.maketrans({"。": "."})
FULL_DIGITS = str.maketrans({str(d): chr(0xFF10 + d) for d in range(10)} | {"%": "％", ".": "．"})


def half_punct(t: str) -> str:
    return t.translate(HALF)


def half_stop(t: str) -> str:
    return t.translate(HALF).translate(HALF_STOP)


def prose(line: str) -> bool:
    """A line of prose (not a table cell or a wrapped cell fragment)."""
    return bool(line.strip()) and "\t" not in line and len(line.strip()) > 10


def full_digits(t: str) -> str:
    # digits inside CJK prose become full-width (as some Word templates print them); not in table lines
    return "\n".join(line if "\t" in line else line.translate(FULL_DIGITS) for line in t.split("\n"))


def indent(t: str) -> str:
    return "\n".join(("\u3000\u3000" + line) if prose(line) else line for line in t.split("\n"))


def blank_lines(t: str) -> str:
    return "\n\n".join(t.split("\n"))


def rewrap(width: int) -> Callable[[str], str]:
    def wrap(t: str) -> str:
        out = []
        for line in t.split("\n"):
            if "\t" in line or len(line) <= width or "[bookmark" in line:
                out.append(line)
                continue
            out.extend(line[i:i + width] for i in range(0, len(line), width))
        return "\n".join(out)
    return wrap


def word_artefacts(t: str) -> str:
    rnd = random.Random(7)
    out = []
    for line in t.split("\n"):
        heading = re.match(r"^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)", line)
        out.append(f"[bookmark: _Toc{rnd.randint(10000, 99999)}]{line}" if heading else line)
    return "\n".join(out)


def nbsp_spaces(t: str) -> str:
    # web copy: spaces between CJK and digits, NBSP indents
    t = re.sub(r"(?<=[\u4e00-\u9fff])(?=\d)", " ", t)
    t = re.sub(r"(?<=\d)(?=[\u4e00-\u9fff])", " ", t)
    return "\n".join(("\u00a0\u00a0\u00a0\u00a0" + line) if prose(line) else line for line in t.split("\n"))


def crlf(t: str) -> str:
    return t.replace("\n", "\r\n")


# ============================================================== rendering

Block = tuple[str, Any]  # ("title", str), ("p", str) or ("table", rows)


def blocks_of(text: str) -> list[Block]:
    """Text → blocks for rendering, read by the project's text reader (tables tab-led or one cell a line)."""
    doc = extract_text(text.encode("utf-8"))
    out: list[Block] = []
    if doc.title:
        out.append(("title", doc.title))
    for b in doc.blocks:
        out.append(("table", [list(r) for r in b.rows]) if b.kind == "table" else ("p", b.text))
    return out


HEAD1 = re.compile(r"^[一二三四五六七八九十]+、")
HEAD2 = re.compile(r"^（[一二三四五六七八九十]+）")


def is_heading(s: str) -> int:
    """1 or 2 for a short 一、 or （一） heading line, else 0."""
    if len(s) >= 40 or "。" in s:
        return 0
    return 1 if HEAD1.match(s) else 2 if HEAD2.match(s) else 0


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


GRID = 'border="1" cellspacing="0" cellpadding="0"'


def html_table(rows: list[list[str]], attrs: str = GRID) -> str:
    body = "".join("<tr>" + "".join(f"<td><p align=center>{esc(c)}</p></td>" for c in r) + "</tr>" for r in rows)
    return f"<table {attrs}><tbody>{body}</tbody></table>"


def html_body(blocks: list[Block], para: Callable[[str], str], table_attrs: str = GRID) -> str:
    return "".join(html_table(val, table_attrs) if kind == "table" else para(val) for kind, val in blocks)


def mso_spans(v: str) -> str:
    """A Word-exported paragraph: figures and CJK text in separately styled spans."""
    parts = re.split(r"(\d+(?:\.\d+)?)", v)
    return "".join(f'<span lang=EN-US style="font-family:Times New Roman">{esc(x)}</span>' if re.fullmatch(r"[\d.]+", x)
                   else f'<span style="font-family:仿宋_GB2312;font-size:16.0pt">{esc(x)}</span>' for x in parts if x)


def heading_tag(v: str) -> str:
    level = is_heading(v)
    tag = "h3" if level == 1 else "h4" if level == 2 else "p"
    return f"<{tag}>{esc(v)}</{tag}>"


META_TABLE = """<table class="xxgk_table"><tr><td>索引号：</td><td>11330211MB1234567X/2024-00123</td><td>发布机构：</td><td>区科技局</td></tr>
<tr><td>成文日期：</td><td>2024-01-15</td><td>公开方式：</td><td>主动公开</td></tr>
<tr><td>主题分类：</td><td>科技</td><td>有效性：</td><td>有效</td></tr></table>"""

RELATED = """<div class="xglj"><h4>相关链接</h4><ul><li><a href="/a/1.html">关于印发2023年度科技计划项目的通知</a></li>
<li><a href="/a/2.html">区科技局召开全区科技创新大会</a></li><li><a href="/a/3.html">2023年高新技术企业认定名单公示</a></li></ul></div>"""


def render_html(text: str, template: str, counter: int = 311) -> bytes:
    """A page in one of six site templates; `counter` is the page's hit counter (noise between editions)."""
    blocks = blocks_of(text)
    title = next((b[1] for b in blocks if b[0] == "title"), "政策文件")
    body = [b for b in blocks if b[0] != "title"]
    if template == "trs":
        inner = html_body(body, lambda v: f'<p style="text-indent:2em;">{esc(v)}</p>')
        page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}_江北区人民政府</title></head><body>
<div class="header"><div class="nav"><a href="/">首页</a><a href="/zwgk">政务公开</a><a href="/hdjl">互动交流</a></div></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 规划计划</div>
{META_TABLE}
<div class="article"><h1 class="title">{esc(title)}</h1>
<div class="info">发布时间：2024-01-16 09:30 来源：区科技局 浏览次数：<span id="hits">{counter}</span> 【字体：<a>大</a> <a>中</a> <a>小</a>】</div>
<div class="TRS_Editor">{inner}</div>
<div class="share">分享到：<a>微信</a><a>微博</a></div></div>
{RELATED}<div class="footer">主办：江北区人民政府办公室 版权所有 浙ICP备12345678号</div></body></html>"""
    elif template == "table":
        inner = html_body(body, lambda v: f"<p>&nbsp;&nbsp;&nbsp;&nbsp;{esc(v)}</p>", 'width="90%" border="1" align="center"')
        page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{esc(title)}</title></head><body>
<table width="1000" align="center" border="0"><tr><td class="top"><a href="/">网站首页</a> | <a href="/xxgk">信息公开</a> | <a href="/bsfw">办事服务</a></td></tr>
<tr><td><table width="100%"><tr><td class="bt" align="center"><b>{esc(title)}</b></td></tr>
<tr><td align="center">时间：2024-01-16 &nbsp; 来源：科技局 &nbsp; 点击数：{counter}</td></tr>
<tr><td id="zoom" class="nr">{inner}</td></tr>
<tr><td align="right"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></td></tr></table></td></tr>
<tr><td class="bottom">Copyright 江北区人民政府 All Rights Reserved</td></tr></table></body></html>"""
    elif template in ("br", "gb2312"):
        inner = html_body(body, lambda v: "&nbsp;&nbsp;&nbsp;&nbsp;" + esc(v) + "<br>\n")
        # gb2312: no charset declared anywhere, the bytes are GB18030
        meta = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">' if template == "br" else ""
        page = f"""<html><head>{meta}<title>{esc(title)}</title></head><body>
<div id="top"><a href="/">首页</a> <a href="/news">新闻中心</a></div>
<div id="main"><div class="tit">{esc(title)}</div><div class="date">发布日期：2024-01-16　阅读次数：{counter}</div>
<div id="content"><font size="3">{inner}</font></div></div>
<div id="copyright">版权所有：江北区科技局</div></body></html>"""
        if template == "gb2312":
            return page.encode("gb18030")
    elif template == "mso":
        inner = html_body(body, lambda v: f"<p class=MsoNormal style='text-indent:32.0pt;line-height:28.0pt'>{mso_spans(v)}<span lang=EN-US><o:p></o:p></span></p>\n",
                          "class=MsoNormalTable border=1 cellspacing=0 cellpadding=0")
        page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(title)}</title></head><body>
<div class="crumbs">您当前的位置：首页 &gt; 信息公开 &gt; 计划规划</div>
<div class="detail"><h2>{esc(title)}</h2><p class="sub">信息来源：区科技局　发布时间：2024-01-16　访问量：{counter}</p>
<div class="zhengwen"><div class=WordSection1 style='layout-grid:15.6pt'>{inner}</div></div>
<div class="fujian">附件：<a href="/files/plan.docx">{esc(title)}.docx</a></div></div>
<div class="foot">网站标识码 3302050001</div></body></html>"""
    elif template == "headings":
        inner = html_body(body, heading_tag)
        page = f"""<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{esc(title)} - 江北区科技局</title></head><body>
<header><nav><a href="/">首页</a><a href="/kjdt">科技动态</a></nav></header>
<main><article><h1>{esc(title)}</h1><div class="meta"><span>来源：区科技局</span><span>阅读量：{counter}</span></div>
<section class="content">{inner}</section></article>
<aside class="sidebar"><h4>热点信息</h4><ul><li><a href="/1">我区召开科技工作会议</a></li></ul></aside></main>
<footer>江北区科技局 版权所有</footer></body></html>"""
    else:
        raise ValueError(template)
    return page.encode("utf-8")


def render_docx(text: str) -> bytes:
    d = docx.Document()
    for kind, val in blocks_of(text):
        if kind == "title":
            d.add_heading(val, level=0)
        elif kind == "table":
            t = d.add_table(rows=0, cols=max(len(r) for r in val))
            t.style = "Table Grid"
            for r in val:
                cells = t.add_row().cells
                for i, c in enumerate(r):
                    cells[i].text = c
        elif is_heading(val):
            d.add_heading(val, level=is_heading(val))
        else:
            d.add_paragraph(val)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def render_pdf(text: str) -> bytes:
    # reportlab is optional (not a project dependency): imported only here, pairs are skipped without it
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, firstLineIndent=24, wordWrap="CJK")
    head = ParagraphStyle("h", parent=body, fontSize=14, leading=24, firstLineIndent=0)
    title = ParagraphStyle("t", parent=body, fontSize=20, leading=30, alignment=1, firstLineIndent=0)
    cell = ParagraphStyle("c", parent=body, fontSize=10, leading=14, firstLineIndent=0)
    story: list[Any] = []
    for kind, val in blocks_of(text):
        if kind == "title":
            story.append(Paragraph(esc(val), title))
        elif kind == "table":
            width = max(len(r) for r in val)
            rows = [[Paragraph(esc(c), cell) for c in r] + [""] * (width - len(r)) for r in val]
            t = Table(rows, colWidths=[440 / width] * width)
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
            story.append(t)
        else:
            story.append(Paragraph(esc(val), head if is_heading(val) else body))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title="").build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def render(fmt: str, text: str, counter: int = 311) -> tuple[str, bytes]:
    """(file extension, body) for a format: txt, txt-gbk, html:<template>, docx or pdf."""
    if fmt == "txt":
        return "txt", text.encode("utf-8")
    if fmt == "txt-gbk":
        return "txt", text.encode("gb18030")
    if fmt.startswith("html:"):
        return "html", render_html(text, fmt[5:], counter)
    if fmt == "docx":
        return "docx", render_docx(text)
    if fmt == "pdf":
        return "pdf", render_pdf(text)
    raise ValueError(fmt)


# ============================================================== the pairs

@dataclass(frozen=True)
class Pair:
    name: str
    family: str
    old_text: str
    new_text: str
    flags: list[Flag]
    old_fmt: str = "txt"
    new_fmt: str = "txt"
    noise: bool = False  # noise only: every change must be formatting
    about: str = ""
    counters: tuple[int, int] = (311, 312)  # page hit counters of the old and new page


def tc(contains: str, old: float | None = None, new: float | None = None,
       old_year: int | None = None, new_year: int | None = None) -> Flag:
    f: Flag = {"kind": "target_changed", "contains": contains}
    for key, value in (("old_value", old), ("new_value", new), ("old_year", old_year), ("new_year", new_year)):
        if value is not None:
            f[key] = value
    return f


def k(kind: str, contains: str) -> Flag:
    return {"kind": kind, "contains": contains}


def build_pairs() -> list[Pair]:
    pairs: list[Pair] = []

    def pair(name: str, family: str, base: str, new_text: str | None = None, flags: tuple | list = (), *,
             old_fmt: str = "txt", new_fmt: str = "txt", noise: bool = False, about: str = "",
             counters: tuple[int, int] = (311, 312)) -> None:
        pairs.append(Pair(name, family, base, base if new_text is None else new_text, list(flags),
                          old_fmt, new_fmt, noise, about, counters))

    def new_text_of(name: str) -> str:
        return next(p.new_text for p in pairs if p.name == name)

    S = load("summary")
    A = load("action")
    C = load("cixi-sti-plan-2021")
    H = load("haishu-sti-plan-2021")

    # ---------------------------------------------------------------- targets in prose
    fam = "target-prose"
    pair("S-cumulative-520-530", fam, S, rep(S, "累计达到520家", "累计达到530家"), [tc("高新技术企业", 520, 530)])
    pair("S-first-of-four-312-325", fam, S, rep(S, "新增科技型中小企业312家", "新增科技型中小企业325家"), [tc("科技型中小企业", 312, 325)])
    pair("S-money-42.6-43.2", fam, S, rep(S, "研发费用支出42.6亿元", "研发费用支出43.2亿元"), [tc("研发费用", 42.6, 43.2)])
    pair("S-growth-pct", fam, S, rep(S, "同比增长12.3%", "同比增长13.1%"), [tc("研发费用", 12.3, 13.1)])
    pair("S-cn-numeral-15-20", fam, S, rep(S, "不少于十五个", "不少于二十个"), [tc("人才团队", 15, 20)])
    pair("S-cmp-dadao-chaoguo", fam, S, rep(S, "科技型中小企业达到3000家", "科技型中小企业超过3000家"), [tc("科技型中小企业", 3000, 3000)])
    pair("S-cmp-buidiyu-chaoguo", fam, S, rep(S, "毕业率不低于15%", "毕业率超过15%"), [tc("毕业率", 15, 15)])
    pair("S-range-1-2-to-2-3", fam, S, rep(S, "遴选1-2家科技领军企业", "遴选2-3家科技领军企业"), [tc("科技领军企业", 1, 2)])
    pair("S-unit-yi-wan", fam, S, rep(S, "风险池规模至5亿元", "风险池规模至8000万元"), [tc("风险池", 5, 8000)])
    pair("S-yinei-30-20", fam, S, rep(S, "30个工作日以内", "20个工作日以内"), [tc("评审时限", 30, 20)])
    pair("S-yishang-to-yinei", fam, S, rep(S, "研发机构设置率达到60%以上", "研发机构设置率达到60%以内"), [tc("研发机构设置率", 60, 60)])
    pair("S-pct-60-70", fam, S, rep(S, "研发机构设置率达到60%以上", "研发机构设置率达到70%以上"), [tc("研发机构设置率", 60, 70)])
    pair("S-third-of-three-18-20", fam, S, rep(S, "省级高新技术企业研发中心18家", "省级高新技术企业研发中心20家"), [tc("研发中心", 18, 20)])
    pair("S-middle-of-three-5-6", fam, S, rep(S, "省级企业研究院5家", "省级企业研究院6家"), [tc("企业研究院", 5, 6)])
    pair("S-chaoguo-600-650", fam, S, rep(S, "在孵企业超过600家", "在孵企业超过650家"), [tc("在孵企业", 600, 650)])
    pair("S-two-changes-one-sentence-a", fam, S, rep(S, "新增国家级人才工程入选者9人", "新增国家级人才工程入选者11人"), [tc("国家级人才工程", 9, 11)])
    pair("S-per-10k", fam, S, rep(S, "高价值发明专利拥有量达到18.6件", "高价值发明专利拥有量达到19.2件"), [tc("高价值发明专利", 18.6, 19.2)])
    pair("S-wan-yuan-1850-2000", fam, S, rep(S, "兑付金额1850万元", "兑付金额2000万元"), [tc("兑付金额", 1850, 2000)])
    pair("S-target-90-100", fam, S, rep(S, "新增高新技术企业90家以上", "新增高新技术企业100家以上"), [tc("高新技术企业", 90, 100)])
    pair("A-year-2026-2025", fam, A, rep(A, "到2026年累计建成联合实验室30家", "到2025年累计建成联合实验室30家"), [tc("联合实验室", 30, 30, 2026, 2025)])
    pair("A-year-main-goal-context", fam, A, rep(A, "到2026年，全区技术合同成交额突破80亿元", "到2027年，全区技术合同成交额突破80亿元"),
         [tc("技术合同成交额", 80, 80, 2026, 2027), tc("年均增长", 15, 15, 2026, 2027), tc("孵化器", 3, 3, 2026, 2027),
          tc("概念验证中心", 5, 5, 2026, 2027), tc("科技成果", 100, 100, 2026, 2027), tc("技术经纪人", 200, 200, 2026, 2027)],
         about="deadline year of a goal sentence carries to every indicator of the paragraph")
    pair("A-tupo-80-100", fam, A, rep(A, "技术合同成交额突破80亿元", "技术合同成交额突破100亿元"), [tc("技术合同成交额", 80, 100)])
    pair("A-third-in-goal-list", fam, A, rep(A, "建成概念验证中心5个", "建成概念验证中心8个"), [tc("概念验证中心", 5, 8)])
    pair("A-pct-20-30-subsidy", fam, A, rep(A, "按实际投入的20%给予补助", "按实际投入的30%给予补助"), [tc("补助", 20, 30)])
    pair("A-max-200-300wan", fam, A, rep(A, "最高不超过200万元", "最高不超过300万元"), [tc("项目", 200, 300)])
    pair("A-cn-vs-box", fam, A, rep(A, "开放共享中试设备200台（套）以上", "开放共享中试设备300台（套）以上"), [tc("中试设备", 200, 300)])
    pair("A-budget-3000-5000", fam, A, rep(A, "专项资金不少于3000万元", "专项资金不少于5000万元"), [tc("专项资金", 3000, 5000)])
    pair("A-fund-1yi-2yi", fam, A, rep(A, "设立规模1亿元的", "设立规模2亿元的"), [tc("基金", 1, 2)])
    pair("C-rd-3700-4000-prose", fam, C, rep(C, "科技型中小企业数达3700家", "科技型中小企业数达4000家"), [tc("科技型中小企业", 3700, 4000)])
    pair("H-gaoqi-500-550-prose", fam, H, rep(H, "到2025年,高新技术企业达到500家、", "到2025年,高新技术企业达到550家、"), [tc("高新技术企业", 500, 550)])
    pair("H-keji-2800-3000-prose", fam, H, rep(H, "到2025年,科技型中小企业达到2800家。", "到2025年,科技型中小企业达到3000家。"), [tc("科技型中小企业", 2800, 3000)])

    pair("C-range-1-2-to-2-3", fam, C, rep(C, "力争培育1-2个新兴产业", "力争培育2-3个新兴产业"), [tc("新兴产业", 1, 2)])
    pair("C-bare-list-400-450", fam, C, rep(C, "力争达到200家、400家", "力争达到200家、450家"), [tc("研发机构", 400, 450)])
    pair("C-several-one-changes-7-8wan", fam, C, rep(C, "新增就业大学生7万人以上", "新增就业大学生8万人以上"), [tc("大学生", 7, 8)])
    pair("C-several-first-100-120", fam, C, rep(C, "国家级领军人才100人以上", "国家级领军人才120人以上"), [tc("领军人才", 100, 120)])
    pair("C-verb-num-obj-30-50", fam, C, rep(C, "力争遴选30家独角兽企业", "力争遴选50家独角兽企业"), [tc("独角兽", 30, 50)])
    pair("C-coverage-70-80", fam, C, rep(C, "全市70%以上的工业企业", "全市80%以上的工业企业"), [tc("工业企业", 70, 80)])
    pair("C-xinxing-10-12", fam, C, rep(C, "新型研发机构10家", "新型研发机构12家"), [tc("新型研发机构", 10, 12)])
    pair("C-double-to-triple", fam, C, rep(C, "规模实力翻一番", "规模实力翻两番"), [tc("规模实力")])
    pair("C-full-to-basic-coverage", fam, C, rep(C, "实现产业创新服务综合体全覆盖", "实现产业创新服务综合体基本覆盖"), [tc("综合体")])
    pair("C-lab-3-5-yishang-add", fam, C, rep(C, "力争建设省级以上重点实验室3家", "力争建设省级以上重点实验室5家"), [tc("重点实验室", 3, 5)])
    pair("C-year-2025-2024-lab", fam, C, rep(C, "到2025年，力争建设省级以上重点实验室3家", "到2024年，力争建设省级以上重点实验室3家"), [tc("重点实验室", 3, 3, 2025, 2024)])

    # ---------------------------------------------------------------- targets in tables
    fam = "target-table"
    pair("S-table-600-620", fam, S, rep(S, "高新技术企业数（家）\t520\t600", "高新技术企业数（家）\t520\t620"), [tc("高新技术企业", 600, 620)])
    pair("S-table-pct-3.1-3.3", fam, S, rep(S, "营业收入比重（%）\t2.9\t3.1", "营业收入比重（%）\t2.9\t3.3"), [tc("营业收入比重", 3.1, 3.3)])
    pair("S-table-and-prose-3000", fam, S, rep(rep(S, "科技型中小企业达到3000家", "科技型中小企业达到3200家"), "科技型中小企业数（家）\t2860\t3000", "科技型中小企业数（家）\t2860\t3200"),
         [tc("科技型中小企业", 3000, 3200), tc("科技型中小企业", 3000, 3200)])
    pair("S-table-baseline-cell", fam, S, rep(S, "技术合同成交额（亿元）\t58.3\t65", "技术合同成交额（亿元）\t58.6\t65"), [tc("技术合同成交额", 58.3, 58.6)])
    pair("S-table-row-added", fam, S, rep(S, "技术合同成交额（亿元）\t58.3\t65\n", "技术合同成交额（亿元）\t58.3\t65\n省级以上科技企业孵化器（家）\t6\t7\n"), [k("target_added", "孵化器")])
    pair("S-table-row-removed", fam, S, rep(S, "技术合同成交额（亿元）\t58.3\t65\n", ""), [k("target_removed", "技术合同成交额")])
    pair("S-table-header-year", fam, S, rep(S, "2024年目标值", "2025年目标值"),
         [tc("高新技术企业", 600, 600, 2024, 2025), tc("科技型中小企业", 3000, 3000, 2024, 2025), tc("技术合同", 65, 65, 2024, 2025), tc("营业收入比重", 3.1, 3.1, 2024, 2025)])
    pair("A-table-indexed-80-100", fam, A, rep(A, "1\t技术合同成交额（亿元）\t45\t80", "1\t技术合同成交额（亿元）\t45\t100"), [tc("技术合同成交额", 80, 100)])
    pair("A-table-indexed-row-inserted", fam, A, rep(A, "2\t省级以上科技企业孵化器（家）\t4\t7\n3\t概念验证中心（个）\t0\t5\n4\t技术经纪人（名）\t60\t200",
                                                     "2\t省级以上科技企业孵化器（家）\t4\t7\n3\t中试基地（个）\t1\t3\n4\t概念验证中心（个）\t0\t5\n5\t技术经纪人（名）\t60\t200"),
         [k("target_added", "中试基地")])
    pair("A-table-indexed-row-removed", fam, A, rep(A, "2\t省级以上科技企业孵化器（家）\t4\t7\n3\t概念验证中心（个）\t0\t5\n4\t技术经纪人（名）\t60\t200",
                                                    "2\t省级以上科技企业孵化器（家）\t4\t7\n3\t技术经纪人（名）\t60\t200"),
         [k("target_removed", "概念验证中心")])
    pair("H-table1-500-600-only", fam, H, rep(H, "有效国家高新技术企业数(家)\n\n247\n\n500", "有效国家高新技术企业数(家)\n\n247\n\n600"), [tc("高新技术企业", 500, 600)])
    pair("H-table1-invest-30-35", fam, H, rep(H, "高新技术产业投资额(亿元)\n\n20\n\n30", "高新技术产业投资额(亿元)\n\n20\n\n35"), [tc("高新技术产业投资额", 30, 35)])

    # ---------------------------------------------------------------- measures
    fam = "measure"
    new_item = "2.实施科技型中小企业提质行动。开展科技型中小企业评价入库服务，推动一批企业成长为高新技术企业。"
    t = rep(S, "2.推动企业研发机构全覆盖。", new_item + "\n3.推动企业研发机构全覆盖。")
    t = rep(t, "3.培育科技领军企业。", "4.培育科技领军企业。")
    pair("S-item-insert-renumber", fam, S, t, [k("measure_added", "科技型中小企业提质行动")])
    new_item2 = "2.实施科技型中小企业提质行动。全年新增入库科技型中小企业300家以上。"
    t = rep(S, "2.推动企业研发机构全覆盖。", new_item2 + "\n3.推动企业研发机构全覆盖。")
    t = rep(t, "3.培育科技领军企业。", "4.培育科技领军企业。")
    pair("S-item-insert-with-target", fam, S, t, [k("measure_added", "科技型中小企业提质行动")],
         about="new numbered item whose body is a quantified aim: one measure, not a target_added")
    t = rep(S, "2.推动企业研发机构全覆盖。支持规上企业建设研发机构，力争规上工业企业研发机构设置率达到60%以上。\n", "")
    t = rep(t, "3.培育科技领军企业。", "2.培育科技领军企业。")
    pair("S-item-remove-renumber", fam, S, t, [k("measure_removed", "推动企业研发机构全覆盖")])
    t = rep(S, "2.优化人才服务保障。落实人才住房、子女入学等政策，提升人才服务专员工作质效。\n",
            "2.优化人才服务保障。落实人才住房、子女入学等政策，提升人才服务专员工作质效。\n3.加强科技人才评价改革。开展科技人才分类评价试点，探索以创新价值、能力、贡献为导向的评价机制。\n")
    pair("S-item-append-last", fam, S, t, [k("measure_added", "科技人才评价改革")])
    t = rep(S, "（四）深化科技体制机制改革\n", "（四）实施科技开放合作行动\n1.深化长三角科技合作。积极对接上海、杭州创新资源，共建科创飞地。\n2.拓展国际科技合作。支持企业设立海外研发中心。\n（五）深化科技体制机制改革\n")
    pair("S-section-insert-renumber", fam, S, t, [k("measure_added", "科技开放合作行动")])
    t = rep(S, "（三）实施科技人才引育行动\n1.精准引进高端人才。围绕重点产业链，全年引进高端创新人才团队不少于十五个。\n2.优化人才服务保障。落实人才住房、子女入学等政策，提升人才服务专员工作质效。\n（四）深化", "（三）深化")
    pair("S-section-remove-renumber", fam, S, t, [k("measure_removed", "科技人才引育行动")])
    t = rep(S, "三是推进科技领域“放管服”改革，压缩项目评审时限至30个工作日以内。", "三是推进科技领域“放管服”改革，压缩项目评审时限至30个工作日以内。四是健全科技伦理治理体系，加强科研诚信建设。")
    pair("S-submeasure-append", fam, S, t, [k("measure_added", "科技伦理治理")])
    t = rep(S, "二是完善科技金融服务体系，扩大科技信贷风险池规模至5亿元。三是推进", "二是推进")
    pair("S-submeasure-remove-renumber", fam, S, t, [k("measure_removed", "科技金融服务体系")])
    t = rep(S, "一是深化科技项目管理改革，扩大“揭榜挂帅”项目范围。二是完善科技金融服务体系，扩大科技信贷风险池规模至5亿元。三是推进",
            "一是深化科技项目管理改革，扩大“揭榜挂帅”项目范围。二是加快科技成果赋权改革，开展职务科技成果所有权改革试点。三是完善科技金融服务体系，扩大科技信贷风险池规模至5亿元。四是推进")
    pair("S-submeasure-insert-middle", fam, S, t, [k("measure_added", "科技成果赋权改革")])
    t = rep(A, "（2）支持企业承接", "（2）推动企业牵头组建创新联合体，承担重大科技攻关任务。\n（3）支持企业承接")
    t = rep(t, "（3）引导龙头企业", "（4）引导龙头企业")
    pair("A-paren-arabic-insert", fam, A, t, [k("measure_added", "创新联合体")])
    t = rep(A, "②建立技术经纪人绩效评价制度，对促成技术交易的经纪人按交易额的1%给予奖励。\n③推动", "②推动")
    pair("A-circled-remove", fam, A, t, [k("measure_removed", "绩效评价制度")])
    t = rep(A, "③推动技术经纪人纳入职称评审范围。", "③推动技术经纪人纳入职称评审范围。\n④支持高校开设技术转移相关课程，培养专业化技术转移人才。")
    pair("A-circled-append", fam, A, t, [k("measure_added", "技术转移相关课程")])
    t = rep(A, "技术经纪人培育工程。培育技术经纪人200名，其中高级技术经纪人20名。", "技术经纪人培育工程。培育技术经纪人200名，其中高级技术经纪人20名。\n成果转化示范工程。遴选一批成果转化示范企业，总结推广典型经验。")
    pair("A-box-entry-added", fam, A, t, [k("measure_added", "成果转化示范工程")])
    t = rep(A, "中试熟化平台建设工程。新建中试基地3个，开放共享中试设备200台（套）以上。\n", "")
    pair("A-box-entry-removed", fam, A, t, [k("measure_removed", "中试熟化平台")])
    t = rep(A, "（三）强化考核评估。", "（三）营造良好氛围。加强科技成果转化典型案例宣传，营造全社会支持成果转化的良好氛围。\n（四）强化考核评估。")
    pair("A-safeguard-inline-heading-insert", fam, A, t, [k("measure_added", "营造良好氛围")])
    t = rep(A, "3.建设概念验证中心。依托重点实验室和新型研发机构，布局建设概念验证中心，对验证项目给予最高50万元支持。\n", "")
    pair("A-item3-removed-last", fam, A, t, [k("measure_removed", "概念验证中心")],
         about="a removed item that holds an amount: one measure_removed, not target_removed")
    t = rep(S, "1.加大高新技术企业培育力度。建立高新技术企业后备库，实行分类培育、动态管理。",
            "1.加大高新技术企业培育力度。建立高新技术企业后备库，实行分类培育、动态管理。加大对首次认定高新技术企业的奖励力度。")
    pair("S-action-sentence-appended", fam, S, t, [k("measure_added", "首次认定")])
    # in the corpus plans: drop or insert a third numbered item, found by its numbering alone
    for tag, base in (("C", C), ("H", H)):
        m = re.search(r"\n(3[.．、]([^\n]{10,})\n\n?)4[.．、]", base)
        if not m:
            continue
        gone = base[: m.start(1)] + renumber(base[m.end(1):], 4, -1)
        pair(f"{tag}-item3-removed", fam, base, gone, [k("measure_removed", m.group(2)[:12])])
        ins = base[: m.start(1)] + "3.深化科技领域数字化改革。推进科技管理服务数字化应用场景建设，提升科技治理现代化水平。\n" + renumber(base[m.start(1):], 3, +1)
        pair(f"{tag}-item3-inserted", fam, base, ins, [k("measure_added", "科技领域数字化改革")])

    # ---------------------------------------------------------------- structure-only / rewording (no flags)
    fam = "reword-move"
    pair("S-reword-no-number", fam, S, rep(S, "落实人才住房、子女入学等政策，提升人才服务专员工作质效。", "落实人才安居、子女就学等保障政策，进一步提升人才服务专员的工作质量和效率。"), [])
    pair("S-reword-number-kept", fam, S, rep(S, "全年引进高端创新人才团队不少于十五个", "全年引进各类高端创新人才团队不少于十五个"), [])
    pair("S-cn-to-arabic-same", fam, S, rep(S, "不少于十五个", "不少于15个"), [])
    pair("S-sentence-split", fam, S, rep(S, "建立高新技术企业后备库，实行分类培育、动态管理。", "建立高新技术企业后备库。实行分类培育、动态管理。"), [])
    pair("S-sentences-merged", fam, S, rep(S, "甬江实验室江北基地正式投用，累计引进高端研发团队12个。全区省级以上", "甬江实验室江北基地正式投用，累计引进高端研发团队12个，全区省级以上"), [])
    pair("S-paragraphs-merged", fam, S, rep(S, "（一）创新主体持续壮大\n2023年", "（一）创新主体持续壮大。2023年"), [])
    pair("S-paragraph-split", fam, S, rep(S, "同比增长12.3%，研发费用占营业收入比重达到2.9%。新认定", "同比增长12.3%，研发费用占营业收入比重达到2.9%。\n新认定"), [])
    t = rep(S, "1.加大高新技术企业培育力度。建立高新技术企业后备库，实行分类培育、动态管理。全年力争新增高新技术企业90家以上，科技型中小企业达到3000家。\n2.推动企业研发机构全覆盖。支持规上企业建设研发机构，力争规上工业企业研发机构设置率达到60%以上。\n",
            "1.推动企业研发机构全覆盖。支持规上企业建设研发机构，力争规上工业企业研发机构设置率达到60%以上。\n2.加大高新技术企业培育力度。建立高新技术企业后备库，实行分类培育、动态管理。全年力争新增高新技术企业90家以上，科技型中小企业达到3000家。\n")
    pair("S-items-swapped-renumbered", fam, S, t, [])
    sec2 = "（二）完善转化服务体系\n" + A.split("（二）完善转化服务体系\n")[1].split("（三）强化金融支撑\n")[0]
    sec3 = "（三）强化金融支撑\n" + A.split("（三）强化金融支撑\n")[1].split("三、保障措施\n")[0]
    t = rep(A, sec2 + sec3, sec3.replace("（三）", "（二）") + sec2.replace("（二）", "（三）"))
    pair("A-sections-swapped", fam, A, t, [])
    pair("S-heading-reworded", fam, S, rep(S, "（二）实施创新平台能级提升行动", "（二）实施创新载体能级提升行动"), [])
    pair("A-reword-measure-body", fam, A, rep(A, "统筹推进各项工作。", "统筹协调解决科技成果转化中的重大问题。"), [])
    pair("S-reword-problem", fam, S, rep(S, "对产业的支撑作用有待增强", "对主导产业的支撑引领作用还不够强"), [])
    pair("H-reword-goal", fam, H, rep(H, "企业竞争力明显提升", "企业核心竞争力显著提升"), [])
    t = rep(S, "二是完善科技金融服务体系，扩大科技信贷风险池规模至5亿元。三是推进科技领域“放管服”改革，压缩项目评审时限至30个工作日以内。",
            "二是推进科技领域“放管服”改革，压缩项目评审时限至30个工作日以内。三是完善科技金融服务体系，扩大科技信贷风险池规模至5亿元。")
    pair("S-submeasures-swapped", fam, S, t, [])
    pair("S-numbering-style-1dot-to-1dun", fam, S, re.sub(r"^(\d)\.", r"\1、", S, flags=re.MULTILINE), [], noise=True)
    pair("A-numbering-style-paren-half", fam, A, re.sub(r"^（(\d)）", r"(\1)", A, flags=re.MULTILINE), [], noise=True)

    # ---------------------------------------------------------------- round 2: short numbered items, adds/removes of targets
    fam = "target-prose"
    pair("A-circled-80-100", fam, A, rep(A, "每年培训不少于80人次", "每年培训不少于100人次"), [tc("培训", 80, 100)],
         about="a one-sentence ① item holding a target")
    pair("A-paren1-30-40", fam, A, rep(A, "到2026年累计建成联合实验室30家", "到2026年累计建成联合实验室40家"), [tc("联合实验室", 30, 40)])
    pair("A-paren3-50-80", fam, A, rep(A, "每年发布场景需求清单50项以上", "每年发布场景需求清单80项以上"), [tc("场景需求清单", 50, 80)])
    pair("A-circled-pct-1-2", fam, A, rep(A, "按交易额的1%给予奖励", "按交易额的2%给予奖励"), [tc("交易额", 1, 2)])
    pair("S-target-added-in-sentence", fam, S, rep(S, "新增省级以上孵化器1家，在孵企业毕业率不低于15%。", "新增省级以上孵化器1家、众创空间3家，在孵企业毕业率不低于15%。"),
         [k("target_added", "众创空间")])
    pair("A-target-removed-from-goal-list", fam, A, rep(A, "新增省级以上科技企业孵化器3家，建成概念验证中心5个；", "建成概念验证中心5个；"), [k("target_removed", "孵化器")])
    pair("A-target-sentence-added", fam, A, rep(A, "转化重大科技成果100项以上，培育技术经纪人200名。", "转化重大科技成果100项以上，培育技术经纪人200名。科技成果本地转化率达到60%以上。"),
         [k("target_added", "本地转化率")])
    pair("S-reported-sentence-added", fam, S, rep(S, "新增博士后工作站4家，累计达到31家。", "新增博士后工作站4家，累计达到31家。新增院士工作站2家。"),
         [k("target_added", "院士工作站")])
    pair("S-reported-sentence-removed", fam, S, rep(S, "新认定省级“专精特新”中小企业46家，国家级专精特新“小巨人”企业7家。", ""),
         [k("target_removed", "专精特新"), k("target_removed", "小巨人")])
    # the two pairs below compare identical texts: nothing at all may be reported
    pair("S-short-item-target", fam, S, rep(S, "3.加强新型研发机构建设。对新型研发机构实行绩效评价，评价结果与资助经费挂钩。", "3.加强新型研发机构建设。对新型研发机构实行绩效评价，评价结果与资助经费挂钩。"), [])
    Sx = rep(S, "3.加强新型研发机构建设。对新型研发机构实行绩效评价，评价结果与资助经费挂钩。", "3.新增省级新型研发机构2家。")
    pair("S-one-line-item-2-3", fam, Sx, rep(Sx, "3.新增省级新型研发机构2家。", "3.新增省级新型研发机构3家。"), [tc("新型研发机构", 2, 3)])
    pair("S-heading-line-value", fam, S, rep(S, "（一）创新主体持续壮大", "（一）创新主体持续壮大"), [])
    pair("A-box-target-5-6", fam, A, rep(A, "建设概念验证中心5个。", "建设概念验证中心6个。"), [tc("概念验证中心", 5, 6)])
    pair("A-box-senior-20-30", fam, A, rep(A, "其中高级技术经纪人20名", "其中高级技术经纪人30名"), [tc("高级技术经纪人", 20, 30)])
    pair("A-cmp-butaoguo-to-buchaoguo-le", fam, A, rep(A, "单个项目最高不超过200万元", "单个项目原则上不超过200万元"), [],
         about="wording around a cap changes, the cap does not")
    pair("S-cmp-yishang-to-zuoyou", fam, S, rep(S, "新增高新技术企业90家以上", "新增高新技术企业90家左右"), [tc("高新技术企业", 90, 90)])

    fam = "target-table"
    pair("S-table-cmp-cell", fam, S, rep(S, "营业收入比重（%）\t2.9\t3.1", "营业收入比重（%）\t2.9\t≥3.1"), [tc("营业收入比重", 3.1, 3.1)])
    pair("A-table-baseline-45-48", fam, A, rep(A, "技术合同成交额（亿元）\t45\t80", "技术合同成交额（亿元）\t48\t80"), [tc("技术合同成交额", 45, 48)])
    pair("A-table-column-year-2026-2027", fam, A, rep(A, "2026年目标", "2027年目标"),
         [tc("技术合同成交额", 80, 80, 2026, 2027), tc("孵化器", 7, 7, 2026, 2027), tc("概念验证中心", 5, 5, 2026, 2027), tc("技术经纪人", 200, 200, 2026, 2027)])

    fam = "measure"
    t = rep(A, "2.加强技术经纪人队伍建设。\n", "2.发展科技中介服务业态。支持专业服务机构开展知识产权运营、科技咨询等服务。\n3.加强技术经纪人队伍建设。\n")
    t = rep(t, "3.打造线上线下技术市场。", "4.打造线上线下技术市场。")
    pair("A-item-insert-before-parent-of-circled", fam, A, t, [k("measure_added", "科技中介服务业态")])
    t = rep(A, "2.加强技术经纪人队伍建设。\n①开展技术经纪人分级培训，每年培训不少于80人次。\n②建立技术经纪人绩效评价制度，对促成技术交易的经纪人按交易额的1%给予奖励。\n③推动技术经纪人纳入职称评审范围。\n", "")
    t = rep(t, "3.打造线上线下技术市场。", "2.打造线上线下技术市场。")
    pair("A-item-with-children-removed", fam, A, t, [k("measure_removed", "技术经纪人队伍建设")])
    t = rep(A, "（二）完善转化服务体系\n", "（二）深化产学研协同创新\n1.组建产业技术创新联盟。围绕重点产业链，组建产学研创新联盟。\n2.推进校地合作。深化与高校院所的全面合作。\n（三）完善转化服务体系\n")
    t = rep(t, "（三）强化金融支撑", "（四）强化金融支撑")
    pair("A-section-insert-renumber-3", fam, A, t, [k("measure_added", "产学研协同创新")])
    t = rep(A, "（1）鼓励企业与高校院所共建联合实验室，到2026年累计建成联合实验室30家。\n", "")
    t = rep(t, "（2）支持企业承接", "（1）支持企业承接")
    t = rep(t, "（3）引导龙头企业", "（2）引导龙头企业")
    pair("A-paren1-removed-renumber", fam, A, t, [k("measure_removed", "联合实验室")])
    t = rep(S, "（二）实施创新平台能级提升行动\n", "（二）实施创新平台能级提升行动\n1.加快建设重大科创平台。积极争创省级重点实验室，全年新增省级以上创新平台5家。\n")
    t = rep(t, "1.高标准建设甬江实验室江北基地。", "2.高标准建设甬江实验室江北基地。")
    t = rep(t, "2.提升孵化载体服务水平。", "3.提升孵化载体服务水平。")
    t = rep(t, "3.加强新型研发机构建设。", "4.加强新型研发机构建设。")
    pair("S-item-insert-first-renumber", fam, S, t, [k("measure_added", "重大科创平台")])
    t = rep(S, "一是研发投入强度仍低于全市平均水平，企业研发投入集中度偏高；", "一是研发投入强度仍低于全市平均水平，企业研发投入集中度偏高；二是科技成果本地转化率不高；")
    t = rep(t, "二是高能级", "三是高能级")
    t = rep(t, "三是科技人才结构性", "四是科技人才结构性")
    pair("S-problem-submeasure-insert", fam, S, t, [k("measure_added", "本地转化率不高")],
         about="a new 二是 in the problems list (the contract calls any 三是… a sub-measure)")
    t = rep(A, "（三）强化考核评估。将科技成果转化工作纳入各部门年度考核，每年开展一次评估。\n", "")
    pair("A-safeguard-removed", fam, A, t, [k("measure_removed", "强化考核评估")])
    t = rep(A, "3.打造线上线下技术市场。建设区级科技大市场，实现与省市技术市场互联互通。", "3.打造线上线下技术市场。建设区级科技大市场，实现与省市技术市场互联互通。定期举办科技成果拍卖会和路演活动。")
    pair("A-action-sentence-added-ju", fam, A, t, [k("measure_added", "拍卖会")])
    t = rep(A, "建设区级科技大市场，实现与省市技术市场互联互通。", "建设区级科技大市场。")
    pair("A-clause-dropped-in-sentence", fam, A, t, [], about="part of a sentence dropped: clause_modified")

    fam = "reword-move"
    t = rep(A, "1.强化高校院所成果供给。支持高校院所建立科技成果转化专业机构，每年发布可转化成果清单不少于300项。\n2.推动企业成为成果转化主体。\n",
            "1.推动企业成为成果转化主体。\n")
    t = rep(t, "3.建设概念验证中心。", "2.强化高校院所成果供给。支持高校院所建立科技成果转化专业机构，每年发布可转化成果清单不少于300项。\n3.建设概念验证中心。")
    pair("A-item-moved-down", fam, A, t, [])
    pair("S-html-tpl-mso-vs-trs", fam, S, S, [], old_fmt="html:trs", new_fmt="html:mso", noise=True)
    for base_name, base in (("A", A), ("C", C), ("H", H)):
        pair(f"{base_name}-html-tpl-mso-vs-trs", fam, base, base, [], old_fmt="html:trs", new_fmt="html:mso", noise=True)

    # ---------------------------------------------------------------- text noise
    fam = "noise-text"
    for base_name, base in (("S", S), ("A", A), ("C", C), ("H", H)):
        for nm, f in (("s2t", cc("s2t")), ("s2tw", cc("s2tw")), ("s2hk", cc("s2hk")),
                      ("halfpunct", half_punct), ("halfstop", half_stop), ("fulldigits", full_digits), ("indent", indent),
                      ("blanklines", blank_lines), ("rewrap38", rewrap(38)), ("wordartefacts", word_artefacts),
                      ("nbsp-spaces", nbsp_spaces), ("crlf", crlf)):
            if base_name in ("C", "H") and nm in ("crlf", "blanklines"):
                continue
            pair(f"{base_name}-noise-{nm}", fam, base, f(base), [], noise=True)
    pair("S-noise-gbk-txt", fam, S, S, [], new_fmt="txt-gbk", noise=True)

    # ---------------------------------------------------------------- page templates / formats
    fam = "noise-format"
    for base_name, base in (("S", S), ("A", A), ("C", C), ("H", H)):
        for tpl in ("trs", "table", "br", "gb2312", "headings"):
            pair(f"{base_name}-txt-vs-html-{tpl}", fam, base, base, [], new_fmt=f"html:{tpl}", noise=True)
        pair(f"{base_name}-html-counter-trs-vs-table", fam, base, base, [], old_fmt="html:trs", new_fmt="html:table", noise=True, counters=(311, 1024))
        pair(f"{base_name}-html-br-counter", fam, base, base, [], old_fmt="html:br", new_fmt="html:br", noise=True, counters=(99, 100))
        pair(f"{base_name}-txt-vs-docx", fam, base, base, [], new_fmt="docx", noise=True)
        pair(f"{base_name}-docx-vs-html", fam, base, base, [], old_fmt="docx", new_fmt="html:trs", noise=True)
        pair(f"{base_name}-txt-vs-pdf", fam, base, base, [], new_fmt="pdf", noise=True)
        pair(f"{base_name}-s2hk-html-vs-txt", fam, base, cc("s2hk")(base), [], old_fmt="txt", new_fmt="html:headings", noise=True)

    # ---------------------------------------------------------------- edits across formats
    fam = "edit-cross-format"
    pair("S-html-520-530", fam, S, rep(S, "累计达到520家", "累计达到530家"), [tc("高新技术企业", 520, 530)], old_fmt="html:trs", new_fmt="html:trs")
    pair("S-docx-table-600-620", fam, S, rep(S, "高新技术企业数（家）\t520\t600", "高新技术企业数（家）\t520\t620"), [tc("高新技术企业", 600, 620)], old_fmt="docx", new_fmt="docx")
    pair("S-pdf-vs-txt-520-530", fam, S, rep(S, "累计达到520家", "累计达到530家"), [tc("高新技术企业", 520, 530)], old_fmt="txt", new_fmt="pdf")
    t = rep(S, "2.推动企业研发机构全覆盖。", new_item + "\n3.推动企业研发机构全覆盖。")
    t = rep(t, "3.培育科技领军企业。", "4.培育科技领军企业。")
    pair("S-html-headings-item-insert", fam, S, t, [k("measure_added", "科技型中小企业提质行动")], old_fmt="html:headings", new_fmt="html:headings")
    pair("S-br-item-insert", fam, S, t, [k("measure_added", "科技型中小企业提质行动")], old_fmt="html:br", new_fmt="html:br")
    pair("A-docx-year", fam, A, rep(A, "到2026年累计建成联合实验室30家", "到2025年累计建成联合实验室30家"), [tc("联合实验室", 30, 30, 2026, 2025)], old_fmt="docx", new_fmt="docx")
    pair("A-s2hk-txt-vs-html-80-100", fam, A, cc("s2hk")(rep(A, "技术合同成交额突破80亿元", "技术合同成交额突破100亿元")), [tc("技术合同成交额", 80, 100)], new_fmt="html:trs")
    pair("H-table-html-500-600", fam, H, rep(H, "有效国家高新技术企业数(家)\n\n247\n\n500", "有效国家高新技术企业数(家)\n\n247\n\n600"), [tc("高新技术企业", 500, 600)], old_fmt="html:table", new_fmt="html:table")

    pair("S-docx-vs-mso-money", fam, S, rep(S, "研发费用支出42.6亿元", "研发费用支出43.2亿元"), [tc("研发费用", 42.6, 43.2)], old_fmt="docx", new_fmt="html:mso")
    t = rep(A, "（2）支持企业承接", "（2）推动企业牵头组建创新联合体，承担重大科技攻关任务。\n（3）支持企业承接")
    t = rep(t, "（3）引导龙头企业", "（4）引导龙头企业")
    pair("A-pdf-vs-txt-paren-insert", fam, A, t, [k("measure_added", "创新联合体")], old_fmt="pdf", new_fmt="txt")
    pair("A-gb2312-table-80-100", fam, A, rep(A, "1\t技术合同成交额（亿元）\t45\t80", "1\t技术合同成交额（亿元）\t45\t100"), [tc("技术合同成交额", 80, 100)], old_fmt="html:gb2312", new_fmt="html:gb2312")
    pair("C-pdf-lab-3-5", fam, C, rep(C, "力争建设省级以上重点实验室3家", "力争建设省级以上重点实验室5家"), [tc("重点实验室", 3, 5)], old_fmt="pdf", new_fmt="pdf")
    pair("H-mso-item-insert", fam, H, new_text_of("H-item3-inserted"), [k("measure_added", "科技领域数字化改革")], old_fmt="html:mso", new_fmt="html:mso")

    provision_pairs(pair)
    return pairs


# ---------------------------------------------------------------- regulations

LAWS = ROOT.parent / "shared" / "real-cases"  # the old text of each labelled regulation, as a base
_BOUNDS = re.compile(r"(\d+)(万?元)以上(\d+)(万?元)以下")
_PERIOD = re.compile(r"(?<![\d月])(\d+)(个工作日|日)内")
_ITEM = re.compile(r"^（([一二三四五六七八九十]+)）")
_ARTICLE = re.compile(r"^第([一二三四五六七八九十百零]+)条")
_REFERENCE = re.compile(r"(?<=本条例)第([一二三四五六七八九十百零]+)条|(?<=本办法)第([一二三四五六七八九十百零]+)条|(?<=本规定)第([一二三四五六七八九十百零]+)条")


def _cn(n: int) -> str:
    import cn2an

    return cn2an.an2cn(n).replace("一十", "十", 1) if 10 <= n < 20 else cn2an.an2cn(n)


def _an(cn: str) -> int:
    import cn2an

    return int(cn2an.cn2an(cn, "smart"))


def _renumber_from(text: str, first: int, delta: int) -> str:
    """Articles numbered first and above shifted by delta, and the references to them."""
    def article(m: re.Match[str]) -> str:
        n = _an(m.group(1))
        return f"第{_cn(n + delta)}条" if n >= first else m.group(0)

    def reference(m: re.Match[str]) -> str:
        cn = next(g for g in m.groups() if g)
        n = _an(cn)
        return f"第{_cn(n + delta)}条" if n >= first else m.group(0)

    lines = [_ARTICLE.sub(article, line) for line in text.split("\n")]
    return _REFERENCE.sub(reference, "\n".join(lines))


def _snippet(text: str, at: int, width: int = 10) -> str:
    """Words just before position `at` in its sentence, to name a flag by."""
    start = max(max(text.rfind(mark, 0, at) for mark in "\n；。") + 1, at - width)
    return text[start:at]


def provision_pairs(pair: Callable[..., None]) -> None:
    """Edits of the kinds regulations are amended by, made to each labelled regulation's old text:
    a fine's bounds, a period, a new obligation paragraph, a dropped item, an article inserted with
    every later article and reference renumbered; and noise (a revision line in the header)."""
    fam = "provisions"
    for folder in sorted(LAWS.glob("law-*")):
        base = (folder / "old.txt").read_text(encoding="utf-8")
        name = folder.name.removeprefix("law-")
        if (m := _BOUNDS.search(base)) and m.group(2) == m.group(4):
            lo, hi = int(m.group(1)), int(m.group(3))
            new = base[: m.start()] + f"{lo * 2}{m.group(2)}以上{hi * 2}{m.group(4)}以下" + base[m.end() :]
            about = _snippet(base, m.start())
            pair(f"L-{name}-fine-bounds", fam, base, new, [tc(about, lo, lo * 2), tc(about, hi, hi * 2)])
        if m := _PERIOD.search(base):
            days = int(m.group(1))
            new = base[: m.start()] + f"{days + 10}{m.group(2)}内" + base[m.end() :]
            pair(f"L-{name}-period", fam, base, new, [tc(_snippet(base, m.start()), days, days + 10)])
        lines = base.split("\n")
        obliged = next((n for n, line in enumerate(lines) if _ARTICLE.match(line) and "应当" in line and line.endswith("。")), None)
        if obliged is not None:
            added = "前款规定的单位变更名称或者住所的，应当自变更之日起二十日内向原登记机关办理变更手续。"
            new = "\n".join(lines[: obliged + 1] + ["", added] + lines[obliged + 1 :])
            pair(f"L-{name}-obligation-paragraph", fam, base, new, [k("measure_added", "应当自变更之日起二十日内")])
        items = [n for n, line in enumerate(lines) if _ITEM.match(line) and line.endswith("；")]
        runs = [n for n in items if n + 2 in items]  # an item with another after it
        if runs:
            at = runs[0]
            new_lines = lines[:at] + lines[at + 2 :]
            # renumber the items after the dropped one, up to the end of the list
            shifted, seen = [], False
            for n, line in enumerate(new_lines):
                if n >= at and (m := _ITEM.match(line)):
                    line = f"（{_cn(_an(m.group(1)) - 1)}）" + line[m.end() :]
                    seen = True
                elif n >= at and seen and line.strip() and not _ITEM.match(line):
                    new_lines = shifted + new_lines[n:]
                    break
                shifted.append(line)
            else:
                new_lines = shifted
            dropped = _ITEM.sub("", lines[at])[:20]
            pair(f"L-{name}-item-dropped", fam, base, "\n".join(new_lines), [k("measure_removed", dropped)])
        articles = [n for n, line in enumerate(lines) if _ARTICLE.match(line)]
        if len(articles) > 6:
            at = articles[len(articles) // 2]
            number = _an(_ARTICLE.match(lines[at]).group(1))  # type: ignore[union-attr]
            inserted = f"第{_cn(number)}条 从事相关活动的单位应当建立健全内部管理制度，并定期开展自查。"
            shifted = _renumber_from(base, number, 1).split("\n")
            new = "\n".join(shifted[:at] + [inserted, ""] + shifted[at:])
            pair(f"L-{name}-article-inserted", fam, base, new, [k("measure_added", "建立健全内部管理制度")])
        header_end = base.find("<!-- INFO END -->")
        if header_end > 0:
            new = base[:header_end] + "2024年1月1日 《国务院关于修改部分行政法规的决定》第九次修订\n\n" + base[header_end:]
            pair(f"L-{name}-revision-line", fam, base, new, [], noise=True)


# ============================================================== scoring (the rule of the labelled cases)

FLAGGED = {"target_changed", "target_added", "target_removed", "measure_added", "measure_removed"}
_T2S = opencc.OpenCC("t2s").convert


def norm(s: object) -> str:
    """Width-, space- and script-insensitive form for `contains` matching."""
    return "" if s is None else _T2S("".join(unicodedata.normalize("NFKC", str(s)).split()))


def num(v: object) -> float | None:
    try:
        return None if v is None else float(str(v).replace(",", ""))
    except ValueError:
        return None


def side(ch: dict, which: str) -> dict:
    return (ch.get("target") or {}).get(which) or {}


def matches(flag: Flag, ch: dict) -> bool:
    kind = flag["kind"]
    if ch.get("kind") != kind:
        return False
    want = norm(flag["contains"])
    if kind == "measure_added":
        return want in norm(ch.get("new"))
    if kind == "measure_removed":
        return want in norm(ch.get("old"))
    texts = ((ch.get("target") or {}).get("metric"), ch.get("old"), ch.get("new"),
             side(ch, "old").get("text"), side(ch, "new").get("text"))
    if want not in norm(" ".join(str(x) for x in texts if x)):
        return False
    wanted = (("old_value", "old", "value"), ("new_value", "new", "value"), ("old_year", "old", "year"), ("new_year", "new", "year"))
    return all(num(side(ch, s).get(field)) == float(flag[key]) for key, s, field in wanted if key in flag)


def score(flags: list[Flag], changes: list[dict]) -> tuple[int, list[Flag], list[dict], list[dict]]:
    """(matched, missed flags, false alarms, non-formatting changes); each change matches one flag at most."""
    used: set[int] = set()
    missed = []
    for flag in flags:
        hit = next((i for i, ch in enumerate(changes) if i not in used and matches(flag, ch)), None)
        if hit is None:
            missed.append(flag)
        else:
            used.add(hit)
    false = [ch for i, ch in enumerate(changes) if i not in used and ch.get("kind") in FLAGGED]
    unclean = [ch for ch in changes if ch.get("kind") != "formatting"]
    return len(used), missed, false, unclean


def short(ch: dict) -> str:
    t = ch.get("target") or {}
    if t:
        o, n = t.get("old") or {}, t.get("new") or {}
        return f"{ch.get('kind')} {t.get('metric')!r} {o.get('value')}@{o.get('year')} -> {n.get('value')}@{n.get('year')}"
    return f"{ch.get('kind')} {str(ch.get('old') or '')[:40]!r} -> {str(ch.get('new') or '')[:40]!r}"


# ============================================================== running

@dataclass
class Result:
    pair: Pair
    tp: int = 0
    missed: list[Flag] | None = None
    false: list[dict] | None = None
    unclean: list[dict] | None = None
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error or self.missed or self.false or (self.pair.noise and self.unclean))


def write_case(folder: Path, p: Pair, old: tuple[str, bytes], new: tuple[str, bytes]) -> None:
    """The pair as a labelled case folder (the layout of tests/data/cases)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("old.*"), *folder.glob("new.*")]:  # from an earlier run with --keep
        stale.unlink()
    (folder / f"old.{old[0]}").write_bytes(old[1])
    (folder / f"new.{new[0]}").write_bytes(new[1])
    expected = {"about": p.about or p.name, "noise_only": p.noise, "flags": p.flags}
    (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8")


def run_pair(p: Pair, out: Path) -> Result:
    try:
        old = render(p.old_fmt, p.old_text, p.counters[0])
        new = render(p.new_fmt, p.new_text, p.counters[1])
        write_case(out / p.name, p, old, new)
        diff = diff_documents(extract(old[1], url=f"old.{old[0]}"), extract(new[1], url=f"new.{new[0]}"))
        changes = [change_to_dict(c) for c in diff.changes]
    except Exception as exc:  # noqa: BLE001 - a crash of any kind counts against the differ: every flag missed
        traceback.print_exc()
        return Result(p, missed=p.flags, false=[], unclean=[], error=f"{type(exc).__name__}: {exc}")
    tp, missed, false, unclean = score(p.flags, changes)
    return Result(p, tp, missed, false, unclean)


def report_failure(r: Result, verbose: bool) -> None:
    p = r.pair
    if not (r.failed or verbose):
        return
    print(f"{'FAIL' if r.failed else 'ok  '} {p.name} [{p.family}] tp={r.tp} fn={len(r.missed or [])} fp={len(r.false or [])}"
          + (f" unclean={len(r.unclean or [])}" if p.noise else "") + (f" ERROR {r.error}" if r.error else ""))
    for m in r.missed or []:
        print(f"     missed {m}")
    for ch in r.false or []:
        print(f"     false  {short(ch)}")
    if p.noise:
        for ch in (r.unclean or [])[:4]:
            print(f"     noise  {short(ch)}")


def table(results: list[Result]) -> None:
    families: dict[str, list[Result]] = {}
    for r in results:
        families.setdefault(r.pair.family, []).append(r)
    print(f"\n{'family':22} pairs  flags  recall  precision  false_alarms  noise_clean  failing_pairs")
    for family, rs in [*families.items(), ("ALL", results)]:
        tp = sum(r.tp for r in rs)
        fn = sum(len(r.missed or []) for r in rs)
        fp = sum(len(r.false or []) for r in rs)
        noise = sum(r.pair.noise for r in rs)
        clean = sum(r.pair.noise and not r.unclean for r in rs)
        recall = tp / (tp + fn) if tp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        failing = sum(r.failed for r in rs)
        print(f"{family:22} {len(rs):5}  {tp + fn:5}  {recall:6.2f}  {precision:9.2f}  {fp:12}  {clean:5}/{noise:<5}  {failing}")


def to_json(r: Result) -> dict:
    p = r.pair
    return {"name": p.name, "family": p.family, "old_fmt": p.old_fmt, "new_fmt": p.new_fmt, "noise_only": p.noise,
            "flags": p.flags, "tp": r.tp, "missed": r.missed, "false": r.false,
            "unclean": (r.unclean or [])[:8] if p.noise else [], "error": r.error, "failed": r.failed}


def measure(pairs: list[Pair], out: Path, verbose: bool, kept: bool) -> None:
    results = []
    for p in pairs:
        r = run_pair(p, out)
        report_failure(r, verbose)
        results.append(r)
    table(results)
    (out / "results.json").write_text(json.dumps([to_json(r) for r in results], ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\npair folders and results.json in {out}" if kept else "\n(pair folders removed; --keep DIR keeps them)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", default="", metavar="SUBSTR", help="only the pairs whose name contains SUBSTR")
    ap.add_argument("-v", action="store_true", help="list every pair, not only the failing ones")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="write the pair folders to DIR (kept) instead of a temporary directory")
    a = ap.parse_args(argv)
    pairs = [p for p in build_pairs() if a.k in p.name]
    if not HAVE_REPORTLAB:
        kept_pairs = [p for p in pairs if "pdf" not in (p.old_fmt, p.new_fmt)]
        print(f"reportlab cannot be imported: {len(pairs) - len(kept_pairs)} PDF pair(s) skipped")
        pairs = kept_pairs
    if a.keep:
        a.keep.mkdir(parents=True, exist_ok=True)
        measure(pairs, a.keep, a.v, kept=True)
    else:
        with tempfile.TemporaryDirectory(prefix="edit_pairs-") as tmp:
            measure(pairs, Path(tmp), a.v, kept=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
