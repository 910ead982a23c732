"""The OFD reader on packages built here from corpus text, laid out as a producer lays out a
公文: A4 pages, one TextObject a printed line (some lines in two), the first line of a paragraph
indented two characters, a title in larger type, page numbers in the footer."""

from __future__ import annotations

import io
import random
import unicodedata
import zipfile
from pathlib import Path

import pytest
from conftest import PageServer, case_bytes

from watcher.check import check_all
from watcher.config import load_settings
from watcher.differ.targets import extract_targets
from watcher.errors import ExtractError
from watcher.extract import extract, extract_file
from watcher.normalise import clean_display
from watcher.store import Store

CORPUS = Path(__file__).parent / "data" / "corpus"
NS = "http://www.ofdspec.org/2016"
TITLE = "慈溪市科技创新“十四五”规划"
# 三、重点任务: two introductions and four numbered measures, the first ending in 3700家
PARAGRAPHS = [
    line.strip() for line in (CORPUS / "cixi-sti-plan-2021.txt").read_text(encoding="utf-8").splitlines()[121:127]
]

LEFT, RIGHT, TOP, PITCH, LINES_PER_PAGE = 28.0, 182.0, 37.0, 10.0, 22  # millimetres; 公文 margins
SIZE, TITLE_SIZE = 4.2, 7.4


def _width(char: str, size: float) -> float:
    return size if unicodedata.east_asian_width(char) in ("W", "F") else size / 2


def _wrap(text: str, first_x: float) -> list[tuple[float, str]]:
    """The printed lines of a paragraph: (x, text), filled to the right margin."""
    lines: list[tuple[float, str]] = []
    x, line = first_x, ""
    for char in text:
        if x + sum(_width(c, SIZE) for c in line + char) > RIGHT:
            lines.append((x, line))
            x, line = LEFT, ""
        line += char
    lines.append((x, line))
    return lines


def _text_object(ids: list[int], x: float, baseline: float, text: str, size: float, p: str) -> str:
    """One TextObject: its Boundary round the line, the TextCode at the baseline inside it, the
    advance of every character but the last in DeltaX (a run of equal ones as "g N w")."""
    ids[0] += 1
    advances = [_width(c, size) for c in text[:-1]]
    if advances and len(set(advances)) == 1:
        delta = f"g {len(advances)} {advances[0]}"
    else:
        delta = " ".join(f"{a:g}" for a in advances)
    width = sum(advances) + _width(text[-1], size)
    return (
        f'<{p}TextObject ID="{ids[0]}" Boundary="{x:.3f} {baseline - size:.3f} {width:.3f} {size * 1.2:.3f}" '
        f'Font="3" Size="{size}"><{p}FillColor Value="0 0 0"/>'
        f'<{p}TextCode X="0" Y="{size:.3f}" DeltaX="{delta}">{_escape(text)}</{p}TextCode></{p}TextObject>'
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_ofd(
    paragraphs: list[str], *, title: str = TITLE, shuffle: bool = False, prefix: str = "ofd:", seed: int = 7
) -> bytes:
    """An OFD package: OFD.xml → Doc_0/Document.xml (PublicRes with the font) → one Content.xml
    a page. `shuffle` writes each page's TextObjects in a random order; `prefix` "" writes the
    elements in the default namespace."""
    p = prefix
    xmlns = f'xmlns:{p[:-1]}="{NS}"' if p else f'xmlns="{NS}"'
    placed: list[tuple[float, float, str, float]] = [((210 - len(title) * TITLE_SIZE) / 2, 0.0, title, TITLE_SIZE)]
    for paragraph in paragraphs:
        placed.extend((x, 0.0, text, SIZE) for x, text in _wrap(paragraph, LEFT + 2 * SIZE))
    pages: list[list[str]] = []
    ids = [10]
    rng = random.Random(seed)
    for start in range(0, len(placed), LINES_PER_PAGE):
        objects = []
        for row, (x, _, text, size) in enumerate(placed[start : start + LINES_PER_PAGE]):
            baseline = TOP + (row + 1) * PITCH + (size - SIZE)
            if row % 3 == 2 and len(text) > 8:  # a line written as two objects, as some producers do
                cut = len(text) // 2
                objects.append(_text_object(ids, x, baseline, text[:cut], size, p))
                after = x + sum(_width(c, size) for c in text[:cut])
                objects.append(_text_object(ids, after, baseline, text[cut:], size, p))
            else:
                objects.append(_text_object(ids, x, baseline, text, size, p))
        number = f"— {len(pages) + 1} —"
        objects.append(_text_object(ids, 95.0, 282.0, number, SIZE, p))
        if shuffle:
            rng.shuffle(objects)
        pages.append(objects)

    files: dict[str, str] = {
        "OFD.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><{p}OFD {xmlns} Version="1.0" DocType="OFD">'
            f"<{p}DocBody><{p}DocInfo><{p}DocID>6b7c</{p}DocID><{p}Title>{title}</{p}Title>"
            f"<{p}CreationDate>2021-09-01</{p}CreationDate></{p}DocInfo>"
            f"<{p}DocRoot>Doc_0/Document.xml</{p}DocRoot></{p}DocBody></{p}OFD>"
        ),
        "Doc_0/Document.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><{p}Document {xmlns}><{p}CommonData>'
            f"<{p}PageArea><{p}PhysicalBox>0 0 210 297</{p}PhysicalBox></{p}PageArea>"
            f"<{p}PublicRes>PublicRes.xml</{p}PublicRes><{p}MaxUnitID>{ids[0] + 1}</{p}MaxUnitID></{p}CommonData>"
            f"<{p}Pages>"
            + "".join(f'<{p}Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>' for n in range(len(pages)))
            + f"</{p}Pages></{p}Document>"
        ),
        "Doc_0/PublicRes.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><{p}Res {xmlns} BaseLoc="Res"><{p}Fonts>'
            f'<{p}Font ID="3" FontName="仿宋" FamilyName="仿宋"/></{p}Fonts></{p}Res>'
        ),
    }
    for n, objects in enumerate(pages):
        files[f"Doc_0/Pages/Page_{n}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><{p}Page {xmlns}><{p}Content>'
            f'<{p}Layer ID="{n + 2}" Type="Body">' + "".join(objects) + f"</{p}Layer></{p}Content></{p}Page>"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def _package(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _members(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# ---------------------------------------------------------------- reading


def test_the_text_of_an_ofd_is_its_paragraphs_wrapped_lines_rejoined() -> None:
    body = build_ofd(PARAGRAPHS)
    pages = [name for name in _members(body) if name.endswith("Content.xml")]
    assert len(pages) >= 3  # the paragraphs run over several pages
    document = extract(body, url="http://gov.example.cn/plan.ofd")
    assert document.format == "ofd"
    assert document.title == TITLE
    # one block a paragraph: every printed line (22 a page, a paragraph continued over a page
    # break) joined back, page numbers left out
    assert [block.text for block in document.blocks] == [clean_display(p) for p in PARAGRAPHS]


def test_a_full_last_line_before_indented_one_line_paragraphs_ends_its_paragraph() -> None:
    # a paragraph whose last line is full, then a box caption and its table as indented one-line
    # paragraphs: the indent is the most common start of a line on that page, yet it is an indent
    lines = (CORPUS / "cixi-sti-plan-2021.txt").read_text(encoding="utf-8").splitlines()
    box = next(n for n, line in enumerate(lines) if line.startswith("专栏1"))
    prose = lines[box - 1].strip()
    full = next(n for n in range(len(prose), 0, -1) if _room(_wrap(prose[:n], LEFT + 2 * SIZE)[-1][1]) < SIZE / 2)
    cells = [line.strip() for line in lines[box : box + 14] if line.strip()]
    paragraphs = [prose[:full], *cells]
    assert len(_wrap(prose[:full], LEFT + 2 * SIZE)) < len(cells)
    document = extract(build_ofd(paragraphs), url="plan.ofd")
    assert [block.text for block in document.blocks] == [clean_display(p) for p in paragraphs]


def _room(line: str) -> float:
    """What a printed line leaves before the right margin, in millimetres."""
    return RIGHT - LEFT - sum(_width(c, SIZE) for c in line)


def test_targets_are_found_in_the_text_read_from_an_ofd() -> None:
    document = extract(build_ofd(PARAGRAPHS), url="plan.ofd")
    found = [t for block in document.blocks for t in extract_targets(block.text)]
    assert any(t.value == 3700 and t.unit == "家" and t.year == 2025 for t in found), found


def test_reading_order_holds_when_the_objects_are_written_out_of_order() -> None:
    ordered = extract(build_ofd(PARAGRAPHS), url="plan.ofd")
    shuffled_body = build_ofd(PARAGRAPHS, shuffle=True)
    content = _members(shuffled_body)["Doc_0/Pages/Page_0/Content.xml"].decode()
    assert content.index("— 1 —") < content.index(PARAGRAPHS[0][:6])  # really out of order
    shuffled = extract(shuffled_body, url="plan.ofd")
    assert shuffled.blocks == ordered.blocks
    assert [block.text for block in shuffled.blocks] == [clean_display(p) for p in PARAGRAPHS]


def test_elements_are_found_with_or_without_the_ofd_prefix() -> None:
    prefixed = extract(build_ofd(PARAGRAPHS[:2]), url="a.ofd")
    default_namespace = extract(build_ofd(PARAGRAPHS[:2], prefix=""), url="a.ofd")
    assert default_namespace.blocks == prefixed.blocks
    # a producer that writes the prefix without declaring it
    members = _members(build_ofd(PARAGRAPHS[:2]))
    undeclared = {name: data.replace(f' xmlns:ofd="{NS}"'.encode(), b"") for name, data in members.items()}
    assert b"xmlns" not in undeclared["OFD.xml"]
    assert extract(_package(undeclared), url="a.ofd").blocks == prefixed.blocks


def test_gbk_text_undeclared_or_declared_as_gb2312_is_read() -> None:
    members = _members(build_ofd(PARAGRAPHS[:2]))
    page = "Doc_0/Pages/Page_0/Content.xml"
    expected = extract(_package(members), url="a.ofd").blocks
    text = members[page].decode("utf-8").split("?>", 1)[1]
    undeclared = text.encode("gbk")
    declared = b'<?xml version="1.0" encoding="GB2312"?>' + text.encode("gbk")
    for written in (undeclared, declared):
        assert extract(_package({**members, page: written}), url="a.ofd").blocks == expected
    with pytest.raises(ExtractError, match=f"corrupt OFD: {page}: "):  # not GBK either
        extract(_package({**members, page: undeclared.replace(b"<ofd:Layer", b"\xff\xff<ofd:Layer", 1)}), url="a.ofd")


def test_an_ofd_is_recognised_by_its_package_whatever_its_name(tmp_path: Path) -> None:
    body = build_ofd(PARAGRAPHS[:1])
    path = tmp_path / "download.bin"
    path.write_bytes(body)
    assert extract_file(path).format == "ofd"
    assert extract(body, content_type="application/octet-stream").format == "ofd"


def test_the_text_of_a_template_page_is_read_with_the_page_that_uses_it() -> None:
    members = _members(build_ofd(PARAGRAPHS[:2]))
    assert "Doc_0/Pages/Page_1/Content.xml" not in members  # one page
    members["Doc_0/Document.xml"] = members["Doc_0/Document.xml"].replace(
        b"</ofd:CommonData>", b'<ofd:TemplatePage ID="90" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>'
    )
    mark = "（此件公开发布）"
    members["Doc_0/Tpls/Tpl_0/Content.xml"] = (
        f'<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="91">'
        + _text_object([91], 90.0, 264.0, mark, SIZE, "ofd:")
        + "</ofd:Layer></ofd:Content></ofd:Page>"
    ).encode()
    page = "Doc_0/Pages/Page_0/Content.xml"
    members[page] = members[page].replace(b"<ofd:Content>", b'<ofd:Template TemplateID="90" ZOrder="Background"/><ofd:Content>')
    document = extract(_package(members), url="plan.ofd")
    assert [block.text for block in document.blocks] == [*(clean_display(p) for p in PARAGRAPHS[:2]), mark]


def test_the_text_of_a_composite_unit_is_read_where_the_page_places_it() -> None:
    members = _members(build_ofd(PARAGRAPHS[:2]))
    mark = "（此件公开发布）"
    unit = (
        '<ofd:CompositeGraphicUnits><ofd:CompositeGraphicUnit ID="95" Width="40" Height="6"><ofd:Content>'
        + _text_object([95], 0.0, SIZE, mark, SIZE, "ofd:")
        + "</ofd:Content></ofd:CompositeGraphicUnit></ofd:CompositeGraphicUnits>"
    )
    members["Doc_0/PublicRes.xml"] = members["Doc_0/PublicRes.xml"].replace(b"</ofd:Res>", unit.encode() + b"</ofd:Res>")
    page = "Doc_0/Pages/Page_0/Content.xml"
    placed = b'<ofd:CompositeObject ID="96" ResourceID="95" Boundary="90 260 40 6"/>'
    members[page] = members[page].replace(b'Type="Body">', b'Type="Body">' + placed)  # first in the XML, last on the page
    document = extract(_package(members), url="plan.ofd")
    assert [block.text for block in document.blocks] == [*(clean_display(p) for p in PARAGRAPHS[:2]), mark]


def test_objects_placed_by_their_ctm_alone_are_read() -> None:
    # as a converter writes them: no Boundary, no Size, no X/Y, the page's BaseLoc an element;
    # a line in two objects, the second where the first one's two characters end; lines far
    # enough apart to be paragraphs of their own
    members = _members(build_ofd(PARAGRAPHS[:1]))
    ofd = "http://www.ofdspec.org/2016"
    members["Doc_0/Document.xml"] = (
        f'<ofd:Document xmlns:ofd="{ofd}"><ofd:Pages><ofd:Page ID="1"><ofd:BaseLoc>Pages/Page_0/Content.xml'
        "</ofd:BaseLoc></ofd:Page></ofd:Pages></ofd:Document>"
    ).encode()
    placed = [("31.7 25.4", "签 名 文 件"), ("31.7 45.4", "18.2 83"), ("31.7 65.4", "科技"), ("39.1 65.4", "创新")]
    members["Doc_0/Pages/Page_0/Content.xml"] = (
        f'<ofd:Page xmlns:ofd="{ofd}"><ofd:Content><ofd:Layer ID="1">'
        + "".join(
            f'<ofd:TextObject ID="{n}" CTM="1 0 0 1 {at}"><ofd:TextCode>{text}</ofd:TextCode></ofd:TextObject>'
            for n, (at, text) in enumerate(reversed(placed))
        )
        + "</ofd:Layer></ofd:Content></ofd:Page>"
    ).encode()
    document = extract(_package(members), url="toc.ofd")
    assert [block.text for block in document.blocks] == ["签 名 文 件", "18.2 83", "科技创新"]


# ---------------------------------------------------------------- damaged and hostile packages


def test_a_damaged_ofd_gives_a_clear_error() -> None:
    body = build_ofd(PARAGRAPHS[:4])
    with pytest.raises(ExtractError, match=r"corrupt OFD \(not a readable zip archive\)"):
        extract(body[: len(body) // 2], url="http://gov.example.cn/plan.ofd")
    members = _members(body)
    with pytest.raises(ExtractError, match="corrupt OFD: OFD.xml"):
        extract(_package({**members, "OFD.xml": b"<ofd:OFD><ofd:DocBody>"}), url="plan.ofd")
    del members["Doc_0/Pages/Page_1/Content.xml"]
    with pytest.raises(ExtractError, match=r"corrupt OFD: page 2 \('Pages/Page_1/Content.xml'\) is not in the package"):
        extract(_package(members), url="plan.ofd")


def test_a_zip_bomb_ofd_is_refused_while_it_inflates() -> None:
    members = _members(build_ofd(PARAGRAPHS[:1]))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with archive.open("Doc_0/Res/image_1.jb2", "w") as member:
            for _ in range(101):
                member.write(b"\0" * (1 << 20))
    assert len(bomb.getvalue()) < 1 << 20
    with pytest.raises(ExtractError, match=r"OFD refused: inflates to more than 100 MB \(zip bomb\?\)"):
        extract(bomb.getvalue(), url="plan.ofd")


def test_xml_with_entities_or_deep_nesting_is_refused() -> None:
    members = _members(build_ofd(PARAGRAPHS[:1]))
    page = "Doc_0/Pages/Page_0/Content.xml"
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE ofd:Page [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        + members[page].split(b"?>", 1)[1].replace(b"\xe5", b"&c;\xe5", 1)
    )
    with pytest.raises(ExtractError, match=f"OFD refused: {page} declares a DTD"):
        extract(_package({**members, page: laughs}), url="plan.ofd")
    deep = members[page].replace(b"<ofd:Layer", b"<ofd:PageBlock>" * 300 + b"<ofd:Layer")
    with pytest.raises(ExtractError, match="corrupt OFD: .*Excessive depth"):
        extract(_package({**members, page: deep}), url="plan.ofd")
    layer = members[page].index(b">", members[page].index(b"<ofd:Layer")) + 1
    nested = members[page][:layer] + b"<ofd:PageBlock>" * 20 + members[page][layer:].replace(
        b"</ofd:Layer>", b"</ofd:PageBlock>" * 20 + b"</ofd:Layer>"
    )
    with pytest.raises(ExtractError, match="OFD refused: page 1 nests objects more than 16 deep"):
        extract(_package({**members, page: nested}), url="plan.ofd")
    # page blocks within the limit are read
    within = members[page][:layer] + b"<ofd:PageBlock>" * 3 + members[page][layer:].replace(
        b"</ofd:Layer>", b"</ofd:PageBlock>" * 3 + b"</ofd:Layer>"
    )
    assert extract(_package({**members, page: within}), url="plan.ofd").blocks == extract(
        _package(members), url="plan.ofd"
    ).blocks


def test_a_page_that_draws_too_much_is_refused() -> None:
    members = _members(build_ofd(PARAGRAPHS[:1]))
    page = "Doc_0/Pages/Page_0/Content.xml"
    code = '<ofd:TextObject ID="1" Boundary="0 0 10 10" Size="1"><ofd:TextCode X="0" Y="1">{}</ofd:TextCode></ofd:TextObject>'
    many = "".join(code.format("字" * 1000) for _ in range(101)).encode()
    crowded = members[page].replace(b"</ofd:Layer>", many + b"</ofd:Layer>")
    with pytest.raises(ExtractError, match="OFD refused: page 1 draws more than 100000 characters and objects"):
        extract(_package({**members, page: crowded}), url="plan.ofd")
    # and before it is parsed, a page of more tags than a page may draw objects (twice over)
    paths = b'<ofd:PathObject ID="1" Boundary="0 0 1 1"/>' * 200_001
    with pytest.raises(ExtractError, match=f"OFD refused: {page} has more than 200000 tags"):
        extract(_package({**members, page: members[page].replace(b"</ofd:Layer>", paths + b"</ofd:Layer>")}), url="a.ofd")


# ---------------------------------------------------------------- a check of an OFD source


def test_a_check_stores_an_ofd_and_reports_a_changed_target(http_server: PageServer, write_config) -> None:
    old = build_ofd(PARAGRAPHS)
    changed = [p.replace("科技型中小企业数达3700家", "科技型中小企业数达3800家") for p in PARAGRAPHS]
    assert changed != PARAGRAPHS
    http_server.set("/files/plan.ofd", old, content_type="application/ofd")
    path = write_config([{"name": "plan", "url": http_server.url("/files/plan.ofd")}])
    settings = load_settings(str(path))
    (first,) = check_all(settings)
    assert (first.status, first.version_number, first.error) == ("new", 1, None)
    (again,) = check_all(settings)
    assert again.status == "unchanged"

    http_server.set("/files/plan.ofd", build_ofd(changed), content_type="application/ofd")
    (second,) = check_all(settings)
    assert (second.status, second.version_number) == ("new", 2)
    with Store(settings.storage_path) as store:
        versions = store.versions("plan")
        assert len(versions) == 2
        targets = [c for c in store.changes("plan") if c.kind == "target_changed"]
    assert len(targets) == 1 and second.changes >= 1
    target = targets[0].payload["target"]
    assert target["metric"] == "科技型中小企业数"
    assert (target["old"]["value"], target["new"]["value"]) == (3700, 3800)


def test_an_ofd_linked_from_a_notice_page_is_followed_as_an_attachment(http_server: PageServer, write_config) -> None:
    page = case_bytes("haishu-noise-page", "old.html").replace(b"</h1>", "</h1><p><a href='/files/plan.ofd'>附件</a></p>".encode())
    http_server.set("/notice.html", page)
    http_server.set("/files/plan.ofd", build_ofd(PARAGRAPHS), content_type="application/octet-stream")
    path = write_config([{"name": "notice", "url": http_server.url("/notice.html"), "attachments": True}])
    results = {r.source: r for r in check_all(load_settings(str(path)))}
    assert {name: r.status for name, r in results.items()} == {"notice": "new", "notice/plan.ofd": "new"}
    with Store(load_settings(str(path)).storage_path) as store:
        (version,) = store.versions("notice/plan.ofd")
    assert version.number == 1
