"""watcher: a change monitor for published policy documents.

The pipeline: fetch → extract → normalise → segment → align → classify → store → report → notify.

The public API, imported on first use so that `import watcher` (and the CLI's start) stays light:

    from watcher import extract_file, diff_documents, RENDERERS
    diff = diff_documents(extract_file("old.docx"), extract_file("new.html"))
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "extract": "watcher.extract",
    "extract_file": "watcher.extract",
    "diff_documents": "watcher.differ",
    "RENDERERS": "watcher.report",
    "load_settings": "watcher.config",
    "check_all": "watcher.check",
    "Store": "watcher.store",
    "send_digest": "watcher.digest",
    "diff_to_dict": "watcher.contract",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'watcher' has no attribute {name!r}")
