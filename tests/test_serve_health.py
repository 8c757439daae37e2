"""GET /healthz reads the real SQLite store; and the real `feeds serve` in a subprocess."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from feeds.merge.store import Store
from feeds.sources.state import SourceState
from tests.site_server import Site, bound_socket, build_site, running

BUILT_AT = datetime(2025, 2, 13, 8, 0, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path, seeds_copy: Path) -> Iterator[Site]:
    with running(build_site(tmp_path, seeds_copy), health_ttl=0) as served:
        yield served


def health(site: Site) -> httpx.Response:
    return httpx.get(f"{site.url}/healthz", timeout=5)


def remove_store(site: Site) -> None:
    store = site.settings.store
    for path in (store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")):
        path.unlink(missing_ok=True)


def test_the_build_recorded_in_the_store_is_reported(site: Site) -> None:
    response = health(site)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["last_build"]["summary"] == site.report.summary()


def test_no_store_means_no_build_yet_503(site: Site) -> None:
    remove_store(site)
    response = health(site)
    assert response.status_code == 503
    assert response.json()["status"] == "no build yet"
    assert response.headers["cache-control"] == "no-store"
    assert not site.settings.store.exists(), "the health check must not create the store"


def test_last_build_ok_is_200_with_every_source(site: Site) -> None:
    with Store.open(site.settings.store) as store:
        store.record_build(BUILT_AT, False, "earlier failure")
        store.record_build(BUILT_AT.replace(minute=15), True, "feeds: 21 written")
        store.save_source_state(
            SourceState(
                name="Broken",
                url="http://127.0.0.1:9/feed.xml",
                configured_url="http://127.0.0.1:9/feed.xml",
                last_error_at=BUILT_AT,
                last_error="connection refused",
                failures=3,
            )
        )
        store.save_source_state(
            SourceState(
                name="Fine",
                url="http://127.0.0.1:9/ok.xml",
                configured_url="http://127.0.0.1:9/ok.xml",
                last_success=BUILT_AT,
            )
        )
    response = health(site)
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["last_build"] == {
        "at": "2025-02-13T08:15:00+00:00",
        "ok": True,
        "summary": "feeds: 21 written",
    }
    by_name = {source["name"]: source for source in report["sources"]}
    assert by_name["Broken"]["failures"] == 3
    assert by_name["Broken"]["last_error"] == "connection refused"
    assert by_name["Broken"]["last_success"] is None
    assert by_name["Fine"]["last_success"] == "2025-02-13T08:00:00+00:00"
    assert by_name["Fine"]["failures"] == 0


def test_failed_last_build_is_503(site: Site) -> None:
    with Store.open(site.settings.store) as store:
        store.record_build(BUILT_AT, True, "fine")
        store.record_build(BUILT_AT.replace(hour=9), False, "1 rejected")
    response = health(site)
    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    assert response.json()["last_build"]["summary"] == "1 rejected"


def test_store_without_builds_is_503(site: Site) -> None:
    remove_store(site)
    Store.open(site.settings.store).close()
    response = health(site)
    assert response.status_code == 503
    assert response.json()["last_build"] is None


def test_corrupt_store_is_503_naming_it_not_a_crash(site: Site) -> None:
    site.settings.store.parent.mkdir(parents=True, exist_ok=True)
    site.settings.store.write_bytes(b"this is not a database" * 100)
    response = health(site)
    assert response.status_code == 503
    assert response.json()["status"] == "store error"
    assert str(site.settings.store) in response.json()["error"]
    assert httpx.get(f"{site.url}/atom.xml", timeout=5).status_code == 200


def test_head_healthz(site: Site) -> None:
    response = httpx.head(f"{site.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.slow
def test_feeds_serve_command_serves_and_stops_on_sigterm(tmp_path: Path, seeds_copy: Path) -> None:
    site = build_site(tmp_path, seeds_copy)
    site.listener.close()  # the subprocess binds the port itself
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "two.toml").write_text(
        '[[source]]\nname = "A"\nurl = "http://127.0.0.1:9/a.xml"\ninterval = "10m"\n'
        '[[source]]\nname = "B"\nurl = "http://127.0.0.1:9/b.xml"\ninterval = "2m"\n'
        '[[source]]\nname = "C"\nurl = "http://127.0.0.1:9/c.xml"\ninterval = "1m"\n'
        "enabled = false\n",
        encoding="utf-8",
    )
    command = [
        sys.executable, "-m", "feeds", "serve", "--out", str(site.out),
        "--sources", str(tmp_path / "sources"), "--port", str(site.port),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        response = _wait_for(f"{site.url}/tags/qq/atom.xml", process)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
        # The shortest interval of the enabled sources: B's two minutes.
        assert response.headers["cache-control"] == "public, max-age=120"
        assert response.content == (site.out / "tags/qq/atom.xml").read_bytes()
        status = httpx.get(f"{site.url}/healthz", timeout=5)
        assert status.status_code == 200
        assert status.json()["last_build"]["summary"] == site.report.summary()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_feeds_serve_on_a_busy_port_is_a_usage_error(tmp_path: Path) -> None:
    busy = bound_socket()
    busy.listen()
    try:
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "feeds", "serve", "--out", str(tmp_path), "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        busy.close()
    assert result.returncode == 2
    assert f"127.0.0.1:{port}: cannot listen" in result.stderr


def _wait_for(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 15
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            return httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=2)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "feeds serve did not answer"
            time.sleep(0.1)


def test_report_is_json(site: Site) -> None:
    response = health(site)
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.content)["sources"] == []  # the seeds only: no upstream


def test_a_store_of_another_schema_is_reported_not_migrated(site: Site) -> None:
    remove_store(site)
    Store.open(site.settings.store).close()
    with sqlite3.connect(site.settings.store) as db:
        db.execute("UPDATE schema_version SET version = 1")
    db.close()
    response = health(site)
    assert response.status_code == 503
    assert response.json()["status"] == "store error"
    assert "schema 1" in response.json()["error"]
    with sqlite3.connect(site.settings.store) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (1,)
    db.close()
