"""The kinds of change: their names, the order reports list them in, their groups and their labels.

Every reader (the model, the differ, the renderers, the digest's subject) reads them here, so a new
kind or a new label is one edit in this module.
"""

from __future__ import annotations

from typing import Literal, get_args

ChangeKind = Literal[
    "document_added",
    "document_removed",
    "target_changed",
    "target_added",
    "target_removed",
    "measure_added",
    "measure_removed",
    "clause_modified",
    "clause_added",
    "clause_removed",
    "clause_moved",
    "formatting",
]

# The order in which reports list kinds (the Literal's order): what an analyst reads first. A new
# document (a plan published as an attachment or on a column page) is the biggest news there is.
KIND_ORDER: tuple[str, ...] = get_args(ChangeKind)

DOCUMENT_KINDS: frozenset[str] = frozenset({"document_added", "document_removed"})  # watcher.documents
TARGET_KINDS: frozenset[str] = frozenset({"target_changed", "target_added", "target_removed"})
MEASURE_KINDS: frozenset[str] = frozenset({"measure_added", "measure_removed"})
CLAUSE_KINDS: frozenset[str] = frozenset({"clause_modified", "clause_added", "clause_removed", "clause_moved"})
FORMATTING_KINDS: frozenset[str] = frozenset({"formatting"})  # counted, hidden unless asked for
SUBSTANTIVE_KINDS: frozenset[str] = frozenset(KIND_ORDER) - FORMATTING_KINDS

# Short labels of each kind, in the singular and the plural.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "document_added": ("new document", "new documents"),
    "document_removed": ("document removed", "documents removed"),
    "target_changed": ("target changed", "targets changed"),
    "target_added": ("target added", "targets added"),
    "target_removed": ("target removed", "targets removed"),
    "measure_added": ("new measure", "new measures"),
    "measure_removed": ("removed measure", "removed measures"),
    "clause_modified": ("clause modified", "clauses modified"),
    "clause_added": ("clause added", "clauses added"),
    "clause_removed": ("clause removed", "clauses removed"),
    "clause_moved": ("clause moved", "clauses moved"),
    "formatting": ("formatting change", "formatting changes"),
}

# The same labels in Simplified Chinese, for the 新旧对照表 and the feed (until the reports' labels
# come from gettext catalogs, issue 12 item 1).
KIND_LABELS_ZH: dict[str, str] = {
    "target_changed": "目标调整",
    "target_added": "新增目标",
    "target_removed": "删除目标",
    "measure_added": "新增举措",
    "measure_removed": "删除举措",
    "clause_modified": "条文修改",
    "clause_added": "新增条文",
    "clause_removed": "删除条文",
    "clause_moved": "条文移动",
    "formatting": "格式变化",
}

# How a digest's subject counts changes of substance: groups of kinds, each with its label in the
# singular and the plural ("3 targets, 1 new measure, 2 changed clauses").
SUBJECT_GROUPS: tuple[tuple[frozenset[str], str, str], ...] = (
    (frozenset({"document_added"}), "new document", "new documents"),
    (frozenset({"document_removed"}), "removed document", "removed documents"),
    (TARGET_KINDS, "target", "targets"),
    (frozenset({"measure_added"}), "new measure", "new measures"),
    (frozenset({"measure_removed"}), "removed measure", "removed measures"),
    (CLAUSE_KINDS, "changed clause", "changed clauses"),
)


def kind_label(kind: str) -> str:
    """The singular label of a kind ("new measure"); an unknown kind is its own label."""
    return KIND_LABELS.get(kind, (kind, kind))[0]


def count_phrase(kind: str, n: int) -> str:
    """"1 new measure", "3 targets changed"."""
    singular, plural = KIND_LABELS.get(kind, (kind, kind))
    return f"{n} {singular if n == 1 else plural}"


def count_phrase_zh(summary: dict[str, int]) -> str:
    """"目标调整 1 项、新增举措 1 项" for a summary (kind → count) in report order."""
    return "、".join(f"{KIND_LABELS_ZH.get(kind, kind)} {n} 项" for kind, n in summary.items())
