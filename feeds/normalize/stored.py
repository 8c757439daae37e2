"""An entry without its content as the article cache stores it: one JSON list, and back.

Parse workers encode the entries they make (normalize/batch.py), so a cold build does not
encode 10,000 entries one after the other in the parent; merge/article_cache.py decodes.
A date in the site's zone is marked so and comes back in that zone (not as a bare offset),
so a decoded entry equals the one parsed from the file.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, tzinfo
from typing import Any

from feeds.model import Entry


def encode(entry: Entry, zone_key: str | None) -> str:
    """`zone_key`: the site's time zone name (dates in it are marked)."""
    return json.dumps(
        [
            entry.id,
            entry.title,
            *_moment(entry.published, zone_key),
            *_moment(entry.updated, zone_key),
            entry.summary,
            entry.link,
            entry.categories,
            entry.tags,
            entry.language,
            entry.thumbnail,
            entry.source_name,
            entry.origin,
        ],
        ensure_ascii=False,
    )


def decode(texts: list[str], zone: tzinfo) -> list[Entry]:
    """The entries of these texts (one json.loads for all), in order."""
    decoded = json.loads("[" + ",".join(texts) + "]")
    return [_entry(fields, zone) for fields in decoded]


def digest(text: str) -> str:
    """A digest of an encoded entry: it changes when any field but the content does."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _moment(moment: datetime, zone_key: str | None) -> tuple[str, bool]:
    return moment.isoformat(), getattr(moment.tzinfo, "key", None) == zone_key


def _entry(fields: list[Any], zone: tzinfo) -> Entry:
    (id_, title, published, in_zone, updated, updated_in_zone, *rest) = fields
    summary, link, categories, tags, language, thumbnail, source_name, origin = rest
    return Entry(
        id_,
        title,
        _datetime(published, in_zone, zone),
        _datetime(updated, updated_in_zone, zone),
        "",
        summary,
        link,
        tuple(categories),
        tuple(tags),
        language,
        thumbnail,
        source_name,
        origin,
    )


def _datetime(text: str, in_zone: bool, zone: tzinfo) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.astimezone(zone) if in_zone else moment
