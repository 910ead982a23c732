"""The HTML reader's short cuts keep what they stand for: junk is never built (its <meta>
attributes are kept for the title), and furniture is read in comparison form only where it may be."""

from __future__ import annotations

from watcher.extract.furniture import without_furniture
from watcher.extract.html import extract_html
from watcher.extract.markup import JUNK_TAGS, parse_page
from watcher.model import Block

PAGE = (
    '<html><head><meta name="ArticleTitle" content="关于加强监测的通知"><script>var x = "脚本";</script>'
    "<style>p{}</style></head><body><p>各地区要加强<select><option>选项</option></select>监测。</p>"
    "<noscript>请启用脚本</noscript></body></html>"
)


def test_page_tree_builds_no_junk_and_keeps_the_meta_attributes() -> None:
    soup, metas = parse_page(PAGE)
    assert soup.find_all(sorted(JUNK_TAGS)) == []
    assert metas == [{"name": "ArticleTitle", "content": "关于加强监测的通知"}]
    assert soup.get_text() == "各地区要加强监测。"


def test_title_comes_from_the_meta_that_was_not_built() -> None:
    document = extract_html(PAGE.encode())
    assert document.title == "关于加强监测的通知"
    assert document.text == "各地区要加强监测。"


def test_prev_next_lines_that_end_a_sentence_are_still_furniture() -> None:
    kept = Block("paragraph", text="各地区要加强监测。")
    blocks = [
        Block("paragraph", text="上一篇：关于印发实施方案的通知。"),
        Block("paragraph", text="下一條：關於加強監測的通知！"),
        kept,
    ]
    assert without_furniture(blocks) == [kept]
