"""Every front-matter case, one named fixture each (tests/fixtures/articles/<what-it-proves>).

Good fixtures list the Entry fields they prove; bad ones the problem their one error names.
A fixture without an expectation (or the reverse) fails, so the folder and the table agree.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feeds.errors import ArticleError
from feeds.model import Entry
from feeds.normalize.article import Draft, read_article

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
BASE_URL = "http://127.0.0.1:8080/"
ZONE = ZoneInfo("Asia/Shanghai")
MODIFIED = datetime(2025, 3, 1, 12, 0, tzinfo=ZONE)  # the file's modification time
SEED_DATE = "2025-02-10T19:51:01+08:00"

GOOD: dict[str, dict[str, Any]] = {
    "date_quoted_naive_is_in_the_site_zone.md": {"published": SEED_DATE},
    "date_unquoted_yaml_timestamp_is_in_the_site_zone.md": {"published": SEED_DATE},
    "date_with_offset_keeps_it.md": {"published": "2025-02-10T19:51:01+02:00"},
    "date_with_z_is_utc.md": {"published": "2025-02-10T11:51:01+00:00"},
    "date_only_is_midnight.md": {"published": "2025-02-10T00:00:00+08:00"},
    "date_rfc822_keeps_its_offset.md": {"published": "2025-02-10T19:51:01+01:00"},
    "lastmod_is_updated.md": {"published": SEED_DATE, "updated": "2025-02-12T08:00:00+08:00"},
    "lastmod_before_date_is_raised_to_date.md": {"updated": SEED_DATE},
    "draft_false_is_published.md": {"title": "Published", "updated": MODIFIED.isoformat()},
    "lang_list_takes_the_first.md": {"language": "zh-CN"},
    "lang_string.md": {"language": "fr"},
    "thumbnail_empty_is_none.md": {"thumbnail": None},
    "thumbnail_protocol_relative_becomes_https.md": {
        "thumbnail": "https://inews.gtimg.com/om_ls/thumb/0"
    },
    "categories_as_string_is_one_item.md": {"categories": ("qq",), "tags": ("AI",)},
    "terms_differing_in_case_are_one.md": {"tags": ("Nvidia", "DeepSeek")},
    "layout_only_keys_are_ignored.md": {"title": "Layout keys", "summary": None},
    "no_trailing_link_links_nowhere.md": {"link": None, "source_name": None},
    "trailing_link_is_link_and_source.md": {
        "id": "tag:127.0.0.1,2025:trailing_link_is_link_and_source",
        "title": "马克龙呼吁法国人下载它！欧洲AI的希望？",
        "summary": "法国总统马克龙忙于做一款人工智能应用的“推销员”。",
        "link": "https://finance.sina.com.cn/roll/2025-02-10/doc-ineizeny3433318.shtml",
        "source_name": "sina_us_stock",
        "categories": ("sina_us_stock",),
        "tags": ("sina_us_stock",),
        "language": "zh-CN",
        "origin": "seed:trailing_link_is_link_and_source.md",
    },
    "txt_with_utf8_bom_is_read.txt": {"title": "BOM"},
    "markup_in_title_and_summary_is_plain_text.md": {
        "title": "Tom & Jerry",
        "summary": "Short <em> summary",
    },
}

BAD: dict[str, str] = {
    # The YAML parser's line, counted in the file (line 1 is the opening '---').
    "broken_yaml_names_the_line.md": "broken_yaml_names_the_line.md:3: broken YAML front matter",
    "broken_yaml_after_blank_lines_names_the_file_line.md": (
        "broken_yaml_after_blank_lines_names_the_file_line.md:6: broken YAML front matter"
    ),
    "no_title_is_rejected.md": "no title in the front matter",
    "title_list_is_rejected.md": "title must be text",
    "no_date_is_rejected.md": "no date in the front matter",
    "unparseable_date_is_rejected.md": "unparseable date: 'next Tuesday'",
    "undecodable_bytes_are_rejected.txt": "not UTF-8 (byte 12",
    "empty_file_is_rejected.md": "empty file",
    "no_front_matter_is_rejected.md": "no front matter",
    "unclosed_front_matter_is_rejected.md": "not closed by '---'",
    "front_matter_not_a_mapping_is_rejected.md": "not a mapping",
}

DRAFTS = {"draft_true_is_skipped.md"}


def read(name: str) -> Entry:
    return read_article(name, (FIXTURES / name).read_bytes(), BASE_URL, ZONE, MODIFIED)


def value(entry: Entry, field: str) -> Any:
    found = getattr(entry, field)
    return found.isoformat() if isinstance(found, datetime) else found


def test_every_fixture_has_an_expectation() -> None:
    on_disk = {path.name for path in FIXTURES.iterdir()}
    assert on_disk == set(GOOD) | set(BAD) | DRAFTS


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_article(name: str) -> None:
    entry = read(name)
    for field, expected in GOOD[name].items():
        assert value(entry, field) == expected, f"{name}: {field}"
    assert entry.published.utcoffset() is not None and entry.updated >= entry.published
    assert entry.content_html.startswith("<p>")


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_article_gives_one_error_naming_the_file(name: str) -> None:
    with pytest.raises(ArticleError) as caught:
        read(name)
    message = str(caught.value)
    assert message.startswith(name + ":")
    assert BAD[name] in message
    assert "\n" not in message


def test_draft_is_skipped_not_rejected() -> None:
    with pytest.raises(Draft):
        read("draft_true_is_skipped.md")


def test_updated_is_the_modification_time_without_lastmod() -> None:
    entry = read("date_quoted_naive_is_in_the_site_zone.md")
    assert entry.updated == MODIFIED


def test_modification_time_before_date_is_raised_to_date() -> None:
    data = (FIXTURES / "date_only_is_midnight.md").read_bytes()
    early = datetime(2020, 1, 1, tzinfo=ZONE)
    entry = read_article("date_only_is_midnight.md", data, BASE_URL, ZONE, early)
    assert entry.updated == entry.published


def test_id_comes_from_host_and_stem_not_folder_or_content() -> None:
    data = (FIXTURES / "lang_string.md").read_bytes()
    edited = data.replace(b"Body.", b"Edited body.")
    first = read_article("a/lang_string.md", data, "https://example.org/x/", ZONE, MODIFIED)
    again = read_article("lang_string.md", edited, "https://example.org/", ZONE, MODIFIED)
    assert first.id == again.id == "tag:example.org,2025:lang_string"


def test_layout_only_keys_leave_no_trace() -> None:
    entry = read("layout_only_keys_are_ignored.md")
    plain = read("draft_false_is_published.md")
    for field in ("categories", "tags", "language", "thumbnail", "summary", "link"):
        assert getattr(entry, field) == getattr(plain, field)
    assert "a lead" not in entry.content_html
