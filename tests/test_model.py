"""The Entry record itself."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

from feeds.model import Entry


def test_with_content_is_replace_of_the_content_only() -> None:
    # Every field set to something other than its default, so that a field with_content
    # forgot (or passed in the wrong place) shows.
    entry = Entry(
        id="tag:x,2024:1",
        title="Title",
        published=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        updated=datetime(2024, 1, 3, tzinfo=timezone(timedelta(hours=8))),
        content_html="<p>old</p>",
        summary="Summary",
        link="https://example.com/a",
        categories=("c",),
        tags=("t", "u"),
        language="zh-CN",
        thumbnail="https://example.com/t.png",
        source_name="Source",
        origin="seed:a.md",
    )
    assert all(getattr(entry, field.name) != field.default for field in fields(Entry))
    assert entry.with_content("<p>new</p>") == replace(entry, content_html="<p>new</p>")
