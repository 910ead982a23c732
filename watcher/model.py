"""Frozen value types shared by every stage of the pipeline.

fetch → extract → normalise → segment → align → classify → store → report → notify.
Each stage takes and returns these; none of them reaches back into the pipeline.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from watcher.kinds import KIND_ORDER, SUBSTANTIVE_KINDS, ChangeKind
from watcher.language import DEFAULT_LANGUAGE

# ---------------------------------------------------------------- sources and fetching


# A "listing" is a column page (规划计划, 工作总结 …) whose new links become watched documents.
SourceKind = Literal["page", "listing"]

# How a source is fetched: "plain" HTTP (retried in a browser when the answer is a challenge or a
# script-only page), or always in a "browser" that runs the page's scripts (watcher.browser).
FetchMode = Literal["plain", "browser"]
FETCH_MODES: tuple[FetchMode, ...] = ("plain", "browser")


@dataclass(frozen=True)
class Source:
    """A watched document, as configured."""

    name: str
    url: str
    selector: str | None = None
    encoding: str | None = None
    attachments: bool = False
    schedule: str | None = None
    tags: tuple[str, ...] = ()
    robots: bool = True
    title: str | None = None
    fetch: FetchMode = "plain"
    kind: SourceKind = "page"
    pattern: str | None = None  # a listing's entries: links whose URL or text this regex finds


@dataclass(frozen=True)
class Fetched:
    """One HTTP (or file://) response, before any decoding."""

    url: str  # final URL after redirects
    status: int  # 200, 304 …; 0 for file://
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    not_modified: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


# ---------------------------------------------------------------- extracted documents

BlockKind = Literal["heading", "paragraph", "table"]


@dataclass(frozen=True)
class Block:
    """One paragraph, heading or table of an extracted document, in display form.

    `level` is set only when the markup says it (h1–h6, DOCX "Heading N"); otherwise the
    segmenter infers levels from the numbering (一、 › （一） › 1. › （1）).
    """

    kind: BlockKind
    text: str = ""
    level: int | None = None
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Document:
    """A document as extracted from HTML, DOCX, PDF or text: the document, not the page."""

    blocks: tuple[Block, ...]
    title: str = ""
    format: str = "text"
    attachments: tuple[str, ...] = ()  # absolute URLs of linked .docx/.pdf/.doc/.wps files
    ocr: OcrReading | None = None  # set when some of the text was recognised from page images

    @property
    def text(self) -> str:
        """The display text: one line per paragraph, one line per table row (cells tab-separated)."""
        lines: list[str] = []
        for block in self.blocks:
            if block.kind == "table":
                lines.extend("\t".join(row) for row in block.rows)
            else:
                lines.append(block.text)
        return "\n".join(lines)


@dataclass(frozen=True)
class OcrReading:
    """Which scanned pages (PDF pages without a text layer) OCR read: their text may have
    recognition errors. Stored with the version and named in reports."""

    pages: tuple[int, ...]  # 1-based page numbers read by OCR
    unread: int = 0  # scanned pages past the OCR page cap, not read

    @property
    def note(self) -> str:
        """One line for a report: "OCR: pages 1–3 read by text recognition" …"""
        plural = "s" if len(self.pages) != 1 else ""
        note = f"OCR: page{plural} {_page_ranges(self.pages)} read by text recognition" if self.pages else "OCR"
        if self.unread:
            note += f"; {self.unread} more scanned page{'s' if self.unread != 1 else ''} not read (OCR page cap)"
        return note


def _page_ranges(pages: Sequence[int]) -> str:
    """1, 2, 3, 5 → "1–3, 5"."""
    ranges: list[list[int]] = []
    for page in pages:
        if ranges and page == ranges[-1][1] + 1:
            ranges[-1][1] = page
        else:
            ranges.append([page, page])
    return ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in ranges)


# ---------------------------------------------------------------- segmented clauses

# What a figure is to its document: a planned `target` (到2025年, 力争, 今年…预期), a `reported` outcome
# (去年…达到, 过去五年…), a `baseline` (基期, the earlier columns of a table) or a `threshold` (a
# quantified provision of a regulation: an amount, a fine, a period, a quorum).
Role = Literal["target", "reported", "baseline", "threshold"]


ClauseKind = Literal["heading", "sentence", "row"]


@dataclass(frozen=True)
class Clause:
    """The unit of comparison: a sentence of a paragraph, a heading, or a table row."""

    text: str  # display text as published
    key: str  # comparison form (normalise.comparison_form)
    path: tuple[str, ...]  # heading path, display form, numbering included
    kind: ClauseKind
    index: int  # position in document order
    block: int  # index of the paragraph/table it comes from
    measure: bool = False  # opens a numbered item (1. / （五）) or a sub-measure (三是…)
    numbering: str | None = None  # the numbering that opens it, e.g. "1." or "三是" (display only)
    header: tuple[str, ...] = ()  # for rows: the table's column headers
    cells: tuple[str, ...] = ()  # for rows: the cells
    items: tuple[int, ...] = ()  # ids (Item.id) of the numbered items / sub-measures it belongs to, outermost first
    year: int | None = None  # deadline year in force from earlier in its paragraph (到2025年…)
    role: Role = "target"  # what its figures are, from its section and the cues before it in its paragraph


@dataclass(frozen=True)
class Item:
    """A numbered heading or item, or a sub-measure (一是…): what can be added or removed as a whole."""

    id: int
    rank: float  # rank in the numbering order: 第一章 0, 一、 1, （一） 2, 1. 3, （1） 4, ① 5
    title: str  # display text of its opening clause
    numbered: bool  # opened by a heading number or 一是-style marker (not a bare markup heading)


# ---------------------------------------------------------------- targets

Comparator = Literal[">=", ">", "<=", "<", "=", "~"]


@dataclass(frozen=True)
class Target:
    """A quantified indicator: a target or a reported figure."""

    metric: str
    value: float | None  # None when the indicator has no single number (翻一番, 全覆盖)
    unit: str = ""
    comparator: Comparator | None = None
    year: int | None = None
    text: str = ""  # the literal words, e.g. "达3700家"
    # upper bound of a range: 1-2家 → value 1, value_max 2, comparator "="; a range stated by its
    # bounds (1万元以上3万元以下) has comparator ">=": at least value, at most value_max, two limits
    value_max: float | None = None
    role: Role = "target"

    def same_quantity(self, other: Target) -> bool:
        return (self.value, self.value_max, self.unit, self.comparator, self.year) == (
            other.value,
            other.value_max,
            other.unit,
            other.comparator,
            other.year,
        ) and (self.value is not None or self.text == other.text)


@dataclass(frozen=True)
class Indicator:
    """One entry of a version's target ledger: an indicator, the heading path it stands under and
    the clause that states it."""

    target: Target
    path: tuple[str, ...] = ()
    clause: str = ""


# How an indicator fares from one edition to the next (watcher diff --targets).
TargetStatus = Literal["raised", "lowered", "changed", "new", "dropped", "kept"]


@dataclass(frozen=True)
class TargetComparison:
    metric: str
    status: TargetStatus
    old: Indicator | None
    new: Indicator | None


# ---------------------------------------------------------------- changes and diffs

InlineOp = tuple[Literal["=", "-", "+"], str]


@dataclass(frozen=True)
class TargetChange:
    metric: str
    old: Target | None
    new: Target | None

    @property
    def role(self) -> Role:
        side = self.new if self.new is not None else self.old
        return side.role if side is not None else "target"


@dataclass(frozen=True)
class DocumentNews:
    """A document that appeared on (or went from) a page or a column page: what document_added and
    document_removed changes carry (watcher.documents)."""

    source: str  # the source it is watched as ("<page>/<file name>")
    url: str
    title: str  # the link's text, else the document's own title (its first heading), else the file name
    size: int | None = None  # bytes of its first (added) or last (removed) version, when one is stored
    targets: tuple[Indicator, ...] = ()  # its first targets, from the ledger of that version
    total_targets: int = 0  # how many targets that ledger has in all


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    path: tuple[str, ...]
    old: str | None = None
    new: str | None = None
    target: TargetChange | None = None
    inline: tuple[InlineOp, ...] = ()
    old_path: tuple[str, ...] | None = None
    document: DocumentNews | None = None  # document_added / document_removed only

    @property
    def substantive(self) -> bool:
        return self.kind in SUBSTANTIVE_KINDS


def summarise(changes: Sequence[Change]) -> dict[str, int]:
    """How many changes of each kind, in report order."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    return {kind: counts[kind] for kind in KIND_ORDER if kind in counts}


@dataclass(frozen=True)
class VersionInfo:
    """Identifies one side of a diff: a stored version or a local file."""

    ref: str
    title: str = ""
    fetched_at: str | None = None  # ISO 8601, UTC
    sha256: str = ""
    ocr: OcrReading | None = None  # the version's text was (partly) recognised by OCR


@dataclass(frozen=True)
class Diff:
    old: VersionInfo
    new: VersionInfo
    changes: tuple[Change, ...]

    @property
    def summary(self) -> dict[str, int]:
        return summarise(self.changes)

    @property
    def substantive(self) -> bool:
        return any(change.substantive for change in self.changes)


# ---------------------------------------------------------------- checks

# interrupted: the run was stopped before the check ended; never recorded
# blocked: the answer was a challenge or block page in place of the document (watcher.challenge)
CheckStatus = Literal["new", "unchanged", "failed", "suspicious", "interrupted", "blocked"]
# The outcomes that need a person's attention: listed in digests, a run of them is news once.
PROBLEM_STATUSES: tuple[CheckStatus, ...] = ("failed", "suspicious", "blocked")


@dataclass(frozen=True)
class CheckResult:
    """What one check of one source came to: the object every report of a run reads."""

    source: str
    status: CheckStatus
    url: str = ""
    http_status: int | None = None
    bytes: int = 0
    duration: float = 0.0
    version_id: int | None = None
    version_number: int | None = None
    error: str | None = None
    changes: int = 0  # stored changes of substance against the previous version
    sha256: str | None = None  # content hash of what this check read, when it got that far


# ---------------------------------------------------------------- stored versions


@dataclass(frozen=True)
class StoredVersion:
    """A distinct version of a source, as kept in the snapshot database."""

    id: int
    source: str
    number: int  # 1, 2, … per source
    fetched_at: str  # ISO 8601, UTC
    sha256: str  # content hash of the comparison form
    url: str = ""
    content_type: str = ""
    title: str = ""
    ocr: OcrReading | None = None
    # Reads the extracted display text from the store: listing versions decompresses none of them.
    load_text: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def text(self) -> str:
        """The extracted display text (read from the store when first asked)."""
        return self.load_text() if self.load_text is not None else ""

    @property
    def ref(self) -> str:
        return f"{self.source}@{self.number}"

    @property
    def info(self) -> VersionInfo:
        """How a diff names this version."""
        return VersionInfo(self.ref, self.title, self.fetched_at, self.sha256, self.ocr)


# ---------------------------------------------------------------- settings (parsed by watcher.config)


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 30.0  # seconds, connect and read
    retries: int = 3  # on connection errors and 5xx, with exponential backoff
    max_bytes: int = 50 * 1024 * 1024  # response size cap
    max_redirects: int = 5
    per_host: int = 2  # concurrent requests to one host
    delay: float = 1.0  # seconds between two requests to one host
    workers: int = 8  # sources fetched at once
    user_agent: str = "watcher/0.1 (+policy document change monitor)"
    suspicious_ratio: float = 0.3  # a body under this fraction of the last version's size is suspicious
    # Reading one document (extraction, diffing, ledger) runs in a worker process under these.
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)  # workers at once; 0: in-process
    document_memory: int = 384 * 1024 * 1024  # bytes of address space per worker: 2.5× what a 1 MB diff or a 60-page PDF takes
    document_seconds: float = 120.0  # wall-clock time per document
    max_attachments: int = 50  # attachments followed or refused per page; the rest are named in its note
    # Internal addresses pages and redirects may lead to (watcher.links.parse_allowance's forms)
    allow_internal: tuple[str, ...] = ()
    # The browser fetch (watcher.browser): Chromium's path, the time a page has to load (its
    # document parsed) and then to settle (scripts writing the page, their requests done).
    chromium: str = "/usr/bin/chromium"
    browser_timeout: float = 30.0
    browser_settle: float = 3.0


@dataclass(frozen=True)
class ClusterSettings:
    # tcp://host:port or tls://host:port of a dask.distributed scheduler (watcher.cluster);
    # None: documents are read in this machine's worker processes
    scheduler: str | None = None


@dataclass(frozen=True)
class EmailRoute:
    tags: tuple[str, ...]
    to: tuple[str, ...]


@dataclass(frozen=True)
class EmailSettings:
    smtp_host: str
    sender: str  # the "from" key
    to: tuple[str, ...]
    smtp_port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None  # name of the environment variable holding the password
    routes: tuple[EmailRoute, ...] = ()
    timeout: float = 30.0


@dataclass(frozen=True)
class DigestSettings:
    schedule: str = "0 8 * * *"  # cron expression, used by `watcher run`
    send_empty: bool = False  # send a digest even when nothing changed in substance
    # The full report's address, linked from channel digests; "{source}" stands for the source's name
    report_url: str | None = None


@dataclass(frozen=True)
class ReportSettings:
    """[report]: the language of every report and digest, and the zone their times are shown in
    (stored times stay UTC)."""

    language: str = DEFAULT_LANGUAGE  # one of watcher.language.LANGUAGES
    timezone: str | None = None  # an IANA name; None: the system's local zone


ChannelFormat = Literal["auto", "markdown", "text"]


@dataclass(frozen=True)
class Channel:
    """A [[notify]] channel: a team chat, a webhook, a mailbox, reached through its URL."""

    name: str  # the key of its sent/unsent bookkeeping: keep it when the URL changes
    url: str  # as written: ${NAME} references stay unexpanded until the moment of sending
    tags: tuple[str, ...] = ()  # the sources sharing one of them; none: every source
    format: ChannelFormat = "auto"  # auto: Markdown where the service renders it, plain text elsewhere


@dataclass(frozen=True)
class RetentionSettings:
    """[storage] keep_checks_days / keep_versions: what `watcher prune` may remove (0 keeps all)."""

    keep_checks_days: int = 0  # check rows older than this many days go
    keep_versions: int = 0  # per source, versions older than its last N go (never one a change names)


@dataclass(frozen=True)
class Settings:
    config_path: str
    storage_path: str  # absolute path of the SQLite database
    retention: RetentionSettings = RetentionSettings()
    sources: tuple[Source, ...] = ()
    email: EmailSettings | None = None
    digest: DigestSettings = DigestSettings()
    fetch: FetchSettings = FetchSettings()
    notify: tuple[Channel, ...] = ()
    cluster: ClusterSettings = ClusterSettings()
    report: ReportSettings = ReportSettings()
