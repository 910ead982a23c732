"""The differ's word lists: what a figure is to its document, and what makes a paragraph a provision.

Vocabulary, not rules: each list is read once into a pattern by the stage that uses it (targets
reads the role cues, segment the section cues and the provision numbering, classify the obligation
and principle words). Add words here, not in the stages.
"""

from __future__ import annotations

import re

from watcher.model import Role
from watcher.numbering import CN_DIGITS

# ---------------------------------------------------------------- roles of figures

# Words in a clause that say what the figures after them are. The nearest one before a figure wins
# over the role in force from the paragraph or the section.
ROLE_CUES: tuple[tuple[Role, tuple[str, ...]], ...] = (
    ("reported", ("去年", "上年", "过去一年", "过去五年", "过去", "五年来", "一年来", "多年来", "已经", "完成了",
                  "实现了", "达到了", "全年完成", "实际完成", "今年以来", "今年上半年", "今年前")),
    ("target", ("今年", "明年", "预期目标", "预期", "力争", "拟", "计划", "目标", "确保", "争取", "安排")),
)
# A deadline (到2025年, 截至2027年): the year the figures after it are for, and a target cue.
DEADLINE_YEAR = r"(?:到|至|截至|截止到?)\s*((?:19|20)\d{2})\s*年"
FUTURE_YEAR = r"(?:到|至)\s*(?:19|20)\d{2}\s*年"
# Words of time that open a clause and are no part of a metric (截至目前，…).
LEAD_PERIODS = ("截至目前", "近年来", "现阶段")
# Cues strong enough to end a reported section's role (a review section speaks of the past); not
# when what follows makes them the past (今年以来, 今年上半年).
FUTURE_CUES = ("今年", "明年")
FUTURE_NOT_BEFORE = ("以来", "上半年", "前")

# Names of one indicator, read as one in metric keys (longer name first): 规模以上 is written 规上;
# a budget's 一般公共预算支出 is the 全国财政支出 of a work report.
METRIC_SYNONYMS: tuple[tuple[str, str], ...] = (("规模以上", "规上"), ("一般公共预算支出", "财政支出"))

# Column headers of an indicator table's baseline values (the earlier years' columns are too).
BASELINE_HEADERS = ("基期", "基准", "现状", "基数")

# Headings of sections whose figures are outcomes (a work report's review) or plans.
SECTION_CUES: tuple[tuple[Role, tuple[str, ...]], ...] = (
    ("reported", ("回顾", "总结", "成就", "成效", "执行情况", "完成情况", "发展基础", "现实基础", "工作基础",
                  "基础条件", "发展现状", "现状", "取得的进展", "过去一年", "过去五年", "年来的工作")),
    ("target", ("目标", "任务", "部署", "建议", "安排", "展望", "政策取向", "重点工作")),
)

# An increment: a change against the previous period (比去年增加1800亿元, 比去年预算低0.4个百分点),
# said of an indicator, not an indicator of its own. Growth rates (比上年增长6%) stay indicators.
INCREMENT_BASE = ("去年预算", "上年预算", "去年", "上年", "上一年", "前一年", "年初", "预算", "上期")
INCREMENT_VERBS = ("增加", "减少", "增长", "下降", "提高", "降低", "多", "少", "高", "低", "扩大", "缩小")

# ---------------------------------------------------------------- provisions

# A document numbered in articles (第一条 …) at least this often is a regulation: its figures are
# thresholds.
MIN_ARTICLES = 3

# Words that make a paragraph a provision: an obligation, a power, a prohibition, or a sanction.
SANCTION_WORDS = ("罚款", "没收", "吊销", "责令", "处分", "追究", "拘留")
OBLIGATION_WORDS = (
    "应当", "不得", "可以", "禁止", "必须", "有权", "负责", "撤销", "予以", "给予", "依法", "须经", "应予",
    "严禁", "法律效力", "不予", *SANCTION_WORDS,
)
# A paragraph whose only statement is a principle (坚持…领导, 贯彻…方针) is not a provision, unless
# it also sanctions (违者处…罚款) or states a figure.
PRINCIPLE_WORDS = ("坚持", "贯彻", "遵循", "秉持", "体现")

# Cross-references to articles, paragraphs and items (依照本条例第二十条, 前款第（一）项): renumbered
# with the articles they point at, so they are left out of the comparison of clauses.
CROSS_REFERENCE = re.compile(
    rf"第[{CN_DIGITS}百零〇\d]+(?:条|款|项)(?:之[{CN_DIGITS}]+)?|第[(（][{CN_DIGITS}\d]+[)）]项"
)


# ---------------------------------------------------------------- metadata lines

# Lines about a document rather than of it: its history (2012年2月15日 国务院第192次常务会议通过,
# 2023年7月20日 《…的决定》第五次修订) and its document number (法释〔2022〕8号). Read in
# comparison form (half-width brackets).
RECORD_VERBS = ("通过", "公布", "发布", "施行", "修订", "修正", "批准", "印发", "废止", "颁布")
RECORD_LINE = re.compile(
    r"^\(?(?:根据)?(?:19|20)\d{2}年\d{1,2}月\d{1,2}日.{0,120}?(?:" + "|".join(RECORD_VERBS) + r")\)?(?:根据)?$"
)
DOCUMENT_NUMBER = re.compile(r"^[\u4e00-\u9fff]{1,12}[\[(]\d{4}[\])]第?\d{1,4}号$")


def alternation(words: tuple[str, ...]) -> str:
    """A regular-expression alternation of `words`, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# ---------------------------------------------------------------- pages that are no document

# What a soft error page says (served with 200 in place of the document). Only a short text with
# one of these, and not the source's own document, is taken for one.
ERROR_PAGE_CUES = (
    "页面不存在", "页面未找到", "找不到页面", "找不到该页面", "页面已删除", "页面已过期", "您访问的页面",
    "您所访问的页面", "访问的页面不存在", "信息不存在", "文章不存在", "该信息已删除", "内容已删除",
    "404 not found", "404错误", "错误404", "error 404", "page not found", "頁面不存在", "找不到網頁",
)
ERROR_PAGE_MAX_CHARS = 500

# What a challenge or block page says in place of the document: an anti-bot check asking for
# JavaScript or a human, or a web application firewall's refusal. General words of such pages,
# matched (case-folded) only in a page of at most CHALLENGE_MAX_CHARS characters of visible text.
CHALLENGE_CUES = (
    # JavaScript or cookies required
    "开启javascript", "启用javascript", "打开javascript", "允许javascript", "支持javascript",
    "开启js", "启用js", "javascript被禁用", "浏览器不支持javascript", "开启cookie", "启用cookie",
    "enable javascript", "javascript is disabled", "javascript is required", "requires javascript",
    "turn on javascript", "enable cookies",
    # a check of the visitor
    "安全验证", "人机验证", "访问验证", "滑动验证", "验证码", "正在验证", "请稍候", "浏览器安全检查",
    "checking your browser", "verify you are human", "are you a robot", "captcha", "just a moment",
    "ddos protection", "bot protection",
    # a firewall's refusal
    "防火墙", "waf", "访问被拦截", "请求被拦截", "已被拦截", "访问被阻断", "已被阻断", "拒绝访问",
    "访问受限", "非法请求", "疑似攻击", "安全防护", "access denied", "request blocked",
    "has been blocked", "attention required", "web application firewall",
)
CHALLENGE_MAX_CHARS = 300
