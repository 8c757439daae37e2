"""parse_feed in detail: dates, identity, the source's settings, format detection."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feeds.errors import ParseError
from feeds.model import Source
from feeds.normalize.adapter import MAX_MARKUP
from feeds.normalize.identity import upstream_id
from feeds.normalize.upstream import ParsedFeed, parse_feed
from tests.test_upstream_fixtures import FIXTURES, SEEN_AT, URL


def parse(
    fixture: str,
    *,
    url: str = URL,
    seen_at: datetime = SEEN_AT,
    content_type: str = "application/xml",
    zone: ZoneInfo | None = None,
    **source: object,
) -> ParsedFeed:
    options: dict[str, object] = {"name": "Example", "url": url, **source}
    declared = Source(**options)  # type: ignore[arg-type]
    body = (FIXTURES / fixture).read_bytes()
    extra = {"zone": zone} if zone is not None else {}
    return parse_feed(body, {"Content-Type": content_type}, url, declared, seen_at, **extra)


def test_dates_without_a_zone_take_the_source_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    entries = parse("naive_dates.xml", timezone="Asia/Shanghai").entries
    assert [e.published for e in entries] == [
        datetime(2025, 6, 2, 7, tzinfo=shanghai),
        datetime(2025, 6, 2, 8, tzinfo=shanghai),
        datetime(2025, 6, 2, 9, tzinfo=UTC),
    ]


def test_dates_without_a_zone_take_the_site_zone_when_the_source_names_none() -> None:
    paris = ZoneInfo("Europe/Paris")
    entries = parse("naive_dates.xml", zone=paris).entries
    assert entries[0].published == datetime(2025, 6, 2, 7, tzinfo=paris)
    assert parse("naive_dates.xml").entries[0].published == datetime(2025, 6, 2, 7, tzinfo=UTC)


def test_an_unknown_source_zone_is_reported_and_the_site_zone_used() -> None:
    parsed = parse("naive_dates.xml", timezone="Mars/Olympus")
    assert parsed.entries[0].published == datetime(2025, 6, 2, 7, tzinfo=UTC)
    assert any("Mars/Olympus" in warning for warning in parsed.warnings)


def test_undated_entries_get_seen_at_and_keep_their_ids() -> None:
    first = parse("no_dates.xml")
    later = parse("no_dates.xml", seen_at=SEEN_AT + timedelta(hours=5))
    assert all(e.published == e.updated == SEEN_AT for e in first.entries)
    assert first.undated == {e.id for e in first.entries}
    assert [e.id for e in later.entries] == [e.id for e in first.entries]


def test_only_dates_more_than_a_day_ahead_are_clamped() -> None:
    parsed = parse("future_dates.xml")
    far, near = parsed.entries
    assert far.published == far.updated == SEEN_AT
    assert near.published == datetime(2025, 6, 5, tzinfo=UTC)
    assert parsed.undated == {far.id}


def test_updated_alone_or_published_alone_fills_both() -> None:
    good = parse("rss20_good.xml").entries
    assert (
        good[0].published
        == good[0].updated
        == datetime(2025, 6, 4, 9, 30, tzinfo=ZoneInfo("Etc/GMT-2"))
    )
    atom = parse("atom10_good.xml").entries
    assert atom[0].published == datetime(2025, 5, 31, 7, tzinfo=UTC)
    assert atom[0].updated == datetime(2025, 6, 1, 9, tzinfo=UTC)
    assert atom[1].published == atom[1].updated == datetime(2025, 5, 30, 9, tzinfo=UTC)


def test_ids_come_from_the_guid_as_written_and_survive_a_moved_feed() -> None:
    here = parse("relative_links_no_base.xml")
    moved = parse("relative_links_no_base.xml", url="https://elsewhere.example/rss")
    assert [e.id for e in here.entries] == [e.id for e in moved.entries]
    assert here.entries[1].id == upstream_id("Example", "12345", None, "", "")
    assert here.entries[0].link != moved.entries[0].link  # links do follow the feed URL


def test_reused_guid_first_occurrence_keeps_the_plain_guid() -> None:
    newest, older = parse("duplicate_guids_different_links.xml").entries
    assert newest.id == upstream_id("Example", "same-guid", None, "", "")
    assert older.id != newest.id


def test_ids_are_scoped_by_source_name() -> None:
    ours = {e.id for e in parse("rss20_good.xml").entries}
    theirs = {e.id for e in parse("rss20_good.xml", name="Other").entries}
    assert not ours & theirs


def test_hash_and_link_identity_for_items_without_guid() -> None:
    text_only, link_only, titled_by_body = parse("no_ids_no_links.xml").entries
    assert text_only.id == upstream_id(
        "Example", None, None, "Text only", "Identified by a hash of title and content."
    )
    assert link_only.id == upstream_id(
        "Example", None, "https://upstream.example/nolink/1#section", "", ""
    )
    assert titled_by_body.title.startswith("An item with neither title nor link")


def test_categories_become_tags_and_the_source_adds_its_own() -> None:
    first = parse("rss20_good.xml", category="Tech", tags=("feeds", "Python")).entries[0]
    assert first.tags == ("Python", "Release Notes", "feeds")
    assert first.categories == ("Tech",)
    assert first.source_name == "Example" and first.origin == "upstream:Example"
    atom = parse("atom10_good.xml").entries[0]
    assert atom.tags == ("Atom Tag", "plain")  # the label when there is one, else the term


def test_language_from_item_then_feed_then_source() -> None:
    assert parse("jsonfeed11.json", lang="en").entries[0].language == "fr-CA"
    assert parse("jsonfeed11.json", lang="en").entries[1].language == "fr"
    assert parse("rss20_good.xml", lang="nl").entries[0].language == "en-us"
    assert parse("no_dates.xml", lang="nl").entries[0].language == "nl"
    assert parse("no_dates.xml").entries[0].language is None


def test_summary_is_plain_text_and_content_keeps_the_html() -> None:
    third, second, _ = parse("rss20_good.xml").entries
    assert third.summary == "A short summary of the third post."
    assert third.content_html.startswith("<p>The <strong>third</strong>")
    # Only a description: it is the content, and there is no separate summary.
    assert second.summary is None
    assert second.content_html == "<p>Second post body, only in the description.</p>"
    assert parse("jsonfeed10.json").entries[1].summary == "Short <summary> as plain text"


def test_thumbnails_are_absolute() -> None:
    assert parse("rss20_good.xml").entries[0].thumbnail == "https://upstream.example/img/3.jpg"
    assert parse("jsonfeed10.json").entries[1].thumbnail == "https://upstream.example/img/1.png"


def test_limit_keeps_the_first_entries_in_document_order() -> None:
    titles = [e.title for e in parse("rss20_good.xml", limit=2).entries]
    assert titles == ["Third post", "Second post"]


def test_a_broken_pattern_is_reported_and_not_applied() -> None:
    parsed = parse("rss20_good.xml", include="([unclosed")
    assert len(parsed.entries) == 3
    assert any("include pattern" in warning for warning in parsed.warnings)


def test_json_and_xml_are_told_apart_by_content_before_content_type() -> None:
    as_text = parse("jsonfeed11.json", content_type="text/plain")
    assert as_text.entries[0].title == "Premier article"
    mislabelled = parse("rss20_good.xml", content_type="application/json")
    assert len(mislabelled.entries) == 3


def test_gbk_without_any_header_is_still_recovered() -> None:
    body = (FIXTURES / "encoding_gbk_declared_utf8.xml").read_bytes()
    parsed = parse_feed(body, {}, URL, Source(name="zh", url=URL), SEEN_AT)
    assert parsed.entries[1].title == "你好世界"


@pytest.mark.parametrize("body", [b"", b"   \n\t"])
def test_an_empty_body_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="empty body"):
        parse_feed(body, {}, URL, Source(name="x", url=URL), SEEN_AT)


def test_seen_at_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("rss20_good.xml", seen_at=datetime(2025, 6, 4, 12))


def test_an_oversized_body_is_cut_before_the_sanitizer() -> None:
    description = "fish &amp; chips " * 40_000  # 680 kB of text, every word an "&"
    body = (
        '<rss version="2.0"><channel><title>t</title><item><title>Big</title>'
        f"<link>https://upstream.example/big</link><description>{description}</description>"
        "</item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, {}, URL, Source(name="x", url=URL), SEEN_AT)
    (entry,) = parsed.entries
    assert entry.content_html.startswith("fish &amp; chips fish")
    assert len(html.unescape(entry.content_html)) <= MAX_MARKUP
    assert parsed.warnings == ("item #1 is longer than 256 KiB; truncated",)
