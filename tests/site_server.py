"""A built site and a real server for it, shared by the serve, index and browser tests.

The site is the real seeds built by the real pipeline into tmp_path/out, with base_url set
to the loopback port the server will listen on (the feeds' stylesheet reference and self
links are absolute, and a browser only applies a same-origin stylesheet).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from feeds.model import FeedSpec
from feeds.pipeline import BuildReport, build, read_seeds
from feeds.publish.serve import create_app
from feeds.render.plan import plan_feeds
from feeds.settings import Settings, defaults

CHINESE_TAG = "人工智能"
EXTRA_ARTICLE = f"""---
title: "中文标题：订阅测试"
date: "2025-02-11 08:00:00"
tags:
  - "{CHINESE_TAG}"
categories:
  - "测试"
lang:
  - "zh-CN"
---

正文。
"""


@dataclass
class Site:
    settings: Settings
    report: BuildReport
    port: int
    listener: socket.socket

    @property
    def out(self) -> Path:
        return self.settings.out

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def feeds(self) -> tuple[FeedSpec, ...]:
        """The site's feeds with their entries, planned the slow way from the seeds (the
        build's report has them without entries)."""
        entries = read_seeds(self.settings, BuildReport())
        return plan_feeds(entries, self.settings.title, self.settings.limit).feeds


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port, kept until the server takes it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    return listener


def build_site(root: Path, seeds: Path, *, store_inside_out: bool = False) -> Site:
    (seeds / "900_chinese_tag.md").write_text(EXTRA_ARTICLE, encoding="utf-8")
    listener = bound_socket()
    port = listener.getsockname()[1]
    out = root / "out"
    store = out / "state.db" if store_inside_out else root / ".feeds" / "state.db"
    settings = defaults().with_values(
        "test",
        {
            "seeds": str(seeds),
            "sources": str(root / "sources"),
            "out": str(out),
            "store": str(store),
            "base_url": f"http://127.0.0.1:{port}/",
        },
    )
    report = build(settings)
    assert report.ok, [str(error) for error in report.rejected]
    return Site(settings, report, port, listener)


@contextmanager
def running(site: Site, *, max_age: int = 600, health_ttl: float = 0.0) -> Iterator[Site]:
    """uvicorn serving the site from a thread, on the socket bound at build time."""
    app = create_app(site.settings.out, site.settings.store, max_age, health_ttl=health_ttl)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [site.listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(10)
        site.listener.close()


def raw_request(port: int, request: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send bytes exactly as given (no client normalizes the path) and read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    status_line = data.split(b"\r\n", 1)[0]
    return int(status_line.split()[1]), data


def get_raw(port: int, target: str | bytes) -> tuple[int, bytes]:
    path = target.encode() if isinstance(target, str) else target
    return raw_request(
        port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
