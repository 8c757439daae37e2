"""Real readers read what `feeds build` writes: feedparser always; sfeed, newsboat and the
W3C validator when present (CI installs sfeed and newsboat; the validator is a checkout
named by FEEDVALIDATOR, e.g. FEEDVALIDATOR=/tmp/feedvalidator/src)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import feedparser
import pytest

from tests.golden import BASE_URL, run_feeds, write_project
from tests.test_article_fixtures import BAD

pytestmark = pytest.mark.slow


class Seed(NamedTuple):
    title: str
    date: str  # as feeds must publish it: the seeds' naive dates are in Asia/Shanghai
    source: str  # the trailing link's name: category, tag and author
    link: str
    thumbnail: bool


SEEDS = {
    "000_83a9953975624be0": Seed(
        "马克龙呼吁法国人下载它！欧洲AI的希望？",
        "2025-02-10T19:51:01+08:00",
        "sina_us_stock",
        "https://finance.sina.com.cn/roll/2025-02-10/doc-ineizeny3433318.shtml",
        False,
    ),
    "001_76f28a4f1282db08": Seed(
        "马克龙豪掷1090亿开欧洲「星际之门」，Mistral狂飙登顶法国APP榜首！",
        "2025-02-10T12:31:16+08:00",
        "wallstreetcn",
        "https://wallstreetcn.com/articles/3740710",
        True,
    ),
    "002_7e33be615eba4a57": Seed(
        "“中国有DeepSeek，美国有ChatGPT，欧洲的回应在哪里？”",
        "2025-02-07T23:04:54+08:00",
        "qq",
        "https://new.qq.com/rain/a/20250207A09BIW00",
        True,
    ),
    "003_920e0258dd261b84": Seed(
        "AI竞赛，欧洲为什么暂时“落后”？",
        "2025-02-13T06:56:17+08:00",
        "qq",
        "https://new.qq.com/rain/a/20250213A00Z3X00",
        True,
    ),
    "004_cbd8da1c2018c6a5": Seed(
        "刚刚，巴黎AI峰会开幕，百国探讨AI未来，DeepSeek成焦点",
        "2025-02-10T21:00:01+08:00",
        "qq",
        "https://new.qq.com/rain/a/20250210A08ACT00",
        True,
    ),
}
# Every feed folder and the seeds it holds.
FOLDERS = {"": sorted(SEEDS)} | {
    f"{kind}/{source}": sorted(stem for stem, seed in SEEDS.items() if seed.source == source)
    for kind in ("tags", "categories")
    for source in ("qq", "wallstreetcn", "sina_us_stock")
}
XML_FEEDS = [
    f"{folder}/{name}".lstrip("/") for folder in FOLDERS for name in ("atom.xml", "rss.xml")
]


def stems_of(folder: str) -> list[str]:
    """The folder's seeds, newest first, as every feed must list them."""
    return sorted(FOLDERS[folder], key=lambda stem: SEEDS[stem].date, reverse=True)


def entry_id(stem: str) -> str:
    return f"tag:127.0.0.1,2025:{stem}"


def epoch(stem: str) -> int:
    return int(datetime.fromisoformat(SEEDS[stem].date).timestamp())


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("readers")
    write_project(work)
    result = run_feeds(work, "build")
    assert result.returncode == 0, result.stderr
    return work / "out"


def folder_of(relative: str) -> str:
    return relative.rpartition("/")[0]


# feedparser --------------------------------------------------------------------------


@pytest.mark.parametrize("relative", XML_FEEDS)
def test_feedparser_reads_every_entry_intact(out: Path, relative: str) -> None:
    parsed = feedparser.parse((out / relative).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if relative.endswith("atom.xml") else "rss20")
    stems = stems_of(folder_of(relative))
    assert [entry.id for entry in parsed.entries] == [entry_id(stem) for stem in stems]
    for entry, stem in zip(parsed.entries, stems, strict=True):
        seed = SEEDS[stem]
        assert entry.title == seed.title
        assert entry.link == seed.link
        assert entry.author == seed.source
        assert "+08:00" in entry.published or "+0800" in entry.published
        assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == datetime.fromisoformat(
            seed.date
        )
        assert {tag.term for tag in entry.tags} == {seed.source}
        assert entry.content[0].type == "text/html" and len(entry.content[0].value) > 200
        assert entry.summary
        assert bool(entry.get("media_thumbnail")) == seed.thumbnail


@pytest.mark.parametrize("relative", XML_FEEDS)
def test_feedparser_sees_the_feed_links_and_language(out: Path, relative: str) -> None:
    parsed = feedparser.parse((out / relative).read_bytes())
    folder = folder_of(relative)
    assert parsed.feed.link == BASE_URL + (folder + "/" if folder else "")
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == BASE_URL + relative
    assert parsed.feed.language == "zh-CN"
    assert parsed.feed.title.startswith("feeds")


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_json_feed_has_the_json_feed_1_1_fields(out: Path, folder: str) -> None:
    relative = f"{folder}/feed.json".lstrip("/")
    document = json.loads((out / relative).read_bytes())
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == BASE_URL + relative
    assert document["home_page_url"] == BASE_URL + (folder + "/" if folder else "")
    assert isinstance(document["title"], str) and document["language"] == "zh-CN"
    assert document["authors"] == [{"name": "feeds"}]
    stems = stems_of(folder)
    assert [item["id"] for item in document["items"]] == [entry_id(stem) for stem in stems]
    for item, stem in zip(document["items"], stems, strict=True):
        check_json_item(item, SEEDS[stem])


def check_json_item(item: dict[str, Any], seed: Seed) -> None:
    allowed = {"id", "url", "title", "content_html", "summary", "image", "date_published"}
    allowed |= {"date_modified", "authors", "tags", "language"}
    assert set(item) <= allowed
    assert item["title"] == seed.title and item["url"] == seed.link
    assert item["date_published"] == seed.date
    assert datetime.fromisoformat(item["date_modified"]) >= datetime.fromisoformat(seed.date)
    assert item["tags"] == [seed.source] and item["authors"] == [{"name": seed.source}]
    assert item["language"] == "zh-CN" and item["content_html"].startswith("<p>")
    assert ("image" in item) == seed.thumbnail


# sfeed -------------------------------------------------------------------------------

needs_sfeed = pytest.mark.skipif(
    shutil.which("sfeed") is None, reason="sfeed is not on PATH (Debian package sfeed)"
)


@needs_sfeed
@pytest.mark.parametrize("relative", XML_FEEDS)
def test_sfeed_reads_every_entry(out: Path, relative: str) -> None:
    data = (out / relative).read_bytes()
    result = subprocess.run(["sfeed"], input=data, capture_output=True, check=True, timeout=30)
    rows = [line.split("\t") for line in result.stdout.decode("utf-8").splitlines()]
    stems = stems_of(folder_of(relative))
    assert len(rows) == len(stems)
    for row, stem in zip(rows, stems, strict=True):
        seed = SEEDS[stem]
        # timestamp, title, link, content, content-type, id, author, enclosure, categories
        assert len(row) == 9
        assert int(row[0]) == epoch(stem)
        assert row[1] == seed.title
        assert row[2] == seed.link
        assert row[4] == "html" and len(row[3]) > 200
        assert row[5] == entry_id(stem)
        assert row[6] == seed.source
        assert set(row[8].split("|")) == {seed.source}


# newsboat ----------------------------------------------------------------------------

needs_newsboat = pytest.mark.skipif(
    shutil.which("newsboat") is None, reason="newsboat is not on PATH (Debian package newsboat)"
)


def newsboat_items(out: Path, relative: str, home: Path) -> tuple[tuple[Any, ...], list[Any]]:
    """Let newsboat fetch file://out/relative into its own cache; read the cache back.

    Each feed gets its own cache: newsboat keeps one row per guid across all its feeds."""
    home.mkdir()
    url = (out / relative).as_uri()
    (home / "urls").write_text(url + "\n", encoding="utf-8")
    (home / "config").write_text("", encoding="utf-8")
    cache = home / "cache.db"
    command = ["newsboat", "-u", str(home / "urls"), "-C", str(home / "config")]
    command += ["-c", str(cache), "-x", "reload"]
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "XDG_DATA_HOME": str(home),
    }
    subprocess.run(command, env=env, capture_output=True, check=True, timeout=60)
    with sqlite3.connect(cache) as db:
        feed = db.execute("SELECT title, url FROM rss_feed WHERE rssurl = ?", (url,)).fetchone()
        items = db.execute(
            "SELECT guid, title, url, author, pubDate, content FROM rss_item"
            " WHERE feedurl = ? ORDER BY pubDate DESC",
            (url,),
        ).fetchall()
    return feed, items


@needs_newsboat
@pytest.mark.parametrize("relative", XML_FEEDS)
def test_newsboat_reads_every_entry(out: Path, relative: str, tmp_path: Path) -> None:
    feed, items = newsboat_items(out, relative, tmp_path / "newsboat")
    folder = folder_of(relative)
    assert feed[1] == BASE_URL + (folder + "/" if folder else "")
    stems = stems_of(folder)
    assert [item[0] for item in items] == [entry_id(stem) for stem in stems]
    for (_, title, url, author, published, content), stem in zip(items, stems, strict=True):
        seed = SEEDS[stem]
        assert (title, url, author) == (seed.title, seed.link, seed.source)
        assert published == epoch(stem)
        assert len(content) > 200


# W3C Feed Validation Service ---------------------------------------------------------

VALIDATOR = os.environ.get("FEEDVALIDATOR")


needs_validator = pytest.mark.skipif(
    not VALIDATOR, reason="FEEDVALIDATOR is not set to a checkout of w3c/feedvalidator's src/"
)


def w3c_problems(data: bytes, url: str) -> list[str]:
    """The validator's errors and warnings ("AA", as the online service shows them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the validator's own code is full of old escapes
        sys.path.insert(0, str(VALIDATOR))
        import feedvalidator  # type: ignore[import-not-found]
        from feedvalidator import compatibility  # type: ignore[import-not-found]
        from feedvalidator.formatter.text_plain import Formatter  # type: ignore[import-not-found]

        result = feedvalidator.validateString(data, firstOccurrenceOnly=0, base=url)
        return list(Formatter(compatibility.AA(result["loggedEvents"])))


@needs_validator
@pytest.mark.parametrize("relative", XML_FEEDS)
def test_w3c_validator_finds_no_errors_or_warnings(out: Path, relative: str) -> None:
    assert w3c_problems((out / relative).read_bytes(), BASE_URL + relative) == []


# Every front-matter fixture, built under an awkward base URL -------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
AWKWARD_URL = "https://例子.example/my news/"


@pytest.fixture(scope="module")
def fixtures_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The named article fixtures built by the CLI: the bad ones rejected, the rest out."""
    work = tmp_path_factory.mktemp("fixtures")
    write_project(work)
    shutil.rmtree(work / "seeds")
    shutil.copytree(FIXTURES, work / "seeds")
    for index, path in enumerate(sorted((work / "seeds").iterdir())):
        os.utime(path, (1_740_000_000 + 60 * index, 1_740_000_000 + 60 * index))
    result = run_feeds(work, "build", "--base-url", AWKWARD_URL)
    assert result.returncode == 1
    assert result.stderr.count("error: ") == len(BAD)
    return work / "out"


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_feedparser_reads_the_fixture_feeds(fixtures_out: Path, name: str) -> None:
    feeds = sorted(fixtures_out.rglob(name))
    assert len(feeds) > 5
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries


@needs_validator
@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_w3c_validator_passes_the_fixture_feeds(fixtures_out: Path, name: str) -> None:
    base = "https://xn--fsqu00a.example/my%20news/"
    for path in sorted(fixtures_out.rglob(name)):
        relative = quote(path.relative_to(fixtures_out).as_posix())
        assert w3c_problems(path.read_bytes(), base + relative) == [], relative
