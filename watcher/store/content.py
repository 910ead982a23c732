"""A version's stored bytes, one compressed column: the raw body, its blocks (JSON), what its
ledger says besides the queryable columns (JSON), and — only when it differs from the blocks'
text — the display text.

Packed together in one xz stream: the raw HTML already holds the text the blocks repeat, so the
blocks cost about a kilobyte more than the raw body alone (zlib's 32 KiB window cannot see that
far back). Preset 2: measured on the 66 KiB test page, 24.7 KB in 6 ms where preset 6 gives
22.6 KB in 35–50 ms, and zlib-6 46 KB for raw and blocks apart; reading is 1 ms either way."""

from __future__ import annotations

import lzma
import struct
from dataclasses import dataclass

from watcher.errors import StoreError

PRESET = 2
_HEADER = struct.Struct(">4I")  # the four parts' lengths


@dataclass(frozen=True)
class VersionContent:
    raw: bytes
    blocks: bytes  # UTF-8 JSON of the blocks (versions._block_dict)
    ledger: bytes = b""  # UTF-8 JSON: per indicator [text, path, clause]; empty when none stored
    text: bytes = b""  # UTF-8 display text, kept only where it is not the blocks' text

    def pack(self) -> bytes:
        parts = (self.raw, self.blocks, self.ledger, self.text)
        header = _HEADER.pack(*(len(part) for part in parts))
        return lzma.compress(header + b"".join(parts), format=lzma.FORMAT_XZ, preset=PRESET)


def unpack(packed: bytes) -> VersionContent:
    try:
        data = lzma.decompress(packed, format=lzma.FORMAT_XZ)
    except lzma.LZMAError as exc:
        raise StoreError(f"a stored version's content is damaged: {exc}") from None
    sizes = _HEADER.unpack_from(data)
    if _HEADER.size + sum(sizes) != len(data):
        raise StoreError("a stored version's content is damaged: its parts do not add up")
    parts, start = [], _HEADER.size
    for size in sizes:
        parts.append(data[start : start + size])
        start += size
    return VersionContent(*parts)
