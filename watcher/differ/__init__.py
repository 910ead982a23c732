"""The clause-level differ: two Documents → a Diff of changes of the contract's kinds.

segment (clauses with heading paths, roles and numbered items) → align (old clauses ↔ new clauses) →
classify (changes per aligned pair or unpaired unit), with the targets of each clause read by
`targets` and the indicators that clause alignment leaves over paired over the whole document by
`ledger`. Everything here is pure: documents in, changes out. Its normal forms are
`watcher.normalise`, its word lists `watcher.vocabulary` and `watcher.numbering`.
"""

from __future__ import annotations

# the stage modules, not their functions: `watcher.differ.segment` stays the module
from watcher.differ import align, classify, segment
from watcher.model import Diff, Document, VersionInfo
from watcher.normalise import KnownForms, comparison_form, content_hash

__all__ = ["diff_documents", "document_hash"]


def document_hash(document: Document, known: KnownForms | None = None) -> str:
    """The identity of a version: the hash of its comparison form (`known`: the forms of a diff,
    see KnownForms; the hash is the same with it or without)."""
    return content_hash(comparison_form(document.text, known))


def diff_documents(
    old: Document,
    new: Document,
    *,
    old_info: VersionInfo | None = None,
    new_info: VersionInfo | None = None,
) -> Diff:
    forms = KnownForms()  # the versions share most clauses and lines: each is converted once
    old_segments, new_segments = segment.segment(old, forms), segment.segment(new, forms)
    pairs = align.align(old_segments.clauses, new_segments.clauses)
    changes = classify.classify(old_segments, new_segments, pairs, titles=(old.title, new.title))
    return Diff(
        old=old_info or VersionInfo(ref="old", title=old.title, sha256=document_hash(old, forms), ocr=old.ocr),
        new=new_info or VersionInfo(ref="new", title=new.title, sha256=document_hash(new, forms), ocr=new.ocr),
        changes=tuple(changes),
    )
