"""Accept and Accept-Encoding decisions, as a table of named cases."""

from __future__ import annotations

import pytest

from feeds.publish.negotiate import accepts_gzip, prefers_html


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("gzip", True, id="plain"),
        pytest.param("gzip, deflate, br, zstd", True, id="httpx-default"),
        pytest.param("GZIP;Q=0.5", True, id="case-insensitive"),
        pytest.param("gzip;q=0", False, id="refused"),
        pytest.param("gzip;q=0, *", False, id="refused-beats-star"),
        pytest.param("*", True, id="star"),
        pytest.param("*;q=0", False, id="star-refused"),
        pytest.param("br, identity", False, id="not-offered"),
        pytest.param("", False, id="empty"),
        pytest.param("gzip;q=high", False, id="bad-q-is-zero"),
        pytest.param("x-gzip", True, id="legacy-name"),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True, id="chromium"
        ),
        pytest.param("text/html;q=0.9, application/atom+xml", False, id="reader-prefers-atom"),
        pytest.param("application/rss+xml, text/html;q=0.1", False, id="reader-prefers-rss"),
        pytest.param("*/*", False, id="curl"),
        pytest.param("", False, id="none"),
        pytest.param("text/html;q=0", False, id="html-refused"),
    ],
)
def test_prefers_html(header: str, expected: bool) -> None:
    assert prefers_html(header) is expected
