"""Spliced feeds (render/fragments.py) are byte for byte the reference renderers' feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.model import Entry, FeedSpec
from feeds.pipeline import BuildReport, read_seeds
from feeds.render import RENDERERS
from feeds.render.fragments import Fragments
from feeds.render.plan import plan_feeds
from feeds.render.site import Site
from feeds.settings import defaults
from tests import corpora

ROOT = Path(__file__).resolve().parent.parent
SITE = Site(title="feeds", base_url="http://127.0.0.1:8080/", formats=("atom", "rss", "json"))


def assert_same_feeds(feeds: tuple[FeedSpec, ...], site: Site = SITE) -> None:
    fragments = Fragments(site)
    for spec in feeds:
        for fmt in site.formats:
            expected = RENDERERS[fmt](spec, site)
            assert fragments.render(spec, fmt) == expected, (spec.folder, fmt)


def planned(seeds: Path) -> tuple[FeedSpec, ...]:
    settings = defaults().with_values("test", {"seeds": str(seeds), "timezone": "Asia/Shanghai"})
    report = BuildReport()
    entries = read_seeds(settings, report)
    assert not report.rejected
    return plan_feeds(entries, "feeds", 50).feeds


def test_seeds_feeds_are_identical() -> None:
    assert_same_feeds(planned(ROOT / "seeds"))


def test_generated_corpus_feeds_are_identical(tmp_path: Path) -> None:
    feeds = planned(corpora.generate(tmp_path, 400, 3))
    assert len(feeds) > 100
    assert_same_feeds(feeds)


def test_an_entry_is_rendered_once_per_format_for_all_its_feeds() -> None:
    feeds = planned(ROOT / "seeds")
    fragments = Fragments(SITE)
    for spec in feeds:
        fragments.render(spec, "atom")
    shared = feeds[0].entries[0]
    first = fragments.of("atom", shared)
    assert fragments.of("atom", shared) is first


def test_an_empty_feed_is_identical() -> None:
    assert_same_feeds((FeedSpec("all", "", "", "feeds", (), 0),))


# Text with every character the escapers treat specially, XML-valid (content.xml_safe removes
# the rest before any renderer sees it).
AWKWARD = st.text(
    alphabet=st.sampled_from(list("aZ9 &<>\"'\t\n\r;#/?=·“中文\u3000é")), min_size=1, max_size=12
)
OPTIONAL = st.none() | AWKWARD
MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).flatmap(
    lambda moment: st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))]
    ).map(lambda zone: moment.replace(tzinfo=zone))
)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    return Entry(
        id=draw(AWKWARD),
        title=draw(AWKWARD),
        published=draw(MOMENTS),
        updated=draw(MOMENTS),
        content_html=draw(st.just("") | AWKWARD),
        summary=draw(OPTIONAL),
        link=draw(OPTIONAL),
        categories=tuple(draw(st.lists(AWKWARD, max_size=2))),
        tags=tuple(draw(st.lists(AWKWARD, max_size=3))),
        language=draw(st.none() | st.sampled_from(["en", "zh-CN", "fr"])),
        thumbnail=draw(OPTIONAL),
        source_name=draw(OPTIONAL),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(entries(), max_size=4, unique_by=lambda entry: entry.id),
    AWKWARD,
    st.sampled_from(["all", "tag", "category"]),
)
def test_awkward_entries_are_identical(items: list[Entry], title: str, kind: str) -> None:
    folder = "" if kind == "all" else f"{kind}s/x-y"
    spec = FeedSpec(kind, title if kind != "all" else "", folder, title, tuple(items), len(items))
    site = Site(title=title, base_url="http://127.0.0.1:8080/sub%20dir/", formats=SITE.formats)
    assert_same_feeds((spec,), site)
