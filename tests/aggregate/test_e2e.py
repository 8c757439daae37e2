"""End to end: the real `feeds` CLI in a subprocess, the real seeds, two upstreams on
127.0.0.1 that share an article (and one that shares a seed's article), read back with
feedparser."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest

from feeds.normalize.identity import canonical_link
from tests.aggregate.server import Upstream, running

pytestmark = pytest.mark.slow

SEED_LINK = "https://new.qq.com/rain/a/20250210A08ACT00"  # seeds/004_cbd8da1c2018c6a5.txt
SHARED = "https://news.example/shared-story"
WHEN = datetime.now(UTC).replace(microsecond=0)


def rss(items: list[tuple[str, str, str, list[str]]]) -> bytes:
    """RSS 2.0 with (guid, title, link, categories) items, newest first."""
    parts = []
    for age, (guid, title, link, terms) in enumerate(items):
        date = format_datetime(WHEN - timedelta(hours=age + 1))
        categories = "".join(f"<category>{term}</category>" for term in terms)
        parts.append(
            f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
            f"<link>{link}</link><pubDate>{date}</pubDate>{categories}"
            f"<description>Body of {title}.</description></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>t</title><link>https://x.example/</link>{''.join(parts)}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str, str, list[str]]]) -> bytes:
    entries = []
    for age, (guid, title, link, terms) in enumerate(items):
        date = (WHEN - timedelta(hours=age + 2)).isoformat()
        categories = "".join(f"<category term='{term}'/>" for term in terms)
        entries.append(
            f"<entry><id>{guid}</id><title>{title}</title><link href='{link}'/>"
            f"<updated>{date}</updated>{categories}<content type='html'>Body of {title}.</content>"
            "</entry>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>t</title><id>urn:t</id><updated>{WHEN.isoformat()}</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


def feeds(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read(out: Path, relative: str) -> list[Any]:
    parsed = feedparser.parse(str(out / relative))
    assert not parsed.bozo, (relative, parsed.get("bozo_exception"))
    return list(parsed.entries)


def titles(entries: list[Any]) -> set[str]:
    return {entry.title for entry in entries}


def test_build_merges_seeds_and_two_upstreams(seeds_copy: Path, tmp_path: Path) -> None:
    with running(Upstream()) as upstream:
        upstream.serve(
            "/a.xml",
            rss(
                [
                    ("a-1", "Shared story", SHARED + "?utm_source=alpha", ["Tech"]),
                    ("a-2", "Only in Alpha", "https://alpha.example/2", ["Rust"]),
                ]
            ),
            headers={"Content-Type": "application/rss+xml", "ETag": '"a1"'},
        )
        upstream.serve(
            "/b.xml",
            atom(
                [
                    (
                        "urn:b:1",
                        "Shared story (B copy)",
                        "HTTPS://NEWS.example:443/shared-story#top",
                        ["Go"],
                    ),
                    ("urn:b:2", "Only in Beta", "https://beta.example/2", ["Go"]),
                    ("urn:b:3", "Seed copy", SEED_LINK + "?utm_medium=feed", ["Mirror"]),
                ]
            ),
            headers={"Content-Type": "application/atom+xml"},
        )
        (tmp_path / "sources").mkdir()
        (tmp_path / "sources" / "two.toml").write_text(
            f'[[source]]\nname = "Alpha"\nurl = "{upstream.url("/a.xml")}"\ntags = ["wire"]\n\n'
            f'[[source]]\nname = "Beta"\nurl = "{upstream.url("/b.xml")}"\n',
            encoding="utf-8",
        )
        (tmp_path / "feeds.toml").write_text(
            'base_url = "http://127.0.0.1:9/"\nseeds = "seeds"\ntimeout = 5\n', encoding="utf-8"
        )
        first = feeds("build", "--config", "feeds.toml", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "upstream: 2 polled, 0 failed, 5 new" in first.stderr
        hits = len(upstream.hits)
        second = feeds("build", "--config", "feeds.toml", cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert len(upstream.hits) == hits, "a second build polls nothing: not due yet"
        listing = feeds("sources", "--config", "feeds.toml", cwd=tmp_path)
        fetched = feeds("fetch", "Alpha", "--config", "feeds.toml", cwd=tmp_path)
        assert upstream.hits[-1].headers.get("if-none-match") == '"a1"'

    assert (tmp_path / ".feeds" / "state.db").is_file(), "the store is relative to the cwd"
    out = tmp_path / "out"
    everything = read(out, "atom.xml")
    assert len(everything) == 5 + 3, "5 seeds, 3 upstream articles; the seed's copy merged"
    shared = [e for e in everything if canonical_link(e.link) == SHARED]
    assert len(shared) == 1, "the article both upstreams carry appears once"
    (seed,) = [e for e in everything if canonical_link(e.link) == SEED_LINK]
    assert seed.id.startswith("tag:127.0.0.1,2025:004_"), "the seed wins over its upstream copy"

    assert titles(read(out, "categories/alpha/atom.xml")) == {"Only in Alpha", shared[0].title}
    beta = read(out, "categories/beta/atom.xml")
    assert titles(beta) == {"Only in Beta", shared[0].title, seed.title}
    assert titles(read(out, "tags/rust/atom.xml")) == {"Only in Alpha"}
    assert titles(read(out, "tags/wire/atom.xml")) == {"Only in Alpha", shared[0].title}
    assert titles(read(out, "tags/go/atom.xml")) == {"Only in Beta", shared[0].title}
    assert titles(read(out, "tags/mirror/atom.xml")) == {seed.title}
    assert {t.term for t in shared[0].tags} >= {"Tech", "Go", "wire", "Alpha", "Beta"}

    rows = listing.stdout.splitlines()
    assert listing.returncode == 0, listing.stderr
    assert rows[0].split()[:2] == ["name", "url"]
    alpha_row = next(row for row in rows if row.startswith("Alpha"))
    assert upstream.url("/a.xml") in alpha_row
    assert " 2 " in alpha_row, "two entries stored for Alpha"
    assert fetched.returncode == 0, fetched.stderr
    assert "Alpha: not modified, 0 new" in fetched.stdout


def test_offline_build_and_a_broken_source_still_publish(seeds_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "bad.toml").write_text(
        '[[source]]\nname = "Down"\nurl = "http://127.0.0.1:9/feed.xml"\n\n'
        '[[source]]\nname = "Broken"\nurl = "gopher://old.example/"\n',
        encoding="utf-8",
    )
    (tmp_path / "feeds.toml").write_text(
        'base_url = "http://127.0.0.1:9/"\nseeds = "seeds"\nconnect_timeout = 2\n',
        encoding="utf-8",
    )
    offline = feeds("build", "--offline", "--config", "feeds.toml", cwd=tmp_path)
    assert offline.returncode == 1, "the bad table is reported"
    assert "bad.toml: [[source]] #2 ('Broken'): key 'url'" in offline.stderr
    assert "cannot connect" not in offline.stderr, "offline: no poll"
    online = feeds("build", "--config", "feeds.toml", cwd=tmp_path)
    assert online.returncode == 1
    assert "error: http://127.0.0.1:9/feed.xml: cannot connect" in online.stderr
    assert len(read(tmp_path / "out", "atom.xml")) == 5, "the seeds are published regardless"


def test_a_corrupt_store_is_one_clear_error_and_nothing_is_written(
    seeds_copy: Path, tmp_path: Path
) -> None:
    store = tmp_path / ".feeds" / "state.db"
    store.parent.mkdir()
    store.write_bytes(b"garbage, not SQLite" * 200)
    result = feeds("build", "--seeds", "seeds", cwd=tmp_path)
    assert result.returncode == 1
    assert f"error: {Path('.feeds') / 'state.db'}: corrupt or not a feeds store" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    listing = feeds("sources", cwd=tmp_path)
    assert listing.returncode == 1
    assert "corrupt or not a feeds store" in listing.stderr


def test_opml_import_then_export_through_the_cli(tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(
        "<opml version='2.0'><body><outline text='Tech'>"
        "<outline type='rss' text='One' xmlUrl='https://one.example/feed'/>"
        "<outline type='rss' text='Two' xmlUrl='ftp://two.example/feed'/>"
        "</outline></body></opml>",
        encoding="utf-8",
    )
    imported = feeds("sources", "import", str(opml), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "skipped ftp://two.example/feed" in imported.stderr
    assert "added 1 sources to sources/imported.toml" in imported.stderr
    again = feeds("sources", "import", str(opml), cwd=tmp_path)
    assert "skipped https://one.example/feed: already declared" in again.stderr
    exported = feeds("sources", "export", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    root = ElementTree.fromstring(exported.stdout)  # noqa: S314 - our own output
    (folder,) = root.findall("body/outline")
    assert folder.get("text") == "Tech"
    assert [(o.get("text"), o.get("xmlUrl")) for o in folder] == [
        ("One", "https://one.example/feed")
    ]
