"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import json
from typing import Any

from feeds.model import Entry, FeedSpec
from feeds.render.site import Site, content_html


def render_json(spec: FeedSpec, site: Site) -> bytes:
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": site.page_url(spec),
        "feed_url": site.feed_url(spec, "json"),
        "description": site.description(spec),
        "authors": [{"name": site.title}],
    }
    languages = {entry.language for entry in spec.entries if entry.language}
    if len(languages) == 1:
        document["language"] = languages.pop()
    document["items"] = [_item(entry, site) for entry in spec.entries]
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()


def _item(entry: Entry, site: Site) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id}
    if entry.link:
        item["url"] = entry.link
    item["title"] = entry.title
    item["content_html"] = content_html(entry)
    if entry.summary:
        item["summary"] = entry.summary
    if entry.thumbnail:
        item["image"] = entry.thumbnail
    item["date_published"] = entry.published.isoformat()
    item["date_modified"] = entry.updated.isoformat()
    if entry.source_name:
        item["authors"] = [{"name": entry.source_name}]
    terms = list(dict.fromkeys(entry.categories + entry.tags))
    if terms:
        item["tags"] = terms
    if entry.language:
        item["language"] = entry.language
    return item
