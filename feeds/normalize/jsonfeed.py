"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read.

Fallbacks, written down:
- `version` missing or unknown, but `items` present: read as 1.1, with a warning;
- an item that is not an object: skipped, with a warning;
- `id` a number (some 1.0 feeds): its text;
- `content_text` only: plain text (the adapter makes paragraphs of it);
- `summary` is plain text by the spec; `tags` that are not strings are ignored;
- 1.1 `language` on the item, else on the feed; `image`, else `banner_image`, is the thumbnail.
"""

from __future__ import annotations

import json
from typing import Any

from feeds.errors import ParseError
from feeds.normalize.rawfeed import RawFeed, RawItem, Text

_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")


def read_json(text: str, url: str) -> RawFeed:
    """Parse decoded JSON Feed text; raise ParseError(url, ...) when it is not one."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            url, f"not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ParseError(url, "not a JSON Feed: nested too deeply") from None
    if not isinstance(document, dict):
        raise ParseError(url, "not a JSON Feed: the top level is not an object")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError(url, "not a JSON Feed: no `items` list")
    warnings = []
    version = document.get("version")
    if version not in _VERSIONS:
        warnings.append(f"unknown JSON Feed version {version!r}; read as 1.1")
    read = []
    for number, item in enumerate(items, 1):
        if isinstance(item, dict):
            read.append(_item(item))
        else:
            warnings.append(f"item #{number} is not an object; skipped")
    return RawFeed(
        items=tuple(read), language=_str(document.get("language")), warnings=tuple(warnings)
    )


def _item(item: dict[str, Any]) -> RawItem:
    identifier = item.get("id")
    if isinstance(identifier, int | float) and not isinstance(identifier, bool):
        identifier = str(identifier)
    return RawItem(
        guid=_str(identifier),
        link=_str(item.get("url")) or _str(item.get("external_url")),
        title=_plain(item.get("title")),
        content=_content(item),
        summary=_plain(item.get("summary")),
        published=_str(item.get("date_published")),
        updated=_str(item.get("date_modified")),
        terms=_tags(item.get("tags")),
        language=_str(item.get("language")),
        thumbnail=_str(item.get("image")) or _str(item.get("banner_image")),
    )


def _content(item: dict[str, Any]) -> Text | None:
    markup = _str(item.get("content_html"))
    if markup:
        return Text(markup, html=True)
    plain = _str(item.get("content_text"))
    return Text(plain, html=False) if plain else None


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(tag.strip() for tag in value if isinstance(tag, str) and tag.strip())


def _plain(value: Any) -> Text | None:
    text = _str(value)
    return Text(text, html=False) if text else None


def _str(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip() or None
