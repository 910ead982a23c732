"""The redline of a modified clause: a character diff on tokens, so that numbers stay whole
(-3700 +4000), compared in loose comparison form, so that it never marks what is formatting only.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from watcher.model import InlineOp
from watcher.normalise import comparison_forms, loose_form

__all__ = ["inline_diff"]

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[A-Za-z]+|\s+|.", re.S)


def inline_diff(old: str, new: str) -> tuple[InlineOp, ...]:
    """Character diff after semantic clean-up, on tokens so that numbers stay whole (-3700 +4000).

    Tokens are compared in loose comparison form, so a redline never shows what is formatting only
    (punctuation, a Traditional character, a space), as the classifier calls such a clause
    formatting; equal runs show the new text."""
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
    ops: list[InlineOp] = []
    i = j = 0
    for op, text in diffs:
        n = len(text)
        if op == 0:
            piece, kind = "".join(new_tokens[j : j + n]), "="
            i, j = i + n, j + n
        elif op == -1:
            piece, kind = "".join(old_tokens[i : i + n]), "-"
            i += n
        else:
            piece, kind = "".join(new_tokens[j : j + n]), "+"
            j += n
        if kind != "=" and not "".join(forms[t] for t in _TOKEN.findall(piece)):
            if kind == "-":
                continue  # a space or a lost mark dropped: nothing to show
            kind = "="  # one added: shown as it now stands
        if ops and ops[-1][0] == kind == "=":
            ops[-1] = ("=", ops[-1][1] + piece)
        elif piece:
            ops.append((kind, piece))  # type: ignore[arg-type]
    return tuple(ops)
