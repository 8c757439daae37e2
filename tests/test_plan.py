"""The feed plan: which feeds exist and which entries each holds (a pure function)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from feeds.model import Entry
from feeds.normalize.content import xml_safe
from feeds.render.plan import plan_feeds, term_key

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 2, 1, 8, 0, tzinfo=ZONE)


def entry(number: int, tags: tuple[str, ...] = (), categories: tuple[str, ...] = ()) -> Entry:
    moment = START + timedelta(hours=number)
    return Entry(
        id=f"tag:example.org,2025:{number:03}",
        title=f"Entry {number}",
        published=moment,
        updated=moment,
        tags=tags,
        categories=categories,
    )


def test_the_combined_feed_holds_every_entry_newest_first() -> None:
    entries = [entry(1), entry(3), entry(2)]
    combined = plan_feeds(entries, "Site", 50).feeds[0]
    assert (combined.kind, combined.folder, combined.title) == ("all", "", "Site")
    assert [item.id[-3:] for item in combined.entries] == ["003", "002", "001"]


def test_one_feed_per_tag_and_category_under_its_folder() -> None:
    plan = plan_feeds([entry(1, ("AI",), ("qq",)), entry(2, ("AI", "芯片"))], "Site", 50)
    folders = {spec.folder: spec for spec in plan.feeds}
    assert set(folders) == {"", "tags/ai", "tags/芯片", "categories/qq"}
    assert [item.id[-3:] for item in folders["tags/ai"].entries] == ["002", "001"]
    assert folders["tags/ai"].title == "Site · tag: AI"
    assert folders["categories/qq"].term == "qq"
    assert plan.slugs == {("tag", "ai"): "ai", ("tag", "芯片"): "芯片", ("category", "qq"): "qq"}


def test_the_limit_keeps_the_newest_and_counts_all() -> None:
    entries = [entry(number, ("t",)) for number in range(10)]
    plan = plan_feeds(entries, "Site", 3)
    for spec in plan.feeds:
        assert [item.id[-3:] for item in spec.entries] == ["009", "008", "007"]
        assert spec.total == 10


def test_terms_differing_in_case_width_or_space_are_one_feed_with_each_entry_once() -> None:
    entries = [entry(1, ("Nvidia", "NVIDIA")), entry(2, ("ｎｖｉｄｉａ",)), entry(3, (" nvidia ",))]
    tags = [spec for spec in plan_feeds(entries, "Site", 50).feeds if spec.kind == "tag"]
    assert len(tags) == 1
    assert [item.id[-3:] for item in tags[0].entries] == ["003", "002", "001"]
    assert tags[0].term == min("Nvidia", "NVIDIA", "ｎｖｉｄｉａ", " nvidia ")
    assert term_key("ＮＶＩＤＩＡ  Corp") == "nvidia corp"


def test_a_tag_and_a_category_with_one_name_are_two_feeds() -> None:
    folders = [spec.folder for spec in plan_feeds([entry(1, ("qq",), ("qq",))], "S", 5).feeds]
    assert folders == ["", "tags/qq", "categories/qq"]


def test_the_plan_does_not_depend_on_input_order() -> None:
    entries = [entry(number, (f"t{number % 3}", "All"), (f"c{number % 2}",)) for number in range(9)]
    assert plan_feeds(entries, "S", 4) == plan_feeds(list(reversed(entries)), "S", 4)


def test_known_slugs_are_kept() -> None:
    plan = plan_feeds([entry(1, ("AI",))], "S", 5, {("tag", "ai"): "artificial-intelligence"})
    assert plan.feeds[1].folder == "tags/artificial-intelligence"


def test_no_entries_still_plans_the_combined_feed() -> None:
    plan = plan_feeds([], "S", 5)
    assert [(spec.kind, spec.entries, spec.total) for spec in plan.feeds] == [("all", (), 0)]


def test_text_xml_forbids_is_removed_before_rendering() -> None:
    dirty = Entry(
        id="tag:example.org,2025:x\x01",
        title="T\x0bitle",
        published=START,
        updated=START,
        content_html="<p>a\x00b</p>",
        summary="\x1f",
        tags=("ok", "\x02"),
        source_name="So\ufffeurce",
    )
    clean = xml_safe(dirty)
    assert (clean.id, clean.title, clean.content_html) == (
        "tag:example.org,2025:x",
        "Title",
        "<p>ab</p>",
    )
    assert (clean.summary, clean.tags, clean.source_name) == (None, ("ok",), "Source")
    tidy = entry(1, ("t",))
    assert xml_safe(tidy) is tidy
    assert plan_feeds([dirty], "Site\x07", 5).feeds[0].title == "Site"


def test_articles_are_parsed_xml_safe_so_the_plan_may_trust_them() -> None:
    from zoneinfo import ZoneInfo

    from feeds.normalize.article import parse_article

    data = (
        b'---\ntitle: "T\\u0001itle"\ndate: "2025-01-01 10:00:00"\nlang: "zh\\u0001"\n'
        b'thumbnail: "https://img.example/a\\u0002.png"\ntags: ["ok", "\\u0002"]\n---\nBody\n'
    )
    parsed = parse_article("a\x01b.md", data, "https://example.org/", ZoneInfo("UTC")).entry
    assert xml_safe(parsed) is parsed
    assert (parsed.title, parsed.language, parsed.tags) == ("Title", "zh", ("ok",))
    assert "\x01" not in parsed.id and "\x02" not in (parsed.thumbnail or "")
    # Trusted or checked, the plan is the same; what is trusted is not checked again.
    assert plan_feeds([parsed], "S", 5, safe=lambda _: True) == plan_feeds([parsed], "S", 5)
    dirty = replace(parsed, title="T\x0bitle")
    assert plan_feeds([dirty], "S", 5, safe=lambda _: True).feeds[0].entries[0].title == (
        "T\x0bitle"
    )
