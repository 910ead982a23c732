"""The `watcher` command: thin commands that call the library.

Every library error (WatcherError) becomes one line on stderr and a documented exit status:
  0  success (for `diff`: no change of substance)
  1  `diff` only: changes of substance
  2  usage or configuration error, or any other error
  3  `check`: some sources failed (the others were checked and stored)
  4  another run holds the database lock
"""

from __future__ import annotations

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


def main() -> None:
    cli(prog_name="watcher")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
