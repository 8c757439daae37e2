"""The merged entries of the last build, light: of each entry only what planning and
digesting a build need (id, dates, terms, digests), kept in the store between builds.

A build after a few seed edits (merge/patch.py) takes the last build's items, replaces
those of the edited articles, and plans and digests without decoding the other 10,000
entries; only the feeds it renders get their entries in full. Seed entries come back from
the article cache; the others (upstream entries, and seed entries merged with upstream
copies) are kept here whole, as they were published.

The table holds the items of one `basis` (everything but the seed files a build depends
on: settings, code, stored upstream entries, sources). A build drops the basis before it
changes anything and records it again once its items are saved: a build cut short leaves
no items a later build could take for current.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from feeds.merge.store import Store
from feeds.model import Entry
from feeds.normalize import stored
from feeds.normalize.content import html_digest, xml_safe

if TYPE_CHECKING:
    from feeds.merge.seeds import SeedContents

# Columns in Item's order; terms joined by \x1f, which XML-safe text never holds (NULL: no
# terms at all). The whole entry (and an upstream entry's HTML) only for Item.whole.
TABLE = """CREATE TABLE IF NOT EXISTS build_items (
    id TEXT PRIMARY KEY, published INTEGER NOT NULL, updated INTEGER NOT NULL,
    stamp TEXT NOT NULL, tags TEXT, categories TEXT, shown TEXT NOT NULL, content TEXT,
    seed TEXT, merged INTEGER NOT NULL, entry TEXT, html TEXT)"""
META = "CREATE TABLE IF NOT EXISTS build_items_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
_COLUMNS = "id, published, updated, stamp, tags, categories, shown, content, seed, merged"
_SEPARATOR = "\x1f"
# The items this process saved last, by store: (the generation saved with them, the items).
# A later take() finding that generation in the table takes them without reading it.
_KEPT: dict[str, tuple[str, Mapping[str, Item]]] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Item(NamedTuple):
    """One merged entry as the planner and the digests see it (a tuple: a build makes
    one for each of tens of thousands of entries, and a frozen dataclass is slower)."""

    id: str
    published: int  # microseconds since 1970 (UTC): sorts as the datetimes do
    updated: int
    stamp: str  # `updated` in ISO 8601 with its offset: pages and feeds.opml show it
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    shown: str  # a digest of every field but the content
    content: str | None  # a digest of the content; None: a seed entry not rendered yet
    seed: str | None  # the article's name (seeds/), when the entry is a seed's
    merged: bool  # made of more than one copy of the article (merge/dedupe.py)

    @property
    def updated_at(self) -> datetime:
        return datetime.fromisoformat(self.stamp)

    @property
    def whole(self) -> bool:
        """Whether the store keeps the whole entry here (it is not a seed's as parsed)."""
        return self.seed is None or self.merged


def items_of(
    merged: Iterable[Entry], copies: Collection[str], seeds: SeedContents
) -> tuple[dict[str, Item], dict[str, Entry]]:
    """The items of merged entries (merge/dedupe.py merge_traced: `copies` are the ids of
    those made of several), and the entries by id, every one made XML-safe: the one point
    all renderers share (one control character from an upstream would make lxml refuse a
    whole feed). A seed's entry as the article cache holds it is safe and digested already."""
    items: dict[str, Item] = {}
    entries: dict[str, Entry] = {}
    for entry in merged:
        seed = seeds.seeds.get(entry.id)
        if seed is not None and seed.row.entry is entry:  # as cached: safe, digested
            safe, shown = entry, seed.row.entry_digest or shown_digest(entry)
        else:
            safe = xml_safe(entry)
            shown = shown_digest(safe)
        if seed is not None:  # the seed won its group: its HTML is the entry's
            item = item_of(safe, shown, seed.row.html_digest, seed.row.name, entry.id in copies)
        else:
            item = item_of(safe, shown, html_digest(safe.content_html), None, entry.id in copies)
        items[entry.id] = item
        entries[entry.id] = safe
    return items, entries


def shown_digest(entry: Entry) -> str:
    """A digest of every field of an entry but its content (Item.shown), for an entry the
    article cache has not digested."""
    fields = (
        entry.id,
        entry.title,
        entry.published.isoformat(),
        entry.updated.isoformat(),
        repr(entry.summary),
        repr(entry.link),
        repr(entry.categories),
        repr(entry.tags),
        repr(entry.language),
        repr(entry.thumbnail),
        repr(entry.source_name),
        entry.origin,
    )
    text = "\x00".join(fields).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def item_of(entry: Entry, shown: str, content: str | None, seed: str | None, merged: bool) -> Item:
    return Item(
        entry.id,
        micros(entry.published),
        micros(entry.updated),
        entry.updated.isoformat(),
        entry.tags,
        entry.categories,
        shown,
        content,
        seed,
        merged,
    )


@dataclass(frozen=True)
class Kept:
    """What the last build left: its items by id, and its counts."""

    items: Mapping[str, Item]  # whatever the table holds, current or not (never changed)
    current: bool  # whether they are the last build's, under the same basis
    upstream: int  # stored upstream entries it merged in
    same_ids: bool  # whether it rejected an article for another's id


class ItemTable:
    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as db:
            db.execute(META)
            row = db.execute("SELECT value FROM build_items_meta WHERE key = 'table'").fetchone()
            if row is None or row[0] != TABLE:  # never migrated: made again
                db.execute("DROP TABLE IF EXISTS build_items")
                db.execute("DELETE FROM build_items_meta")
                db.execute("INSERT INTO build_items_meta VALUES ('table', ?)", (TABLE,))
            db.execute(TABLE)

    def take(self, basis: str) -> Kept:
        """The items the table holds, current when the last build's basis was `basis`; the
        basis is dropped (see the top): `save` records the next one."""
        with self.store.transaction() as db:
            meta = dict(db.execute("SELECT key, value FROM build_items_meta").fetchall())
            db.execute("DELETE FROM build_items_meta WHERE key = 'basis'")
            current = meta.get("basis") == basis
            upstream = int(meta.get("upstream", "0"))
            same_ids = meta.get("same_ids") == "1"
            known = _KEPT.get(str(self.store.path))
            if known is not None and known[0] == meta.get("generation"):
                # Saved by this process (a daemon builds all day), and no other since.
                return Kept(known[1], current, upstream, same_ids)
            rows = db.execute(f"SELECT {_COLUMNS} FROM build_items").fetchall()  # noqa: S608
        make, split = Item._make, _SEPARATOR
        items = {
            row[0]: make((
                *row[:4],
                () if row[4] is None else tuple(row[4].split(split)),
                () if row[5] is None else tuple(row[5].split(split)),
                *row[6:9],
                row[9] != 0,
            ))
            for row in rows
        }  # fmt: skip
        return Kept(items, current, upstream, same_ids)

    def save(
        self,
        basis: str,
        items: Mapping[str, Item],
        before: Mapping[str, Item],
        entries: Mapping[str, Entry],
        zone: tzinfo,
        *,
        upstream: int,
        same_ids: bool,
    ) -> None:
        """Keep `items` (the table held `before`): only the differences are written.
        `entries`: the whole entries of the items that need them (Item.whole), unless only
        their content digest changed."""
        zone_key = getattr(zone, "key", None)
        gone = [(entry_id,) for entry_id in before if entry_id not in items]
        changed = [item for entry_id, item in items.items() if before.get(entry_id) != item]
        rows = []
        for item in changed:
            entry = entries.get(item.id) if item.whole else None
            text = stored.encode(entry, zone_key) if entry is not None else None
            html = entry.content_html if entry is not None and item.seed is None else None
            rows.append((*_row(item), text, html))
        generation = secrets.token_hex(8)
        meta = {
            "basis": basis,
            "upstream": str(upstream),
            "same_ids": str(int(same_ids)),
            "generation": generation,
        }
        with self.store.transaction() as db:
            db.executemany("DELETE FROM build_items WHERE id = ?", gone)
            # A whole item whose entry was not passed kept it: only its content digest
            # changed (a seed's HTML rendered for the first time).
            db.executemany(
                f"INSERT INTO build_items ({_COLUMNS}, entry, html) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "seed = excluded.seed, merged = excluded.merged, "
                "published = excluded.published, updated = excluded.updated, "
                "stamp = excluded.stamp, tags = excluded.tags, "
                "categories = excluded.categories, shown = excluded.shown, "
                "content = excluded.content, "
                "entry = CASE WHEN excluded.seed IS NOT NULL AND NOT excluded.merged THEN NULL "
                "ELSE coalesce(excluded.entry, entry) END, "
                "html = CASE WHEN excluded.seed IS NOT NULL THEN NULL "
                "ELSE coalesce(excluded.html, html) END",
                rows,
            )
            db.executemany("INSERT OR REPLACE INTO build_items_meta VALUES (?, ?)", meta.items())
        _KEPT.clear()  # one store's items kept, the last saved
        _KEPT[str(self.store.path)] = (generation, items)

    def entries(self, ids: Iterable[str], zone: tzinfo) -> dict[str, Entry]:
        """The whole entries kept for these items (a seed's merged entry without content)."""
        found: dict[str, Entry] = {}
        with self.store.guarded() as db:
            for entry_id in ids:
                row = db.execute(
                    "SELECT entry, html FROM build_items WHERE id = ?", (entry_id,)
                ).fetchone()
                if row is not None and row[0] is not None:
                    (entry,) = stored.decode([row[0]], zone)
                    found[entry_id] = _with_html(entry, row[1])
        return found


def _with_html(entry: Entry, html: str | None) -> Entry:
    return entry.with_content(html) if html else entry


def _row(item: Item) -> tuple[object, ...]:
    tags = _SEPARATOR.join(item.tags) if item.tags else None
    categories = _SEPARATOR.join(item.categories) if item.categories else None
    return (*item[:4], tags, categories, *item[6:9], int(item.merged))
