"""Changes made of real plan sentences (shared/corpus), for the report, digest and notify tests.

Not a test module.
"""

from __future__ import annotations

from watcher.model import Block, Change, Diff, Document, Source, Target, TargetChange, VersionInfo
from watcher.store import Store

# Sentences of shared/corpus/cixi-sti-plan-2021.txt (三、重点任务 › （二） › 1.) and haishu's plan.
PATH = ("三、重点任务", "（二）着力实施以企业为主体的精兵科技工程", "1.培育量大面广的科技型企业群体")
OLD_TARGET = "到2025年，力争科技型中小企业数达3700家。"
NEW_TARGET = "到2025年，力争科技型中小企业数达4000家。"
NEW_MEASURE = "四是实施企业上市培育工程。支持科技型企业对接多层次资本市场。"
OLD_CLAUSE = "探索科技贷款贴息、知识产权质押贷款等科技信贷产品，破解科技型中小企业融资难题。"
NEW_CLAUSE = "探索科技贷款贴息、知识产权质押融资等科技金融产品，破解科技型中小企业融资难题。"
SCRIPT = "到2025年<script>alert('x')</script>研发投入占比达到3.6%。"


def target(value: float | None, text: str, year: int = 2025, **kw) -> Target:
    return Target("科技型中小企业数", value, "家", ">=", year, text, **kw)


TARGET_CHANGE = Change(
    "target_changed",
    PATH,
    OLD_TARGET,
    NEW_TARGET,
    TargetChange("科技型中小企业数", target(3700.0, "达3700家"), target(4000.0, "达4000家")),
    (("=", "到2025年，力争科技型中小企业数达"), ("-", "3700"), ("+", "4000"), ("=", "家。")),
)
MEASURE = Change("measure_added", PATH, None, NEW_MEASURE)
MODIFIED = Change(
    "clause_modified",
    ("三、重点任务", "（四）强化科技金融"),
    OLD_CLAUSE,
    NEW_CLAUSE,
    inline=(
        ("=", "探索科技贷款贴息、知识产权质押"),
        ("-", "贷款"),
        ("+", "融资"),
        ("=", "等科技"),
        ("-", "信贷"),
        ("+", "金融"),
        ("=", "产品，破解科技型中小企业融资难题。"),
    ),
)
FORMATTING = Change(
    "formatting",
    ("一、发展基础",),
    "积极推动科技企业双倍增,市级累计培育高新技术企业380家。",
    "积极推动科技企业双倍增，市级累计培育高新技术企业380家。",
)
HOSTILE = Change("clause_added", ("二、总体要求",), None, SCRIPT)

DIFF = Diff(
    VersionInfo("cixi-plan@3", "慈溪市科技创新“十四五”规划", "2026-11-20T06:00:03Z", "a" * 64),
    VersionInfo("cixi-plan@4", "慈溪市科技创新“十四五”规划", "2026-11-21T06:00:02Z", "b" * 64),
    (TARGET_CHANGE, MEASURE, MODIFIED, FORMATTING, HOSTILE),
)


def store_sample(store: Store, source: Source) -> None:
    """Two versions of `source` (the old and new text of TARGET_CHANGE) and DIFF as their changes."""
    store.upsert_source(source)
    old, new = (
        store.add_version(source.name, Document((Block("paragraph", text),)), sha256=text, raw=text.encode())
        for text in (TARGET_CHANGE.old, TARGET_CHANGE.new)
    )
    store.add_changes(new.id, old.id, DIFF)
