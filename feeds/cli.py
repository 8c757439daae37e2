"""The `feeds` command. Exit status: 0 all good; 1 some inputs were rejected but every
good input was published; 2 bad usage or configuration; 3 another feeds process held the
writers' lock for longer than --wait."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from feeds import __version__
from feeds.errors import ConfigError, FeedsError, LockError
from feeds.pipeline import BuildReport, build
from feeds.progress import ProgressBar
from feeds.publish.lock import WriterLock, lock_path
from feeds.settings import Settings, load

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
Command = TypeVar("Command", bound=Callable[..., Any])
LOCK_WAIT = 300.0  # seconds a writer waits for the lock: a cron build outwaits a daemon rebuild


def wait_option(function: Command) -> Command:
    """--wait SECONDS: how long a writing command waits for the writers' lock."""
    option = click.option(
        "--wait",
        type=click.FloatRange(min=0),
        default=LOCK_WAIT,
        show_default=True,
        help="Seconds to wait for another feeds process to finish writing.",
    )
    return option(function)


def writer_lock(settings: Settings) -> WriterLock:
    """The lock every writer of this store and output folder holds."""
    return WriterLock(lock_path(settings.store))


def config_options(function: Command) -> Command:
    """--config, --seeds, --sources, --out, --base-url: shared by every command."""
    options = [
        click.option("--config", type=click.Path(path_type=Path), help="Settings file (TOML)."),
        click.option("--seeds", type=click.Path(path_type=Path), help="Folder of articles."),
        click.option(
            "--sources", type=click.Path(path_type=Path), help="Folder of sources/*.toml."
        ),
        click.option("--out", type=click.Path(path_type=Path), help="Output folder."),
        click.option("--base-url", help="Absolute URL where the output folder is served."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def settings_from(options: dict[str, object]) -> Settings:
    config = options.pop("config", None)
    try:
        return load(config if isinstance(config, Path) else None, options)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)


def report_problems(report: BuildReport) -> None:
    for error in [*report.rejected, *report.source_errors, *report.write.errors]:
        click.echo(f"error: {error}", err=True)
    for poll in report.polls:
        for note in poll.notes:
            click.echo(f"warning: {poll.name}: {note}", err=True)


class LazyGroup(click.Group):
    """A group whose commands live in other modules, imported when one is used (click's
    documented pattern): `feeds build` from cron never loads the daemon's or the source
    tools' modules."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        from importlib import import_module

        module, _, attribute = self.lazy[cmd_name].partition(":")
        command = getattr(import_module(module), attribute)
        assert isinstance(command, click.Command), self.lazy[cmd_name]
        return command


@click.group(
    cls=LazyGroup,
    lazy={
        "fetch": "feeds.commands_sources:fetch_command",
        "run": "feeds.commands_run:run_command",
        "serve": "feeds.commands_serve:serve_command",
        "sources": "feeds.commands_sources:sources_group",
    },
)
@click.version_option(__version__, prog_name="feeds")
def main() -> None:
    """Publish Markdown articles and upstream feeds as Atom, RSS and JSON feeds."""
    # A build makes tens of thousands of objects that live until it ends (entries, their
    # fields, feed plans) and hardly any reference cycles: with the default thresholds the
    # collector walks them again and again (5-10% of a one-article rebuild's time).
    gc.set_threshold(50_000, 20, 20)


@main.command("build")
@config_options
@click.option("--strict", is_flag=True, help="Stop at the first rejected input.")
@click.option("--offline", is_flag=True, help="Poll no upstream; publish what is stored.")
@wait_option
def build_command(strict: bool, offline: bool, wait: float, **options: object) -> None:
    """Read seeds/ and sources/, write every feed into the output folder."""
    settings = settings_from(options)
    try:
        with writer_lock(settings).hold(wait, "feeds build"), ProgressBar() as progress:
            report = build(settings, strict=strict, offline=offline, progress=progress)
    except LockError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except FeedsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_REJECTED)
    report_problems(report)
    click.echo(report.summary(), err=True)
    sys.exit(EXIT_OK if report.ok else EXIT_REJECTED)


def run() -> None:
    """The `feeds` command (the console script, and `python -m feeds`): `main`, then, when
    nothing runs beside it any more (one thread: a build, not the daemon or the server),
    the process ends at once instead of tearing the interpreter down object by object:
    about 70 ms of a 0.5 s rebuild after one edit. Output is flushed first; nothing we
    write is left to the interpreter's exit (files and the store are closed by then)."""
    code: str | int | None
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    if threading.active_count() != 1:
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        code = 1
    logging = sys.modules.get("logging")  # its handlers flushed, if anything logged
    if logging is not None:
        logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
