"""The kinds of change: their names, the order reports list them in, their groups and their labels
(gettext msgids: the catalogs in watcher/locale translate them).

Every reader (the model, the differ, the renderers, the digest's subject) reads them here, so a new
kind or a new label is one edit in this module.
"""

from __future__ import annotations

from typing import Literal, get_args

from watcher.language import N_, NP_, _, count

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

# Short labels of each kind (English msgids, translated when shown: watcher.language), and the
# phrase that counts them ("{n}" is the number).
KIND_LABELS: dict[str, str] = {
    "document_added": N_("new document"),
    "document_removed": N_("document removed"),
    "target_changed": N_("target changed"),
    "target_added": N_("target added"),
    "target_removed": N_("target removed"),
    "measure_added": N_("new measure"),
    "measure_removed": N_("removed measure"),
    "clause_modified": N_("clause modified"),
    "clause_added": N_("clause added"),
    "clause_removed": N_("clause removed"),
    "clause_moved": N_("clause moved"),
    "formatting": N_("formatting change"),
}
KIND_COUNTS: dict[str, tuple[str, str]] = {
    "document_added": NP_("{n} new document", "{n} new documents"),
    "document_removed": NP_("{n} document removed", "{n} documents removed"),
    "target_changed": NP_("{n} target changed", "{n} targets changed"),
    "target_added": NP_("{n} target added", "{n} targets added"),
    "target_removed": NP_("{n} target removed", "{n} targets removed"),
    "measure_added": NP_("{n} new measure", "{n} new measures"),
    "measure_removed": NP_("{n} removed measure", "{n} removed measures"),
    "clause_modified": NP_("{n} clause modified", "{n} clauses modified"),
    "clause_added": NP_("{n} clause added", "{n} clauses added"),
    "clause_removed": NP_("{n} clause removed", "{n} clauses removed"),
    "clause_moved": NP_("{n} clause moved", "{n} clauses moved"),
    "formatting": NP_("{n} formatting change", "{n} formatting changes"),
}

# How a digest's subject counts changes of substance: groups of kinds, each with its counted phrase
# ("3 targets, 1 new measure, 2 changed clauses").
SUBJECT_GROUPS: tuple[tuple[frozenset[str], tuple[str, str]], ...] = (
    (frozenset({"document_added"}), NP_("{n} new document", "{n} new documents")),
    (frozenset({"document_removed"}), NP_("{n} removed document", "{n} removed documents")),
    (TARGET_KINDS, NP_("{n} target", "{n} targets")),
    (frozenset({"measure_added"}), NP_("{n} new measure", "{n} new measures")),
    (frozenset({"measure_removed"}), NP_("{n} removed measure", "{n} removed measures")),
    (CLAUSE_KINDS, NP_("{n} changed clause", "{n} changed clauses")),
)


def kind_label(kind: str) -> str:
    """The label of a kind in the language of the rendering ("new measure", 新增举措); an unknown
    kind is its own label."""
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def count_phrase(kind: str, n: int) -> str:
    """"1 new measure", "3 targets changed" (目标调整 3 项), in the language of the rendering."""
    return count(KIND_COUNTS[kind], n) if kind in KIND_COUNTS else f"{n} {kind}"
