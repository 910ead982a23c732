"""The `watcher` command: thin commands that call the library.

Every library error (WatcherError) becomes one line on stderr and a documented exit status:
  0  success (for `diff`: no change of substance)
  1  `diff` only: changes of substance
  2  usage or configuration error, or any other error
  3  `check`: some sources failed or were blocked (the others were checked and stored); `reextract`: some failed
  4  another run holds the database lock
  130  stopped by Ctrl-C (`check`: the sources finished are kept, the others were not checked)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast, get_args

import click

from watcher.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, WatcherError
from watcher.model import Role
from watcher.normalise import printable
from watcher.report import DIFF_FORMATS, DOCUMENT_FORMATS, LISTING_FORMATS, TARGET_FORMATS

if TYPE_CHECKING:
    import logging
    from email.message import EmailMessage

    from rich.console import RenderableType

    from watcher.channels import ChannelOutcome
    from watcher.digest import Digest, DigestOutcome
    from watcher.model import CheckResult, ReportSettings, Settings
    from watcher.store import Store

_Command = TypeVar("_Command", bound=Callable[..., Any])

ROLES: tuple[str, ...] = get_args(Role)  # the roles of figures


# -q / -v, on the group and on every command (`watcher -v check` and `watcher check -v`): how much
# goes to stderr. Quiet: errors only (no progress bar, no log warnings, no "sent …" lines);
# default: warnings; -v: what each step did (INFO); -vv: DEBUG, with the tracebacks of recorded
# failures. What a command prints on stdout is the same at every level.
QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2
_VERBOSITY = "watcher.verbosity"


def verbosity(ctx: click.Context | None = None) -> int:
    """The run's verbosity: QUIET, NORMAL, VERBOSE or DEBUG."""
    ctx = ctx or click.get_current_context()
    level: int = ctx.find_root().meta.get(_VERBOSITY, NORMAL)
    return level


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if not value:
        return
    meta = ctx.find_root().meta
    level = QUIET if param.name == "quiet" else min(DEBUG, max(NORMAL, meta.get(_VERBOSITY, NORMAL)) + int(value))
    meta[_VERBOSITY] = level
    _configure_logging(level)


def _verbosity_options() -> list[click.Option]:
    return [
        click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_set_verbosity,
                     help="Say more on stderr: -v what each step did, -vv debugging detail."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_set_verbosity,
                     help="Only errors on stderr: no progress, warnings or notices."),
    ]


def _configure_logging(level: int) -> None:
    """One stderr handler on the root logger at the level `level` asks for (replacing the last)."""
    import logging

    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "watcher", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.watcher = True  # type: ignore[attr-defined]
    detailed = "%(levelname)s %(name)s: %(message)s"
    handler.setFormatter(_log_formatter(detailed if level >= VERBOSE else None))
    root.addHandler(handler)
    root.setLevel({QUIET: logging.ERROR, NORMAL: logging.WARNING, VERBOSE: logging.INFO}.get(level, logging.DEBUG))


def _notice(message: str) -> None:
    """An informational line on stderr ("sent …", "wrote …"), left out under -q."""
    if verbosity() > QUIET:
        click.echo(message, err=True)


class WatcherGroup(click.Group):
    """Turns library errors into one clear line and an exit status; gives every command -q and -v."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.extend(_verbosity_options())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WatcherError as exc:  # each carries its exit status; its message may quote a server or a document
            click.echo(f"watcher: {printable(str(exc))}", err=True)
            ctx.exit(exc.exit_status)
        except KeyboardInterrupt:  # Ctrl-C where a command has nothing to keep (`check` keeps what it did)
            click.echo("watcher: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # a bug: still one line and status 2, so `diff` never exits 1 on it
            if os.environ.get("WATCHER_DEBUG"):
                raise
            problem = f"{type(exc).__name__}: {printable(str(exc))}"
            click.echo(f"watcher: internal error: {problem} (set WATCHER_DEBUG=1 for a traceback)", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=WatcherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="WATCHER_CONFIG",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: config/watcher.toml; env WATCHER_CONFIG).",
)
@click.version_option(package_name="watcher")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Watch published plans and report what changed in substance."""
    import logging

    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    if logging.lastResort is not None:  # what prints a warning when nothing configured logging
        logging.lastResort.setFormatter(_log_formatter())


cli.params.extend(_verbosity_options())  # the group takes -q/-v too: `watcher -v check`


def _log_formatter(fmt: str | None = None) -> logging.Formatter:
    """Log lines quote servers and documents: they reach stderr through `printable`."""
    import logging

    class Printable(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return printable(super().format(record))

    return Printable(fmt)


# --lang on the commands that render a report: the report's language for this run, over [report]
# language. The rendering (language and time zone) is set around the command (watcher.language).
_LANG = "watcher.lang"


def _rendered(func: _Command) -> _Command:
    import functools

    from watcher.language import LANGUAGES

    @functools.wraps(func)
    def command(*args: Any, lang: str | None = None, **kwargs: Any) -> Any:
        from watcher.language import rendering

        ctx = click.get_current_context()
        ctx.meta[_LANG] = lang
        report = _report_settings(ctx)
        with rendering(report.language, report.timezone):
            return func(*args, **kwargs)

    option = click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=None,
        help="The language of the report (default: [report] language in the config, else zh).",
    )
    return cast(_Command, option(command))


def _report_settings(ctx: click.Context) -> ReportSettings:
    """[report] of the config (its defaults when there is no config file: a diff of two local
    files needs none), with --lang over its language."""
    from watcher.config import config_path
    from watcher.model import ReportSettings

    if os.path.exists(config_path(ctx.obj["config_path"])):
        return _settings(ctx).report  # read once: the command reads the same settings
    lang = ctx.meta.get(_LANG)
    return ReportSettings(language=lang) if lang else ReportSettings()


@cli.command("diff")
@_rendered
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DIFF_FORMATS + DOCUMENT_FORMATS),
    default="text",
    show_default=True,
    help="text: a redline for the terminal; json: the diff contract; markdown; html: one page; "
    "docx: a 新旧对照表 (Word), to --output FILE or to stdout when it is not a terminal.",
)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write the report to FILE.")
@click.option("--all", "show_all", is_flag=True, help="Also list formatting-only changes.")
@click.option(
    "--targets",
    is_flag=True,
    help="Compare the two target ledgers instead: each indicator kept, raised, lowered, changed, new or "
    "dropped (successive editions: this year's work report against last year's).",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(ROLES),
    help="With --targets: the roles compared (repeatable; default target and threshold).",
)
@click.pass_context
def diff_command(
    ctx: click.Context, old: str, new: str, fmt: str, output: str | None, show_all: bool, targets: bool,
    roles: tuple[str, ...],
) -> None:
    """Compare two versions: stored references (SOURCE@N, SOURCE@-1, an id) or local files.

    Exit status like diff(1): 0 no change of substance (with --targets: every target kept),
    1 changes, 2 error.
    """
    from watcher.differ import diff_documents
    from watcher.references import load_side
    from watcher.report import document_renderer, renderer

    if fmt in DOCUMENT_FORMATS and targets:
        raise click.BadParameter(f"{fmt} is a comparison of clauses; --targets prints text, json, markdown or html",
                                 param_hint="--format")
    config_path = ctx.obj["config_path"]
    old_doc, old_info = load_side(old, config_path)
    new_doc, new_info = load_side(new, config_path)
    if targets:
        from watcher.differ.ledger import PLANNED, compare_editions
        from watcher.report.targets import render_editions

        comparisons = compare_editions(old_doc, new_doc, cast("tuple[Role, ...]", roles) or PLANNED)
        _report(render_editions(old_info, new_info, comparisons, fmt), output)
        ctx.exit(EXIT_CHANGES if any(c.status != "kept" for c in comparisons) else EXIT_OK)
    result = diff_documents(old_doc, new_doc, old_info=old_info, new_info=new_info)
    if fmt in DOCUMENT_FORMATS:
        _report(document_renderer(fmt)(result, show_all), output)
    else:
        _report(renderer(fmt)(result, show_all), output)
    ctx.exit(EXIT_CHANGES if result.substantive else EXIT_OK)


def _report(report: str | bytes, output: str | None) -> None:
    """A report to FILE, or to stdout; a binary one (a .docx) never to a terminal, where it would
    be noise that can upset the terminal."""
    from watcher.errors import OutputError
    from watcher.report import write_report

    data = report.encode("utf-8") + b"\n" if isinstance(report, str) else report
    if output:
        write_report(output, data)
    elif isinstance(report, str):
        click.echo(report)
    elif sys.stdout.isatty():
        raise OutputError("a Word file is not for a terminal: give --output FILE, or redirect stdout to a file")
    else:
        click.echo(data, nl=False)  # bytes: to the binary stream under stdout


@cli.command("targets")
@_rendered
@click.argument("ref")
@click.option("--format", "fmt", type=click.Choice(TARGET_FORMATS), default="text", show_default=True)
@click.pass_context
def targets_command(ctx: click.Context, ref: str, fmt: str) -> None:
    """The target ledger of a version (SOURCE@N, an id) or a local file: every indicator with
    its value, unit, year and role (target, reported, baseline, threshold), read by this watcher
    (the ledger stored with a version is the one of the watcher that stored or re-extracted it)."""
    from watcher.differ.ledger import indicators
    from watcher.references import load_side
    from watcher.report.targets import render_ledger

    document, info = load_side(ref, ctx.obj["config_path"])
    click.echo(render_ledger(info, indicators(document), fmt))


# ---------------------------------------------------------------- watching: check, sources, history, show, reextract


_SETTINGS = "watcher.settings"


def _settings(ctx: click.Context) -> Settings:
    """The config, read once a command (its rendering and the command itself both need it)."""
    from dataclasses import replace

    from watcher.config import load_settings

    if _SETTINGS not in ctx.meta:
        settings = load_settings(ctx.obj["config_path"])
        lang = ctx.meta.get(_LANG)  # --lang: over [report] language for this run
        ctx.meta[_SETTINGS] = replace(settings, report=replace(settings.report, language=lang)) if lang else settings
    loaded: Settings = ctx.meta[_SETTINGS]
    return loaded


def _existing_store(settings: Settings, read_only: bool = False) -> Store:
    """The snapshot database, which read-only commands never create (`read_only`: opened so that
    it cannot be written, nor migrated)."""
    from watcher.errors import VersionNotFound
    from watcher.store import Store

    if not os.path.exists(settings.storage_path):
        raise VersionNotFound(f"no snapshot database at {settings.storage_path} yet: run `watcher check` first")
    return Store(settings.storage_path, read_only=read_only)


def _echo_json(data: object) -> None:
    from watcher.report.json import json_text

    click.echo(json_text(data))


def _print_table(table: RenderableType) -> None:
    """A table of watcher.report.listings on stdout; wide when stdout is a file or a pipe, so rows
    stay one line."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 240
    console.print(table)


def _format_option(func: _Command) -> _Command:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(LISTING_FORMATS),
        default="text",
        show_default=True,
        help="json: machine-readable, on stdout only.",
    )(func)


@cli.command("check")
@_rendered
@click.argument("sources", nargs=-1)
@_format_option
@click.pass_context
def check_command(ctx: click.Context, sources: tuple[str, ...], fmt: str) -> None:
    """Fetch the sources (all by default), store new versions and their changes.

    Exit status: 0 when every source was checked (new, unchanged or suspicious), 3 when some
    failed or were blocked by a challenge page (each is recorded; the others were still checked),
    4 when another run holds the database lock, 130 when Ctrl-C stopped it (the sources finished
    are kept; the others are listed as interrupted and not recorded).
    """
    import logging

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from watcher.check import check_all, select_sources
    from watcher.contract import check_result_to_dict
    from watcher.report.listings import check_line, check_table

    settings = _settings(ctx)
    selected = select_sources(settings, sources)

    def said(result: CheckResult, total: int) -> None:  # -v: a line a source as it is done
        logging.getLogger("watcher.check").info(check_line(result))

    stderr = Console(stderr=True)
    if stderr.is_terminal and verbosity() > QUIET:
        columns = (
            TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.description}", markup=False),  # a source name is not markup
        )
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task("", total=len(selected))

            def progress(result: CheckResult, total: int) -> None:
                said(result, total)
                bar.update(task, advance=1, total=total, description=printable(f"{result.source}: {result.status}"))

            results = check_all(settings, sources, progress)
    else:
        results = check_all(settings, sources, said)
    if fmt == "json":
        _echo_json([check_result_to_dict(result) for result in results])
    else:
        _print_table(check_table(results))
    stopped = sum(r.status == "interrupted" for r in results)
    if stopped:
        click.echo(f"watcher: interrupted: {stopped} of {len(results)} sources not checked (the next run checks them)", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    ctx.exit(EXIT_SOME_FAILED if any(r.status in ("failed", "blocked") for r in results) else EXIT_OK)


@cli.command("sources")
@_rendered
@_format_option
@click.pass_context
def sources_command(ctx: click.Context, fmt: str) -> None:
    """List the configured sources (and attachments found), with their last check."""
    from watcher.contract import source_status_to_dict
    from watcher.report.listings import source_table
    from watcher.sources import source_statuses
    from watcher.store import SourceRecord

    settings = _settings(ctx)
    stored: list[SourceRecord] = []
    if os.path.exists(settings.storage_path):
        with _existing_store(settings) as store:
            stored = store.sources()
    statuses = source_statuses(settings, stored)
    if fmt == "json":
        _echo_json([source_status_to_dict(status) for status in statuses])
        return
    _print_table(source_table(settings.config_path, statuses))


@cli.command("history")
@_rendered
@click.argument("source")
@_format_option
@click.pass_context
def history_command(ctx: click.Context, source: str, fmt: str) -> None:
    """List the stored versions of SOURCE (id, number, fetched time, hash)."""
    from watcher.contract import version_to_dict
    from watcher.report.listings import version_table

    with _existing_store(_settings(ctx)) as store:
        versions = store.versions(source)
        if not versions:
            store.resolve(source)  # raises the clear error: unknown source, or no version yet
    if fmt == "json":
        _echo_json([version_to_dict(v) for v in versions])
        return
    _print_table(version_table(source, versions))


@cli.command("show")
@click.argument("ref")
@click.pass_context
def show_command(ctx: click.Context, ref: str) -> None:
    """Print the text of a stored version: SOURCE, SOURCE@N, SOURCE@latest, SOURCE@-1 or an id."""
    with _existing_store(_settings(ctx)) as store:
        click.echo(printable(store.resolve(ref).text))  # stored text may predate control stripping


@cli.command("reextract")
@click.argument("sources", nargs=-1)
@click.pass_context
def reextract_command(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """Run extraction again over the stored raw bytes (after the extractor improved).

    Updates each version's text, blocks and hash and lists the versions whose hash changed.
    Exit status 3 when some versions could not be extracted (their old text is kept).
    """
    from watcher.check import reextract

    settings = _settings(ctx)
    _existing_store(settings).close()
    done = reextract(settings, sources)
    for item in done:
        if item.error:
            click.echo(f"{item.version.ref}: not re-extracted: {printable(item.error)}", err=True)
        elif item.changed:
            click.echo(f"{item.version.ref}: hash changed {item.version.sha256[:12]} -> {item.sha256[:12]}")
    changed = sum(item.changed for item in done)
    failed = sum(item.error is not None for item in done)
    _notice(f"re-extracted {len(done) - failed} of {len(done)} versions; {changed} with a new hash")
    ctx.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@cli.command("prune")
@click.option("--vacuum", is_flag=True, help="Then give the freed space back to the file system (rewrites the file).")
@click.pass_context
def prune_command(ctx: click.Context, vacuum: bool) -> None:
    """Remove check rows and versions older than [storage] keep_checks_days / keep_versions.

    Never a source's latest version, nor one a stored change or document names; never a source's
    latest check, its current run of failures or the check its validators come from."""
    settings = _settings(ctx)
    retention = settings.retention
    if not (retention.keep_checks_days or retention.keep_versions):
        _notice("nothing to prune: set [storage] keep_checks_days or keep_versions")
    with _existing_store(settings) as store:
        done = store.prune(retention)
        if vacuum:
            store.vacuum()
    click.echo(
        f"removed {done.checks} checks and {done.versions} versions ({done.indicators} ledger rows); "
        f"kept {done.versions_kept} older versions that stored changes or documents name"
    )


@cli.command("accept")
@click.argument("source")
@click.pass_context
def accept_command(ctx: click.Context, source: str) -> None:
    """Take the body of SOURCE's last check, which looked suspicious (an error page, a text much
    shorter than the last version), as its next version after all.

    Exit status 2 when the last check of SOURCE was not suspicious or kept no body.
    """
    from watcher.check import accept_source

    settings = _settings(ctx)
    _existing_store(settings).close()
    result = accept_source(settings, source)
    click.echo(f"{result.source}@{result.version_number}: stored, {result.changes} changes of substance")


# ---------------------------------------------------------------- reporting: changes, digest, run


class _Since(click.ParamType[str]):
    """`7d`, `12h`, `30m`, `2w` (that long ago) or an ISO date/time → the UTC time the store compares."""

    name = "since"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from watcher.changes import parse_since

        try:
            return parse_since(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_since_option = click.option(
    "--since", type=_Since(), default=None, help="Only changes stored since: 30m, 12h, 7d, 2w or an ISO date."
)


@cli.command("changes")
@_rendered
@click.argument("source", required=False)
@_since_option
@_format_option
@click.option("--all", "show_all", is_flag=True, help="Also list formatting-only changes (text).")
@click.pass_context
def changes_command(ctx: click.Context, source: str | None, since: str | None, fmt: str, show_all: bool) -> None:
    """List the stored changes (of SOURCE, or of every source), one block per new version."""
    from watcher.changes import stored_diffs
    from watcher.contract import stored_change_to_dict
    from watcher.report.text import render_text

    with _existing_store(_settings(ctx)) as store:
        if fmt == "json":
            _echo_json([stored_change_to_dict(row) for row in store.changes(source=source, since=since)])
            return
        diffs = stored_diffs(store, source, since)
    if not diffs:
        _notice("watcher: no stored changes" + (f" since {since}" if since else ""))
    for diff in diffs:
        click.echo(render_text(diff, show_all) + "\n")


@cli.command("feed")
@_rendered
@click.argument("source", required=False)
@_since_option
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write the feed to FILE (default: stdout).")
@click.pass_context
def feed_command(ctx: click.Context, source: str | None, since: str | None, output: str | None) -> None:
    """An Atom feed of the stored changes of substance (of SOURCE, or of every source): one entry
    per new version, newest first (the newest 100)."""
    from watcher.changes import stored_change_sets
    from watcher.report.feed import render_feed

    with _existing_store(_settings(ctx)) as store:
        if source and not store.versions(source):
            store.resolve(source)  # raises the clear error: unknown source, or no version yet
        change_sets = stored_change_sets(store, source, since)
    _report(render_feed(change_sets, source), output)


@cli.command("digest")
@_rendered
@click.option("--send", is_flag=True, help="Send it by email and to the channels; its changes are then marked sent.")
@click.option("--dry-run", is_flag=True, help="Print it and mark nothing (the default without --send).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write it to FILE.eml (the whole message) or FILE.html (the HTML body); "
    "FILE-1.eml, FILE-2.eml … when there is one digest per recipient set.",
)
@_since_option
@click.pass_context
def digest_command(ctx: click.Context, send: bool, dry_run: bool, output: str | None, since: str | None) -> None:
    """The email digests of every stored change not yet sent, grouped by source: one per
    recipient set ([[email.route]]), each with only the sources routed to it; and a short one to
    each [[notify]] channel (team chat, webhook) its sources are routed to.

    Nothing of substance, no digest (unless [digest] send_empty = true). A digest the server did
    not accept stays unsent and goes out with the next `watcher digest --send` (exit status 2).
    """
    from watcher.channels import send_all
    from watcher.errors import DeliveryError

    if output and not output.lower().endswith((".eml", ".html", ".htm")):
        raise click.BadParameter("must end in .eml or .html", param_hint="--output")
    settings = _settings(ctx)
    deliver = send and not dry_run
    with _existing_store(settings) as store:
        if deliver:
            with store.lock():
                run = send_all(store, settings, since=since)
        else:
            run = send_all(store, settings, dry_run=True, since=since)
    _echo_channels(run.channels)
    if run.email is not None:
        _echo_email_digests(run.email, output, dry_run)
    if not (run.email and run.email.digests) and not run.channels.messages and not run.problems:
        _notice("watcher: nothing of substance to send")
    if run.problems:
        raise DeliveryError("; ".join(run.problems))


def _echo_channels(outcome: ChannelOutcome) -> None:
    """Each channel digest: said sent, or printed (a preview, or one that was not accepted)."""
    sent = {d.message.channel.name: d for d in outcome.delivered}
    for message in outcome.messages:
        done = sent.get(message.channel.name)
        if done:
            _notice(f"watcher: sent digest {done.digest_id} to notify {message.channel.name}: {message.title}")
        elif outcome.status == "dry_run":
            click.echo(f"Notify: {message.channel.name}\nTitle: {message.title}\n\n{message.markdown}")


def _echo_email_digests(outcome: DigestOutcome, output: str | None, dry_run: bool) -> None:
    sent = {d.digest: d for d in outcome.delivered}
    for number, digest in enumerate(outcome.digests, start=1):
        delivered = sent.get(digest)
        if output:
            sent_message = delivered.message if delivered else None
            written = _numbered(output, number, len(outcome.digests))
            _write_digest(written, digest, sent_message)
            if written != output:  # one file per recipient set: say which is whose
                _notice(f"watcher: wrote {written} (the digest to {', '.join(digest.recipients)})")
        if delivered:
            recipients = ", ".join(digest.recipients)
            _notice(f"watcher: sent digest {delivered.digest_id} to {recipients}: {digest.subject}")
        elif dry_run or not output:
            click.echo(f"To: {', '.join(digest.recipients)}\nSubject: {digest.subject}\n\n{digest.text}")


def _numbered(path: str, number: int, count: int) -> str:
    """FILE.eml for a single digest; FILE-1.eml, FILE-2.eml … for several."""
    if count == 1:
        return path
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}-{number}{dot}{suffix}"


def _write_digest(path: str, digest: Digest, message: EmailMessage | None) -> None:
    if path.lower().endswith(".eml"):
        with open(path, "wb") as f:
            f.write((message or digest.message()).as_bytes())  # the one sent, if sent
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(digest.html)


@cli.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Run as a service: each source checked on its `schedule`, the digest on [digest] schedule.

    Logs each run on stderr (-q: warnings and errors only, -v: debugging detail); stops cleanly
    on SIGINT or SIGTERM (exit status 0).
    """
    import logging

    from watcher.schedule import run

    settings = _settings(ctx)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_log_formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = {QUIET: logging.WARNING, NORMAL: logging.INFO}.get(verbosity(ctx), logging.DEBUG)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    run(settings)


# ---------------------------------------------------------------- the web view


@cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default 8650; 0: any free port).")
@click.option(
    "--allow-remote", is_flag=True, help="Allow an address other than loopback: anyone who reaches it reads everything."
)
@click.pass_context
def serve_command(ctx: click.Context, host: str | None, port: int | None, allow_remote: bool) -> None:
    """A local, read-only web view of the database: sources, timelines, diffs, target ledgers,
    search and raw files. Ctrl-C stops it."""
    from watcher.web import DEFAULT_HOST, DEFAULT_PORT, serve
    from watcher.web.server import is_loopback

    settings = _settings(ctx)
    _existing_store(settings, read_only=True).close()
    host = host or DEFAULT_HOST
    if allow_remote and not is_loopback(host):
        click.echo(f"watcher: WARNING: serving on {host}, beyond this machine, with no login", err=True)

    def ready(address: str) -> None:
        click.echo(f"watcher: serving {address} (read-only; Ctrl-C stops)", err=True)

    serve(
        settings.storage_path, host, DEFAULT_PORT if port is None else port, allow_remote=allow_remote, ready=ready,
        timezone=settings.report.timezone,
    )


def main() -> None:
    cli(prog_name="watcher")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
