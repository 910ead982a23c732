"""The JSON rendering of a diff: the contract object (watcher.contract), pretty-printed.

Every JSON that watcher prints goes through `json_text`: the data is kept as stored (a parser
reads back every character), but control and bidirectional characters are written as \\uXXXX
escapes, so a terminal or an editor showing the file is not steered by them.
"""

from __future__ import annotations

import json

from watcher.contract import diff_to_dict
from watcher.model import Diff
from watcher.normalise import escape_controls


def json_text(data: object) -> str:
    """`data` as pretty-printed JSON, non-ASCII text as it is, controls as escapes."""
    return escape_controls(json.dumps(data, ensure_ascii=False, indent=2))


def render_json(diff: Diff, show_all: bool = True) -> str:
    """JSON is the contract: it always holds every change, so `show_all` changes nothing."""
    return json_text(diff_to_dict(diff))
