"""The JSON rendering of a diff: the contract object (watcher.contract), pretty-printed."""

from __future__ import annotations

import json

from watcher.contract import diff_to_dict
from watcher.model import Diff


def render_json(diff: Diff, show_all: bool = True) -> str:
    """JSON is the contract: it always holds every change, so `show_all` changes nothing."""
    return json.dumps(diff_to_dict(diff), ensure_ascii=False, indent=2)
