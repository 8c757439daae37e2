"""`feeds serve`: hand the output folder to feed readers and browsers over HTTP.

The same server `feeds run` mounts (feeds/publish/serve.py), without the refreshing: for a
machine where cron runs `feeds build`. The `feeds` group (feeds/cli.py) loads this module
when the command is used.
"""

from __future__ import annotations

import sys

import click

from feeds.cli import EXIT_USAGE, config_options, settings_from
from feeds.errors import ConfigError

HOST, PORT = "127.0.0.1", 8080


@click.command("serve")
@config_options
@click.option("--host", default=HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=PORT, show_default=True, help="Port."
)
def serve_command(host: str, port: int, **options: object) -> None:
    """Serve the output folder (feeds, index pages, OPML) and GET /healthz."""
    # Imported here: uvicorn and starlette are only needed to serve, not by every command.
    from feeds.publish.serve import serve

    settings = settings_from(options)
    try:
        serve(settings, host, port)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
