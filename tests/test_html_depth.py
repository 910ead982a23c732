"""HTML nested far deeper than any real page: extracted in time linear in the markup, with its text.

Markup past MAX_DEPTH is flattened while it is parsed (its text kept, in order, in the nearest
built ancestor; block edges become line breaks); every pass over the tree is linear and the walk
uses no recursion. Before this, 16,000 nested <div> took 160 s to fail with "markup nested too
deeply to read" and 100,000 did not finish in 700 s.
"""

from __future__ import annotations

import time

import pytest
from bs4 import BeautifulSoup
from conftest import PAGES

from watcher.extract import extract
from watcher.extract.html import extract_html
from watcher.extract.markup import MAX_DEPTH, parse

BOTTOM = "各地区要加强对深层页面的监测，确保底部段落完整保留。"
_OPEN = {"div": "<div>", "span": "<span>", "table": "<table><tr><td>"}
_CLOSE = {"div": "</div>", "span": "</span>", "table": "</td></tr></table>"}

# Measured on the development machine (bench/bench_deep_html.py, best of 3, warm): 100,000
# levels take 0.12 s (div), 0.12 s (span), 0.31 s (table); 16,000 levels 0.03, 0.02, 0.06 s.
# The bounds are about 8-9× the table figures; before, 4,000 <div> took 6.8 s and 16,000 160 s,
# and without the depth limit (linear passes only) 16,000 levels took 0.9 s (div), 3.7 s (table).
_BOUNDS = {16_000: 0.5, 100_000: 2.5}


def _deep_page(shape: str, levels: int, bottom: str = BOTTOM) -> bytes:
    nest = _OPEN[shape] * levels + f"<p>{bottom}</p>" + _CLOSE[shape] * levels
    return f"<html><head><meta charset='utf-8'><title>深层页面</title></head><body>{nest}</body></html>".encode()


def _depths(soup: BeautifulSoup) -> dict[str, int]:
    """The depth of the deepest element of each name (<html> is 1), without recursion."""
    deepest: dict[str, int] = {}
    stack = [(child, 1) for child in soup.find_all(True, recursive=False)]
    while stack:
        tag, depth = stack.pop()
        deepest[tag.name] = max(deepest.get(tag.name, 0), depth)
        stack.extend((child, depth + 1) for child in tag.find_all(True, recursive=False))
    return deepest


def _deepest_but_breaks(soup: BeautifulSoup) -> int:
    """The depth of the deepest element; the <br> that flattening leaves may be one level below."""
    depths = _depths(soup)
    assert depths.get("br", 0) <= MAX_DEPTH + 1
    return max(depth for name, depth in depths.items() if name != "br")


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    extract(_deep_page("div", 3))  # the first extraction also loads the script converter


@pytest.mark.parametrize("levels", sorted(_BOUNDS))
@pytest.mark.parametrize("shape", sorted(_OPEN))
def test_deep_nesting_extracts_in_linear_time_with_the_bottom_paragraph(shape: str, levels: int) -> None:
    body = _deep_page(shape, levels)
    started = time.perf_counter()
    document = extract(body)  # no RecursionError, no ExtractError
    elapsed = time.perf_counter() - started
    assert BOTTOM in document.text
    assert elapsed < _BOUNDS[levels], f"{levels} levels of {shape} took {elapsed:.2f} s"


def test_text_past_the_limit_stays_in_order_and_in_its_paragraphs() -> None:
    deep = MAX_DEPTH + 100
    markup = (
        "<html><body>" + "<div>" * 100 + "第一段在限度之内。" + "<div>" * (deep - 100)
        + "<p>第二段在限度之外。</p><span>第三段</span><span>接着第三段。</span><div>第四段在更深处。</div>"
        + "</div>" * 20 + "第五段回到外层但仍在限度之外。" + "</div>" * (deep - 120) + "第六段在限度之内。"
        + "</div>" * 100 + "</body></html>"
    )
    assert _deepest_but_breaks(parse(markup)) == MAX_DEPTH
    document = extract_html(markup.encode(), selector="body")
    assert [block.text for block in document.blocks] == [
        "第一段在限度之内。", "第二段在限度之外。", "第三段接着第三段。", "第四段在更深处。",
        "第五段回到外层但仍在限度之外。", "第六段在限度之内。",
    ]
    # text in the element at the limit itself, between blocks flattened into it
    at_limit = "<div>" * (MAX_DEPTH - 2)  # below <html> and <body>
    markup = f"<html><body>{at_limit}甲段<div>乙段</div>丙段<div>丁段</div>戊段</body></html>"
    document = extract_html(markup.encode(), selector="body")
    assert [block.text for block in document.blocks] == ["甲段", "乙段", "丙段", "丁段", "戊段"]


def test_script_and_comments_past_the_limit_are_not_text() -> None:
    markup = (
        "<html><body>" + "<div>" * (MAX_DEPTH + 10)
        + "<p>正文段落在这里。</p><script>var hidden = '脚本内容';</script><!-- 注释内容 --><style>p{}</style>"
        + "</div>" * (MAX_DEPTH + 10) + "</body></html>"
    )
    document = extract_html(markup.encode())
    assert "正文段落在这里。" in document.text
    assert "脚本内容" not in document.text and "注释内容" not in document.text and "p{}" not in document.text


def test_a_table_cut_at_the_limit_keeps_its_cells() -> None:
    # The element at the limit is a row: its cells, flattened, leave line breaks in it, so the
    # table is read as a layout table (its text walked), not as a data table without cells.
    document = extract(_deep_page("table", 400, bottom="表格"))
    assert "表格" in document.text


def test_headings_nested_to_the_limit_are_read_without_recursion() -> None:
    # A heading's text is walked apart from its parent's: nested headings were four Python
    # frames a level, past the recursion limit long before the depth limit.
    levels = MAX_DEPTH + 50
    markup = "<html><body>" + "<h2>标题" * levels + BOTTOM + "</h2>" * levels + "</body></html>"
    document = extract_html(markup.encode())
    assert BOTTOM in document.text


@pytest.mark.parametrize("name", ["notice.html", "gb2312-plan.html"])
def test_real_pages_are_parsed_as_lxml_parses_them(name: str) -> None:
    markup = (PAGES / name).read_bytes().decode("utf-8", errors="replace")
    assert str(parse(markup)) == str(BeautifulSoup(markup, "lxml"))


def test_nesting_up_to_the_limit_is_kept_and_one_level_more_is_flattened() -> None:
    def page(depth: int) -> str:  # <html> and <body> are the first two levels
        inner = depth - 2
        return "<html><body>" + "<div class='x'>一" * inner + "底部" + "</div>" * inner + "</body></html>"

    at_limit = page(MAX_DEPTH)
    assert str(parse(at_limit)) == str(BeautifulSoup(at_limit, "lxml"))
    assert max(_depths(parse(at_limit)).values()) == MAX_DEPTH
    past = parse(page(MAX_DEPTH + 1))
    assert _deepest_but_breaks(past) == MAX_DEPTH
    assert past.get_text() == BeautifulSoup(page(MAX_DEPTH + 1), "lxml").get_text()
