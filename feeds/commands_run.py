"""`feeds run`: build once, then keep the output folder fresh and serve it until SIGINT or
SIGTERM.

    main thread   signals -> stop event; waits, then shuts down in order
    server        uvicorn in its own thread (so it installs no signal handlers of its own)
    scheduler     APScheduler's threads: polls, the seeds check, rebuilds (feeds/scheduler.py)

Shutting down: no new job starts, a job waiting for the lock gives up, the write in
progress finishes (out/ files are renamed into place whole, store transactions commit),
then the server stops and the store is closed; exit 0. A poll in flight has at most the
`timeout` setting to finish.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

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
from feeds.model import Source
from feeds.settings import Settings
from feeds.sources.catalog import load_catalog

if TYPE_CHECKING:
    import uvicorn

# The daemon's parts (uvicorn, starlette, APScheduler, httpx) are imported inside the
# functions that use them: every `feeds` command imports this module, and `feeds build`
# should not pay for them.

log = logging.getLogger("feeds.run")

HOST, PORT = "127.0.0.1", 8080
GRACE = 3  # seconds uvicorn gives open requests when stopping


@click.command("run")
@config_options
@click.option("--strict", is_flag=True, help="Stop at the first rejected input (first build).")
@wait_option
@click.option("--host", default=HOST, show_default=True, help="Address to serve on.")
@click.option("--port", type=click.IntRange(0, 65535), default=PORT, show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="Also log skipped polls and requests.")
@click.option("--quiet", "-q", is_flag=True, help="Log only warnings and errors.")
def run_command(
    strict: bool, wait: float, host: str, port: int, verbose: bool, quiet: bool, **options: object
) -> None:
    """Build, then keep every feed fresh and serve the output folder over HTTP."""
    configure_logging(verbose=verbose, quiet=quiet)
    settings = settings_from(options)
    stop = Stop()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, stop.on_signal)
    from feeds.publish.serve import listen  # local: see the comment at the top

    try:
        # Bound before the first build, so a port in use is an error at once.
        listener = listen(host, port)
        sources = load_sources(settings)
        store = Store.open(settings.store)
    except FeedsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(exit_status(error))
    try:
        status = serve_and_refresh(settings, store, sources, listener, stop, strict, wait)
    finally:
        store.close()
        listener.close()
    log.info("stopped")
    sys.exit(status)


def serve_and_refresh(
    settings: Settings,
    store: Store,
    sources: tuple[Source, ...],
    listener: socket.socket,
    stop: Stop,
    strict: bool,
    wait: float,
) -> int:
    # local: see the comment at the top
    from feeds.jobs import PipelineWork, describe, problems
    from feeds.publish.serve import max_age_of
    from feeds.scheduler import Daemon

    work = PipelineWork(settings, store, sources, writer_lock(settings), wait=wait, cancel=stop)
    # Made before the first build: it remembers seeds/ as that build will read it.
    daemon = Daemon(
        settings.seeds,
        settings.check_interval,
        sources,
        work,
        concurrency=settings.concurrency,
        sources_folder=settings.sources,
    )
    try:
        report = work.first_build(strict=strict)
    except FeedsError as error:
        if stop.is_set():  # a signal while waiting for the lock: nothing was started
            return EXIT_OK
        log.error("%s", error)
        return exit_status(error)
    for problem in problems(report):
        log.warning("%s", problem)
    log.info("build: %s", describe(report))
    if stop.is_set():
        return EXIT_OK
    # Readers may cache for the shortest poll interval of the sources as they are now.
    server = Server(settings, listener, lambda: max_age_of(work.sources))
    daemon.start()
    try:
        server.start()
        while not stop.wait(0.5):
            if not server.alive():
                log.error("the server stopped unexpectedly")
                return EXIT_REJECTED
        log.info("%s: finishing the work in progress", stop.signal_name)
        return EXIT_OK
    finally:
        daemon.stop()  # waits for the write in progress
        server.stop()


class Server:
    """uvicorn serving out/ (feeds/publish/serve.py) from a thread."""

    def __init__(
        self, settings: Settings, listener: socket.socket, max_age: Callable[[], int]
    ) -> None:
        import uvicorn  # local: see the comment at the top

        from feeds.publish.serve import create_app

        app = create_app(settings.out, settings.store, max_age)
        access = logging.getLogger("feeds.run").isEnabledFor(logging.DEBUG)
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=access,
            timeout_graceful_shutdown=GRACE,
            lifespan="off",
        )
        self.server: uvicorn.Server = uvicorn.Server(config)
        self.listener = listener
        self.out = settings.out
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [listener]}, name="feeds-server"
        )

    def start(self) -> None:
        self.thread.start()
        host, port = self.listener.getsockname()[:2]
        log.info("serving %s on http://%s:%d/", self.out, host, port)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(GRACE + 2)


def exit_status(error: FeedsError) -> int:
    if isinstance(error, LockError):
        return EXIT_LOCKED
    return EXIT_USAGE if isinstance(error, ConfigError) else EXIT_REJECTED


def load_sources(settings: Settings) -> tuple[Source, ...]:
    """The enabled sources; the catalog's errors show up in the first build's report."""
    return load_catalog(settings.sources, settings.timezone).enabled


def configure_logging(*, verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stderr,
    )
    # APScheduler logs every run of every job at INFO (the tick alone is four a second),
    # watchdog every file event at DEBUG, httpx every request: the poll line already says it.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


class Stop(threading.Event):
    """Set by SIGINT or SIGTERM. The handler only sets it: logging from a signal handler
    could deadlock on the logging lock the interrupted code holds."""

    signal_name = ""

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        self.set()
