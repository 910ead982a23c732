"""What the operands of `watcher diff` refer to: a local file or a stored version (SOURCE@N, id …),
each read into a Document and its VersionInfo. The I/O edge of the command; the diff itself is
`watcher.differ.diff_documents`."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from watcher.differ import document_hash
from watcher.errors import ExtractError, VersionNotFound
from watcher.formats import is_document_name
from watcher.model import Document, VersionInfo


def file_info(path: str, document: Document) -> VersionInfo:
    modified = datetime.fromtimestamp(os.path.getmtime(path), tz=timezone.utc)
    return VersionInfo(
        ref=path,
        title=document.title,
        fetched_at=modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        sha256=document_hash(document),
    )


def load_side(operand: str, config_path: str | None = None) -> tuple[Document, VersionInfo]:
    """A local file (.html/.htm/.txt/.docx/.pdf) or a stored version reference (SOURCE@N, id …).

    The I/O edge of `watcher diff`: reads the file or the snapshot database (never creating it)."""
    if os.path.isfile(operand):
        from watcher.extract import extract_file

        try:
            document = extract_file(operand)
        except ExtractError as exc:
            message = str(exc)
            raise ExtractError(message if operand in message else f"{operand}: {message}") from None
        return document, file_info(operand, document)
    if os.sep in operand or is_document_name(operand):
        raise ExtractError(f"{operand}: no such file")
    from watcher.config import load_settings
    from watcher.store import Store

    settings = load_settings(config_path)
    if not os.path.exists(settings.storage_path):
        raise VersionNotFound(
            f"{operand}: not a file, and no snapshot database at {settings.storage_path} to look it up in"
        )
    with Store(settings.storage_path) as store:
        version = store.resolve(operand)
        document = store.document(version.id)
    return document, VersionInfo(ref=version.ref, title=version.title, fetched_at=version.fetched_at, sha256=version.sha256)

