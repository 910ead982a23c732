"""Display text → comparison form: each kind of publication noise compares equal, substance does not."""

from __future__ import annotations

import re
from pathlib import Path

import opencc
import pytest

from watcher.normalise import (
    KnownForms,
    clean_display,
    comparison_form,
    comparison_forms,
    content_hash,
    loose_form,
    reading_form,
    reading_forms,
)

CORPUS = Path(__file__).parent / "data" / "corpus"
SENTENCE = "到2025年，力争科技型中小企业数达3700家（其中国家级3家）；坚持“技术+制度”双轮驱动。"


@pytest.mark.parametrize(
    "noisy",
    [
        "到2025年,力争科技型中小企业数达3700家(其中国家级3家);坚持\"技术+制度\"双轮驱动。",  # half-width
        "到２０２５年，力争科技型中小企业数达３７００家（其中国家级３家）；坚持“技术+制度”双轮驱动。",  # full-width digits
        "到2025年，力争科技型中小\n企业数达3700家（其中国家级3家）；\u3000坚持“技术+制度”双轮驱动。",  # wrapping, indent
        "到2025年，力爭科技型中小企業數達3700家（其中國家級3家）；堅持「技術+制度」雙輪驅動。",  # Traditional
        "[bookmark: _Toc14345]到2025年，力争科技型中小企业数达3700家（其中国家级3家）；坚持“技术+制度”双轮驱动。",
        "到2025年，力争科技型中小企业数达3700家（其中国家级3家）；坚持“技术 制度”双轮驱动。",  # '+' lost
    ],
)
def test_publication_noise_compares_equal(noisy: str) -> None:
    assert comparison_form(noisy) == comparison_form(SENTENCE)


@pytest.mark.parametrize(
    "edited",
    [
        SENTENCE.replace("3700", "4000"),
        SENTENCE.replace("2025", "2027"),
        SENTENCE.replace("达", "超过"),
        SENTENCE.replace("3700家", "37.00家"),
    ],
)
def test_substance_does_not(edited: str) -> None:
    assert edited != SENTENCE
    assert comparison_form(edited) != comparison_form(SENTENCE)


def test_a_whole_traditional_edition_of_a_plan_compares_equal() -> None:
    text = (CORPUS / "cixi-sti-plan-2021.txt").read_text(encoding="utf-8")
    for config in ("s2t", "s2tw", "s2hk"):
        assert comparison_form(opencc.OpenCC(config).convert(text)) == comparison_form(text), config


def test_batch_and_single_forms_agree() -> None:
    lines = [line for line in (CORPUS / "haishu-sti-plan-2021.txt").read_text(encoding="utf-8").splitlines() if line][:200]
    assert comparison_forms(lines) == [comparison_form(line) for line in lines]
    to_traditional = opencc.OpenCC("s2tw")
    traditional = [to_traditional.convert(line).replace("，", "， ") for line in lines]
    assert reading_forms(lines + traditional) == [reading_form(line) for line in lines + traditional]


def test_known_forms_are_reused_and_the_rest_added() -> None:
    lines = [line for line in (CORPUS / "haishu-sti-plan-2021.txt").read_text(encoding="utf-8").splitlines() if line][:60]
    known = KnownForms()
    first = comparison_forms(lines[:40], known)
    assert first == [comparison_form(line) for line in lines[:40]]
    assert set(known.clauses) == set(lines[:40])
    # a form already known is taken as it is, not converted again
    known.clauses[lines[0]] = "reused"
    second = comparison_forms(lines, known)
    assert second[0] == "reused"
    assert second[1:] == [comparison_form(line) for line in lines[1:]]
    assert set(known.clauses) == set(lines)


def _dictionary_keys(config: str) -> set[str]:
    """Every phrase and character key of the OpenCC dictionaries a configuration uses."""
    import marisa_trie

    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    header = b"OPENCC_MARISA_0.2.5"
    names = set(re.findall(r'"file":\s*"([^"]+\.ocd2)"', (share / f"{config}.json").read_text(encoding="utf-8")))
    keys: set[str] = set()
    for name in names:
        data = (share / name).read_bytes()
        assert data.startswith(header), name
        trie = marisa_trie.Trie()
        trie.frombytes(data[len(header) :])
        keys.update(trie.keys())
    return keys


def test_no_dictionary_phrase_runs_across_a_full_stop_or_the_separator() -> None:
    # what cutting a text at "。" (KnownForms.whole) and joining batches with the separator rest on
    for config in ("s2t", "t2s"):
        keys = _dictionary_keys(config)
        assert len(keys) > 4000, config  # the dictionaries were read
        assert any(len(key) > 1 for key in keys), config
        assert not [key for key in keys if "。" in key or "\ue000" in key], config


def test_a_documents_form_through_known_forms_is_the_very_same_string() -> None:
    # the version identity (document_hash) must not move: lines and sentences converted apart and
    # shared between two versions give the whole text's form
    to_traditional = opencc.OpenCC("s2tw").convert
    texts = [path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))]
    texts += [to_traditional(text) for text in texts]
    texts += [
        "[bookmark:\n_Toc1]三、重点任务。\n加强　领导\n{ PAGE\n}",  # export marks across lines
        "甲\ue000乙。丙",  # the separator kept in a text
        "。。", "", "无句号的标题", "ｅ\u0301\ncombining\u0301。后",
    ]
    known = KnownForms()
    for text in texts:
        assert comparison_form(text, known) == comparison_form(text)
    assert comparison_form(texts[0], known) == comparison_form(texts[0])  # from what is known


def test_loose_form_drops_marks_but_keeps_decimals_and_percent() -> None:
    assert loose_form(comparison_form("“揭榜挂帅·全球引智”行动，比重达3.6%。")) == "揭榜挂帅全球引智行动比重达3.6%"
    assert loose_form("3.6") != loose_form("36")


def test_display_form_keeps_the_text_but_drops_artefacts_and_controls() -> None:
    assert clean_display("[bookmark: _Toc1]三、重点任务  \t 加强\u3000领导") == "三、重点任务 加强 领导"
    assert clean_display("规划\x1b]0;title\x07全文\x9b") == "规划]0;title全文"


def test_content_hash_is_the_identity_of_a_comparison_form() -> None:
    assert content_hash(comparison_form(SENTENCE)) == content_hash(comparison_form(SENTENCE.replace("，", ",")))
    assert content_hash("a") != content_hash("b")
