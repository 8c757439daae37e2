"""`feeds sources` (list, import, export) and `feeds fetch`: the upstream side of the CLI.

Both take the same --config/--sources options as `feeds build`; relative default paths
(the store) are relative to the current folder. Exit status as for `feeds build`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from feeds.cli import (
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    config_options,
    settings_from,
    wait_option,
    writer_lock,
)
from feeds.errors import ConfigError, FeedsError, LockError
from feeds.merge.store import Store
from feeds.settings import Settings
from feeds.sources.catalog import Catalog, load_catalog
from feeds.sources.state import SourceStatus

if TYPE_CHECKING:
    from feeds.sources.poll import PollResult

HEADERS = ("name", "url", "last success", "last error", "failures", "entries", "next poll")
ERROR_WIDTH = 60


def catalog_of(settings: Settings) -> Catalog:
    catalog = load_catalog(settings.sources, settings.timezone)
    for error in catalog.errors:
        click.echo(f"error: {error}", err=True)
    return catalog


def fail(error: FeedsError) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    if isinstance(error, LockError):
        sys.exit(EXIT_LOCKED)
    sys.exit(EXIT_USAGE if isinstance(error, ConfigError) else EXIT_REJECTED)


@click.group("sources", invoke_without_command=True)
@config_options
@click.pass_context
def sources_group(context: click.Context, /, **options: object) -> None:
    """List upstream sources with their fetch state (or import/export OPML)."""
    if context.invoked_subcommand is not None:
        return
    settings = settings_from(options)
    catalog = catalog_of(settings)
    try:
        statuses = read_statuses(settings.store)
    except FeedsError as error:
        fail(error)
    rows = [
        source_row(source.name, source.url, source.enabled, statuses, settings.zone)
        for source in catalog.sources
    ]
    click.echo(format_table(HEADERS, rows))
    sys.exit(EXIT_REJECTED if catalog.errors else EXIT_OK)


def read_statuses(path: Path) -> dict[str, SourceStatus]:
    if not path.exists():  # never fetched: listing must not create the store
        return {}
    with Store.open(path) as store:
        return {status.name: status for status in store.sources_status()}


def source_row(
    name: str, url: str, enabled: bool, statuses: dict[str, SourceStatus], zone: tzinfo
) -> tuple[str, ...]:
    status = statuses.get(name)
    if status is None:
        return (name, url, "never", "", "0", "0", "due" if enabled else "disabled")
    error = ""
    if status.last_error:
        error = f"{when(status.last_error_at, zone)} {status.last_error}"
        error = error if len(error) <= ERROR_WIDTH else error[: ERROR_WIDTH - 1] + "…"
    if not enabled:
        next_poll = "disabled"
    elif status.disabled:
        next_poll = "gone (fetch by name to retry)"
    else:
        next_poll = when(status.next_poll, zone) if status.next_poll else "due"
    return (
        name,
        status.url or url,
        when(status.last_success, zone) if status.last_success else "never",
        error,
        str(status.failures),
        str(status.entries),
        next_poll,
    )


def when(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [headers, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


@sources_group.command("import")
@click.argument("opml", type=click.Path(path_type=Path))
@config_options
def import_command(opml: Path, **options: object) -> None:
    """Add the feeds of an OPML subscription list to sources/imported.toml."""
    settings = settings_from(options)
    catalog = catalog_of(settings)
    try:
        from feeds.sources.opml import import_opml  # local: every command loads this module

        report = import_opml(opml, settings.sources, catalog)
    except FeedsError as error:
        fail(error)
    for url, why in report.skipped:
        click.echo(f"skipped {url}: {why}", err=True)
    click.echo(f"added {len(report.added)} sources to {report.path}", err=True)
    sys.exit(EXIT_OK)


@sources_group.command("export")
@config_options
def export_command(**options: object) -> None:
    """Print the enabled sources as an OPML 2.0 subscription list."""
    settings = settings_from(options)
    catalog = catalog_of(settings)
    from feeds.sources.opml import export_opml  # local: see import_command

    click.echo(export_opml(catalog.enabled, settings.title).decode("utf-8"), nl=False)
    sys.exit(EXIT_REJECTED if catalog.errors else EXIT_OK)


@click.command("fetch")
@click.argument("names", nargs=-1)
@config_options
@wait_option
def fetch_command(names: tuple[str, ...], wait: float, **options: object) -> None:
    """Poll the sources now (all, or the NAMEs), even if not due; store, don't publish."""
    # Imported here: httpx and the feed parsers are only needed to poll, not by every command.
    from feeds.sources.poll import poll_sources

    settings = settings_from(options)
    catalog = catalog_of(settings)
    try:
        with writer_lock(settings).hold(wait, "feeds fetch"), Store.open(settings.store) as store:
            results = poll_sources(
                settings, store, catalog.sources, names=names or None, force=not names
            )
    except FeedsError as error:
        fail(error)
    report_polls(results)
    failed = catalog.errors or any(result.error for result in results)
    sys.exit(EXIT_REJECTED if failed else EXIT_OK)


def report_polls(results: Sequence[PollResult]) -> None:
    for result in results:
        click.echo(result.line(), err=result.error is not None)
    new = sum(result.new for result in results)
    failed = sum(1 for result in results if result.error)
    click.echo(f"sources: {len(results)} polled, {failed} failed; {new} new entries", err=True)
