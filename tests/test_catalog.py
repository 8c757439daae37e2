"""sources/*.toml and OPML import/export."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.sources.catalog import load_catalog
from feeds.sources.opml import export_opml, import_opml, read_opml

ROOT = Path(__file__).resolve().parent.parent


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_example_loads_and_enables_nothing() -> None:
    catalog = load_catalog(ROOT / "sources", "Asia/Shanghai")
    assert catalog.errors == ()
    assert catalog.sources, "the example should show at least one table"
    assert catalog.enabled == ()


def test_a_full_table_and_the_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.toml",
        """
[[source]]
name = "Full"
url = "https://example.org/feed"
interval = "2h"
category = "Tech"
tags = ["x", "y", "x"]
lang = "en"
timezone = "UTC"
enabled = false
include = "(?i)py"
exclude = "ads"
limit = 5

[[source]]
name = "Bare"
url = "http://example.com/rss"
""",
    )
    full, bare = load_catalog(tmp_path, "Asia/Shanghai").sources
    assert (full.interval, full.category, full.tags, full.timezone) == (
        7200,
        "Tech",
        ("x", "y"),
        "UTC",
    )
    assert (full.enabled, full.include, full.exclude, full.limit, full.lang) == (
        False,
        "(?i)py",
        "ads",
        5,
        "en",
    )
    assert (bare.interval, bare.category, bare.tags, bare.timezone, bare.enabled) == (
        1800,
        "Bare",
        (),
        "Asia/Shanghai",
        True,
    )
    assert bare.where.endswith("a.toml, [[source]] #2")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'name = "n"\nurl = "file:///etc/passwd"',
            "key 'url': expected an absolute http or https URL",
        ),
        ('name = "n"\nurl = "ftp://example.org/feed"', "key 'url'"),
        ('name = "n"\nurl = "/relative/feed"', "key 'url'"),
        ('name = "n"', "key 'url' is required"),
        ('url = "https://e.org/"', "key 'name' is required"),
        ('name = "n"\nurl = "https://e.org/"\ninterval = "soon"', "key 'interval'"),
        (
            'name = "n"\nurl = "https://e.org/"\ninclude = "("',
            "key 'include': bad regular expression",
        ),
        ('name = "n"\nurl = "https://e.org/"\nlimit = 0', "key 'limit'"),
        ('name = "n"\nurl = "https://e.org/"\nenabled = "yes"', "key 'enabled'"),
        ('name = "n"\nurl = "https://e.org/"\ntimezone = "Mars/Base"', "key 'timezone'"),
        ('name = "n"\nurl = "https://e.org/"\ncolour = "red"', "unknown key 'colour'"),
    ],
)
def test_a_bad_table_names_file_table_and_key_and_the_others_load(
    tmp_path: Path, table: str, message: str
) -> None:
    path = write(
        tmp_path,
        "mixed.toml",
        f'[[source]]\nname = "good"\nurl = "https://good.example/"\n\n[[source]]\n{table}\n',
    )
    catalog = load_catalog(tmp_path)
    assert [source.name for source in catalog.sources] == ["good"]
    (error,) = catalog.errors
    assert isinstance(error, ConfigError)
    assert error.where == str(path)
    assert "[[source]] #2" in error.problem
    assert message in error.problem


def test_duplicate_names_across_files_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", '[[source]]\nname = "Same"\nurl = "https://a.example/"\n')
    second = write(tmp_path, "b.toml", '[[source]]\nname = "same"\nurl = "https://b.example/"\n')
    catalog = load_catalog(tmp_path)
    assert [source.url for source in catalog.sources] == ["https://a.example/"]
    (error,) = catalog.errors
    assert error.where == str(second)
    assert "name already used by" in error.problem and "a.toml" in error.problem


def test_broken_toml_is_one_error_and_other_files_still_load(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.toml", "[[source]\nname =")
    write(tmp_path, "ok.toml", '[[source]]\nname = "ok"\nurl = "https://ok.example/"\n')
    catalog = load_catalog(tmp_path)
    assert [source.name for source in catalog.sources] == ["ok"]
    assert [error.where for error in catalog.errors] == [str(bad)]


def test_a_missing_folder_is_an_empty_catalog(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path / "nope")
    assert (catalog.sources, catalog.errors) == ((), ())


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>subs</title></head>
  <body>
    <outline text="Tech">
      <outline type="rss" text="Blog &quot;A&quot;" xmlUrl="https://a.example/feed"/>
      <outline type="rss" text="Known" xmlUrl="HTTPS://Known.example:443/feed#x"/>
    </outline>
    <outline type="rss" title="Loose" xmlUrl="http://loose.example/rss"/>
    <outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/>
    <outline type="rss" text="Twice" xmlUrl="https://a.example/feed"/>
  </body>
</opml>
"""


def test_import_appends_new_feeds_and_skips_known_ones(tmp_path: Path) -> None:
    folder = tmp_path / "sources"
    write(folder, "mine.toml", '[[source]]\nname = "Loose"\nurl = "https://known.example/feed"\n')
    opml = tmp_path / "subs.opml"
    opml.write_bytes(OPML)
    report = import_opml(opml, folder, load_catalog(folder))
    assert [(item.name, item.url, item.category) for item in report.added] == [
        ('Blog "A"', "https://a.example/feed", "Tech"),
        ("Loose (2)", "http://loose.example/rss", None),
    ]
    assert [why for _, why in report.skipped] == [
        "already declared",
        "expected an absolute http or https URL, got 'javascript:alert(1)'",
        "already declared",
    ]
    catalog = load_catalog(folder)
    assert catalog.errors == ()
    assert [(s.name, s.category) for s in catalog.sources] == [
        ('Blog "A"', "Tech"),
        ("Loose (2)", "Loose (2)"),
        ("Loose", "Loose"),
    ]
    again = import_opml(opml, folder, catalog)
    assert again.added == []
    assert tomllib.loads(report.path.read_text(encoding="utf-8"))["source"][0]["name"] == 'Blog "A"'


def test_export_round_trips_through_import(tmp_path: Path) -> None:
    folder = tmp_path / "sources"
    write(
        folder,
        "a.toml",
        '[[source]]\nname = "A & B"\nurl = "https://a.example/?x=1&y=2"\ncategory = "Tech"\n'
        '[[source]]\nname = "C"\nurl = "https://c.example/"\n',
    )
    data = export_opml(load_catalog(folder).sources, "mine")
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml version=\"2.0\">")
    items = read_opml(data, "export")
    assert [(i.name, i.url, i.category) for i in items] == [
        ("A & B", "https://a.example/?x=1&y=2", "Tech"),
        ("C", "https://c.example/", None),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body>", "not well-formed XML"),
        (b"<rss><channel/></rss>", "not an OPML document"),
        (
            b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<opml><body><outline text='&x;' xmlUrl='https://e.org/'/></body></opml>",
            "entity declarations are not allowed",
        ),
    ],
)
def test_bad_opml_is_a_config_error_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        read_opml(data, "subs.opml")
    assert caught.value.where == "subs.opml"
