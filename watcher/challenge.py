"""Challenge and block pages: answers that stand in for the document and are no version of it.

Sites answer plain HTTP clients with an anti-bot check (an HTTP 412 or 403 with a script, a 200
page that is only a script, a "请开启JavaScript" shell) or a web application firewall's block
page. Such an answer is `blocked`: never a version, never an empty-document change. It is
recognised by general cues, not by any one site's page:

- words (watcher.vocabulary.CHALLENGE_CUES) in a page of little visible text
  (at most CHALLENGE_MAX_CHARS characters; a document that quotes 验证码 is longer);
- structure: a body whose visible text is tiny (SCRIPT_ONLY_MAX_CHARS) while scripts dominate it
  (their weight at least SCRIPT_DOMINANCE times the visible text). A page whose text a script
  writes looks the same before it runs: the browser fetch renders it, and only what is still
  script-only there stays blocked.

Nothing here solves or reverses a challenge; watcher.check retries such a page in a browser,
nothing more. Run in a worker (watcher.reading), like every other reading of fetched bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from watcher.decode import decode
from watcher.vocabulary import CHALLENGE_CUES, CHALLENGE_MAX_CHARS

SCRIPT_ONLY_MAX_CHARS = 60  # visible characters of a shell whose content a script writes
SCRIPT_DOMINANCE = 5  # script weight (characters) per visible character of such a shell
EXTERNAL_SCRIPT_WEIGHT = 1000  # an external script counts as this many characters of script
_HIDDEN = ("script", "style", "noscript", "template", "head")  # no visible text of the page
_SPACE = re.compile(r"\s+")
_CUES = tuple(cue.casefold() for cue in CHALLENGE_CUES)


@dataclass(frozen=True)
class PageShape:
    """What a challenge is recognised by: the page's visible text and the weight of its scripts."""

    visible: str  # the body's visible text, blanks collapsed
    hidden: str  # title and <noscript> text: where a shell asks for JavaScript
    scripts: int  # <script> elements
    script_weight: int  # characters of inline script, plus EXTERNAL_SCRIPT_WEIGHT per external one


def page_shape(body: bytes, http_charset: str | None = None, encoding: str | None = None) -> PageShape:
    """The shape of an HTML body."""
    text = decode(body, http_charset=http_charset, override=encoding, markup=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return PageShape("", "", 0, 0)
    hidden = " ".join("".join(map(str, el.itertext())) for el in root.iter("title", "noscript"))
    scripts = list(root.iter("script"))
    weight = sum(len(el.text or "") + (EXTERNAL_SCRIPT_WEIGHT if el.get("src") else 0) for el in scripts)
    for el in list(root.iter(*_HIDDEN)):
        if isinstance(el, lxml.html.HtmlElement) and el.getparent() is not None:
            el.drop_tree()  # its tail text stays
    found = root.find("body")
    visible = "".join(map(str, found.itertext())) if found is not None else ""
    return PageShape(_SPACE.sub(" ", visible).strip(), _SPACE.sub(" ", hidden).strip(), len(scripts), weight)


_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)


def challenge_reason(shape: PageShape, status: int = 200) -> str | None:
    """Why this page is a challenge or block page in place of the document; None when it is not."""
    size = len(shape.visible)
    answer = f"HTTP {status}" if status else "the page"
    if size <= CHALLENGE_MAX_CHARS:
        folded = f"{shape.visible} {shape.hidden}".casefold()
        cue = next((cue for cue in _CUES if cue in folded), None)
        if cue is not None:
            return f"{answer} is a challenge or block page ({size} characters of text, saying {cue!r})"
    if shape.scripts and size <= SCRIPT_ONLY_MAX_CHARS and shape.script_weight >= SCRIPT_DOMINANCE * max(size, 1):
        return (
            f"{answer} is only a script ({size} characters of text, {shape.scripts} script"
            f"{'' if shape.scripts == 1 else 's'}): its content is written by JavaScript or it is a challenge"
        )
    return None


def challenge_in(body: bytes, status: int = 200, http_charset: str | None = None, encoding: str | None = None) -> str | None:
    """challenge_reason of an HTML body."""
    return challenge_reason(page_shape(body, http_charset, encoding), status)
