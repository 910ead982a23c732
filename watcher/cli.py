"""The `watcher` command: thin commands that call the library.

Every library error (WatcherError) becomes one line on stderr and a documented exit status:
  0  success (for `diff`: no change of substance)
  1  `diff` only: changes of substance
  2  usage or configuration error, or any other error
  3  `check`: some sources failed (the others were checked and stored)
  4  another run holds the database lock
"""

from __future__ import annotations

import os
import sys

import click

from watcher.errors import LockedError, WatcherError

EXIT_ERROR = 2
EXIT_SOME_FAILED = 3
EXIT_LOCKED = 4


class WatcherGroup(click.Group):
    """Turns library errors into one clear line and an exit status."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except LockedError as exc:
            click.echo(f"watcher: {exc}", err=True)
            ctx.exit(EXIT_LOCKED)
        except WatcherError as exc:
            click.echo(f"watcher: {exc}", err=True)
            ctx.exit(exc.exit_status)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # a bug: still one line and status 2, so `diff` never exits 1 on it
            if os.environ.get("WATCHER_DEBUG"):
                raise
            click.echo(f"watcher: internal error: {type(exc).__name__}: {exc} (set WATCHER_DEBUG=1 for a traceback)", err=True)
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
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


@cli.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="text: a redline for the terminal; json: the diff contract; markdown; html: one page.",
)
@click.option("--all", "show_all", is_flag=True, help="Also list formatting-only changes.")
@click.pass_context
def diff_command(ctx: click.Context, old: str, new: str, fmt: str, show_all: bool) -> None:
    """Compare two versions: stored references (SOURCE@N, SOURCE@-1, an id) or local files.

    Exit status like diff(1): 0 no change of substance, 1 changes, 2 error.
    """
    from watcher.diff import diff_documents, load_side
    from watcher.report import RENDERERS

    config_path = ctx.obj["config_path"]
    old_doc, old_info = load_side(old, config_path)
    new_doc, new_info = load_side(new, config_path)
    result = diff_documents(old_doc, new_doc, old_info=old_info, new_info=new_info)
    click.echo(RENDERERS[fmt](result, show_all))
    ctx.exit(1 if result.substantive else 0)


def main() -> None:
    cli(prog_name="watcher")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
