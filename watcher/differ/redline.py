"""The redline of a modified clause: a character diff on tokens, so that numbers stay whole
(-3700 +4000), compared in loose comparison form, so that it never marks what is formatting only.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from watcher.model import InlineOp
from watcher.normalise import comparison_forms, loose_form

__all__ = ["inline_diff", "two_sides"]

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[A-Za-z]+|\s+|.", re.S)


def inline_diff(old: str, new: str) -> tuple[InlineOp, ...]:
    """Character diff after semantic clean-up, on tokens so that numbers stay whole (-3700 +4000).

    Tokens are compared in loose comparison form, so a redline never shows what is formatting only
    (punctuation, a Traditional character, a space), as the classifier calls such a clause
    formatting; equal runs show the new text."""
    ops: list[InlineOp] = []
    for kind, old_piece, new_piece in _pieces(old, new):
        if kind == "-":
            _append(ops, "-", old_piece)
        elif kind == "+":
            _append(ops, "+", new_piece)
        elif new_piece:  # equal, or formatting only: shown as it now stands
            _append(ops, "=", new_piece)
    return tuple(ops)


def two_sides(old: str, new: str) -> tuple[tuple[InlineOp, ...], tuple[InlineOp, ...]]:
    """The same diff as inline_diff, as the two texts side by side (a 新旧对照表): the old text
    with its deletions marked "-", the new text with its insertions marked "+"; each side keeps its
    own wording of the runs that differ in formatting only."""
    old_ops: list[InlineOp] = []
    new_ops: list[InlineOp] = []
    for kind, old_piece, new_piece in _pieces(old, new):
        if old_piece:
            _append(old_ops, "-" if kind == "-" else "=", old_piece)
        if new_piece:
            _append(new_ops, "+" if kind == "+" else "=", new_piece)
    return tuple(old_ops), tuple(new_ops)


def _append(ops: list[InlineOp], kind: str, piece: str) -> None:
    if ops and ops[-1][0] == kind:
        ops[-1] = (ops[-1][0], ops[-1][1] + piece)
    elif piece:
        ops.append((kind, piece))  # type: ignore[arg-type]


def _pieces(old: str, new: str) -> list[tuple[str, str, str]]:
    """The token diff as (kind, old piece, new piece): "=" for runs equal in loose form (each
    side's own text), "-" and "+" for the changes; a change that is formatting only is "=" with
    one side empty."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    distinct = list(dict.fromkeys(old_tokens + new_tokens))
    forms = dict(zip(distinct, map(loose_form, comparison_forms(distinct)), strict=True))
    symbols: dict[str, str] = {}

    def encode(tokens: list[str]) -> str:
        return "".join(symbols.setdefault(forms[t], chr(0x100 + len(symbols))) for t in tokens)

    engine = diff_match_patch()
    engine.Diff_Timeout = 1.0
    diffs = engine.diff_main(encode(old_tokens), encode(new_tokens), False)
    engine.diff_cleanupSemantic(diffs)
    pieces: list[tuple[str, str, str]] = []
    i = j = 0
    for op, text in diffs:
        n = len(text)
        if op == 0:
            pieces.append(("=", "".join(old_tokens[i : i + n]), "".join(new_tokens[j : j + n])))
            i, j = i + n, j + n
        elif op == -1:
            piece = "".join(old_tokens[i : i + n])
            formatting = not "".join(forms[t] for t in _TOKEN.findall(piece))
            pieces.append(("=", piece, "") if formatting else ("-", piece, ""))
            i += n
        else:
            piece = "".join(new_tokens[j : j + n])
            formatting = not "".join(forms[t] for t in _TOKEN.findall(piece))
            pieces.append(("=", "", piece) if formatting else ("+", "", piece))
            j += n
    return pieces
