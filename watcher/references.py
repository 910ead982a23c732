"""What the operands of `watcher diff` refer to: a local file or a stored version (SOURCE@N, id …),
each read into a Document and its VersionInfo. The I/O edge of the command; the diff itself is
`watcher.differ.diff_documents`."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from watcher.differ import document_hash
from watcher.errors import ConfigError, ExtractError, VersionNotFound
from watcher.formats import is_document_name
from watcher.model import Document, VersionInfo


def file_info(path: str, document: Document) -> VersionInfo:
    modified = datetime.fromtimestamp(os.path.getmtime(path), tz=UTC)
    return VersionInfo(
        ref=path,
        title=document.title,
        fetched_at=modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        sha256=document_hash(document),
        ocr=document.ocr,
    )


def load_side(operand: str, config_path: str | None = None) -> tuple[Document, VersionInfo]:
    """A local file (.html/.htm/.txt/.docx/.pdf) or a stored version reference (SOURCE@N, id …).

    The I/O edge of `watcher diff`: reads the file or the snapshot database (never creating it)."""
    if operand == "-":
        raise ExtractError("-: documents are not read from standard input; give a file or a stored version")
    if os.path.isdir(operand):
        raise ExtractError(f"{operand}: a directory, not a document")
    if os.path.isfile(operand):
        from watcher.extract import extract_file

        try:
            document = extract_file(operand)
        except ExtractError as exc:
            message = str(exc)
            raise ExtractError(message if operand in message else f"{operand}: {message}") from None
        return document, file_info(operand, document)
    # Not a file: a stored version. An attachment's source name ("page/plan.docx") looks like a
    # path, so a path-like operand is looked up too, and reported as a missing file if it is neither.
    path_like = os.sep in operand or is_document_name(operand)
    from watcher.config import load_settings
    from watcher.store import Store

    try:
        settings = load_settings(config_path)
    except ConfigError:
        if path_like:
            raise ExtractError(f"{operand}: no such file") from None
        raise
    if not os.path.exists(settings.storage_path):
        if path_like:
            raise ExtractError(f"{operand}: no such file")
        raise VersionNotFound(
            f"{operand}: not a file, and no snapshot database at {settings.storage_path} to look it up in"
        )
    with Store(settings.storage_path) as store:
        try:
            version = store.resolve(operand)
        except VersionNotFound:
            if path_like:
                raise ExtractError(f"{operand}: no such file, nor a stored version of that name") from None
            raise
        document = store.document(version.id)
    return document, version.info
