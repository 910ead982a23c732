"""Zip packages (DOCX, OFD): their members, inflated under caps.

Declared sizes are not trusted: zipfile stops a member at its declared size (a lie shows as a
bad CRC), but reading a member whole inflates everything its compressed data holds before it
cuts, so members are read a piece at a time and counted as they inflate.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator

from watcher.errors import ExtractError

MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # zip bomb guard: what the members inflate to, added up
MAX_MEMBERS = 10_000
_PIECE = 1024 * 1024  # inflated bytes read from a member at a time


def package_members(body: bytes, *, kind: str, required: str) -> Iterator[tuple[str, bytes]]:
    """(name, inflated bytes) of each file member of the zip `body`, in archive order, read
    under the caps; raises ExtractError, naming `kind` ("DOCX", "OFD"), for a zip bomb, a
    damaged archive, or one without the member `required`."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ExtractError(f"{kind} refused: {len(members)} zip members (limit {MAX_MEMBERS})")
            if required not in {member.filename for member in members}:
                raise ExtractError(f"corrupt {kind}: no {required} in the archive")
            total = 0
            for member in members:
                if member.is_dir():
                    continue
                pieces: list[bytes] = []
                with archive.open(member) as stream:
                    while piece := stream.read(_PIECE):
                        total += len(piece)
                        if total > MAX_UNZIPPED_BYTES:
                            raise ExtractError(
                                f"{kind} refused: inflates to more than {MAX_UNZIPPED_BYTES // 2**20} MB (zip bomb?)"
                            )
                        pieces.append(piece)
                yield member.filename, b"".join(pieces)
    # RuntimeError: an encrypted member
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, NotImplementedError, EOFError, RuntimeError,
            zlib.error) as exc:
        raise ExtractError(f"corrupt {kind} (not a readable zip archive): {exc}") from exc
