"""The `feeds` command. Exit status: 0 all good; 1 some inputs were rejected but every
good input was published; 2 bad usage or configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from feeds import __version__
from feeds.errors import ConfigError, FeedsError
from feeds.pipeline import BuildReport, build
from feeds.settings import Settings, load

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def config_options(function: object) -> object:
    """--config, --seeds, --sources, --out, --base-url: shared by every command."""
    options = [
        click.option("--config", type=click.Path(path_type=Path), help="Settings file (TOML)."),
        click.option("--seeds", type=click.Path(path_type=Path), help="Folder of articles."),
        click.option("--sources", type=click.Path(path_type=Path), help="Folder of sources/*.toml."),
        click.option("--out", type=click.Path(path_type=Path), help="Output folder."),
        click.option("--base-url", help="Absolute URL where the output folder is served."),
    ]
    for option in reversed(options):
        function = option(function)  # type: ignore[operator]
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


@click.group()
@click.version_option(__version__, prog_name="feeds")
def main() -> None:
    """Publish Markdown articles and upstream feeds as Atom, RSS and JSON feeds."""


@main.command("build")
@config_options
@click.option("--strict", is_flag=True, help="Stop at the first rejected input.")
def build_command(strict: bool, **options: object) -> None:
    """Read seeds/ and sources/, write every feed into the output folder."""
    settings = settings_from(options)
    try:
        report = build(settings, strict=strict)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except FeedsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_REJECTED)
    report_problems(report)
    click.echo(report.summary(), err=True)
    sys.exit(EXIT_OK if report.ok else EXIT_REJECTED)
