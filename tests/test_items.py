"""Light items (merge/items.py): planned over, they give the feeds the entries give; kept
in the store, they come back as they were, for the basis they were kept under only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.merge.items import ItemTable, item_of
from feeds.merge.store import Store
from feeds.model import Entry
from feeds.normalize.content import xml_safe
from feeds.render.plan import plan_feeds, plan_items

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 2, 1, 8, 0, tzinfo=ZONE)
TERMS = ["AI", "ai", "Ａ I", "芯片", "M&A", "C++", " ", "", "x\x07", "Editor's Pick"]
ZONES = [ZONE, UTC, timezone(timedelta(hours=-5))]


def entry(
    number: int, hours: int, updated: int, zone: int, tags: list[str], cats: list[str]
) -> Entry:
    published = (START + timedelta(hours=hours)).astimezone(ZONES[zone])
    return Entry(
        id=f"tag:example.org,2025:{number:03}",
        title=f"Entry {number}",
        published=published,
        updated=published + timedelta(minutes=updated),
        tags=tuple(tags),
        categories=tuple(cats),
    )


entries = st.lists(
    st.builds(
        entry,
        st.integers(0, 999),
        st.integers(0, 5),  # few distinct dates: ties are broken by `updated`, then id
        st.integers(0, 3),
        st.integers(0, 2),  # equal instants in other zones
        st.lists(st.sampled_from(TERMS), max_size=4),
        st.lists(st.sampled_from(TERMS), max_size=2),
    ),
    max_size=30,
    unique_by=lambda e: e.id,
)


@settings(max_examples=200, deadline=None)
@given(entries, st.integers(1, 6))
def test_items_plan_the_feeds_entries_plan(given_entries: list[Entry], limit: int) -> None:
    safe = [xml_safe(e) for e in given_entries]
    by_entries = plan_feeds(safe, "Site", limit)
    by_items = plan_items([item_of(e, e.title, None, None, False) for e in safe], "Site", limit)
    assert by_items.slugs == by_entries.slugs
    assert len(by_items.feeds) == len(by_entries.feeds)
    for planned, spec in zip(by_items.feeds, by_entries.feeds, strict=True):
        fields = (spec.kind, spec.term, spec.folder, spec.title, spec.total)
        shown = planned.spec
        assert (shown.kind, shown.term, shown.folder, shown.title, shown.total) == fields
        assert shown.entries == ()
        assert [item.id for item in planned.items] == [e.id for e in spec.entries]
        # The newest `updated` a page shows: the same instant and the same offset.
        assert (planned.spec.newest is None) == (spec.newest is None)
        if spec.newest is not None:
            assert planned.spec.newest.isoformat() == spec.newest.isoformat()  # type: ignore[union-attr]


def test_items_come_back_as_kept_for_their_basis_only(tmp_path: Path) -> None:
    upstream = Entry(
        id="urn:feeds:loop:1",
        title="Upstream",
        published=START,
        updated=START,
        content_html="<p>up</p>",
        tags=("AI", "M&A", "芯片"),
        origin="upstream:loop",
    )
    seed = entry(2, 1, 0, 1, ["Editor's Pick"], [])
    items = {
        upstream.id: item_of(upstream, "s1", "c1", None, False),
        seed.id: item_of(seed, "s2", None, "002.md", False),
    }
    with Store.open(tmp_path / "state.db") as store:
        table = ItemTable(store)
        table.save("basis-1", items, {}, {upstream.id: upstream}, ZONE, upstream=1, same_ids=False)
        kept = ItemTable(store).take("basis-1")
        assert kept.current and kept.upstream == 1 and not kept.same_ids
        assert kept.items == items
        assert ItemTable(store).take("basis-1").current is False  # taking drops the basis
        assert table.entries([upstream.id, seed.id], ZONE) == {upstream.id: upstream}
        # Only the differences are written; an item that is gone is gone.
        fewer = {seed.id: items[seed.id]._replace(content="c2")}
        table.save("basis-2", fewer, kept.items, {}, ZONE, upstream=0, same_ids=True)
        again = ItemTable(store).take("basis-2")
        assert again.current and again.same_ids and again.items == fewer
        assert not ItemTable(store).take("basis-1").current


def test_a_table_of_another_shape_is_made_again(tmp_path: Path) -> None:
    """Items are never migrated: a store written by an earlier shape of the table (another
    column order, say) gets a new, empty table and goes the whole way once."""
    with Store.open(tmp_path / "state.db") as store:
        with store.transaction() as db:
            db.execute("CREATE TABLE build_items (id TEXT PRIMARY KEY, tags TEXT)")
            db.execute("INSERT INTO build_items VALUES ('x', '[\"AI\"]')")
            db.execute("CREATE TABLE build_items_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT INTO build_items_meta VALUES ('basis', 'b')")
        kept = ItemTable(store).take("b")
        assert not kept.current and kept.items == {}
