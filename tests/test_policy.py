"""Polling policy as tables of named cases: pure functions, no network, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feeds.sources.policy import (
    MAX_DELAY,
    Outcome,
    Reply,
    after_failure,
    after_gone,
    after_success,
    backoff,
    classify,
    conditional_headers,
    interval,
    is_due,
    max_age,
    retry_after,
    track_redirects,
)
from feeds.sources.state import SourceState

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STATE = SourceState.fresh("a", "https://a.example/feed")
CACHED = replace(STATE, etag='"abc"', last_modified="Wed, 21 Oct 2015 07:28:00 GMT")

CLASSIFY = {
    "304 not modified": (Reply(304, STATE.url, {}), CACHED, Outcome.NOT_MODIFIED),
    "200 new body": (Reply(200, STATE.url, {"etag": '"new"'}), CACHED, Outcome.PARSE),
    "200 first poll": (Reply(200, STATE.url, {"etag": '"abc"'}), STATE, Outcome.PARSE),
    "200 same etag (server ignores If-None-Match)": (
        Reply(200, STATE.url, {"etag": '"abc"'}),
        CACHED,
        Outcome.NOT_MODIFIED,
    ),
    "200 same last-modified": (
        Reply(200, STATE.url, {"last-modified": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        CACHED,
        Outcome.NOT_MODIFIED,
    ),
    "203 is a body": (Reply(203, STATE.url, {}), STATE, Outcome.PARSE),
    "410 gone": (Reply(410, STATE.url, {}), STATE, Outcome.GONE),
    "429 too many requests": (Reply(429, STATE.url, {}), STATE, Outcome.THROTTLED),
    "503 unavailable": (Reply(503, STATE.url, {}), STATE, Outcome.THROTTLED),
    "404 not found": (Reply(404, STATE.url, {}), STATE, Outcome.FAILED),
    "403 forbidden": (Reply(403, STATE.url, {}), STATE, Outcome.FAILED),
    "500 server error": (Reply(500, STATE.url, {}), STATE, Outcome.FAILED),
    "302 left over (no Location)": (Reply(302, STATE.url, {}), STATE, Outcome.FAILED),
}


@pytest.mark.parametrize(("reply", "state", "expected"), CLASSIFY.values(), ids=CLASSIFY.keys())
def test_classify(reply: Reply, state: SourceState, expected: Outcome) -> None:
    assert classify(reply, state) is expected


def test_conditional_headers_send_back_what_was_stored() -> None:
    assert conditional_headers(STATE) == {}
    assert conditional_headers(CACHED) == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
    }


RETRY_AFTER = {
    "absent": (None, None),
    "blank": ("  ", None),
    "seconds": ("120", NOW + timedelta(seconds=120)),
    "zero seconds": ("0", NOW),
    "http date": ("Sun, 01 Jun 2025 13:00:00 GMT", NOW + timedelta(hours=1)),
    "date in the past is now": ("Sun, 01 Jun 2025 11:00:00 GMT", NOW),
    "huge seconds capped at a day": ("99999999", NOW + timedelta(seconds=MAX_DELAY)),
    "far date capped at a day": ("Fri, 01 Jan 2100 00:00:00 GMT", NOW + timedelta(days=1)),
    "garbage": ("soon", None),
    "negative": ("-5", None),
}


@pytest.mark.parametrize(("value", "expected"), RETRY_AFTER.values(), ids=RETRY_AFTER.keys())
def test_retry_after(value: str | None, expected: datetime | None) -> None:
    assert retry_after(value, NOW) == expected


MAX_AGE = {
    "none": ({}, None),
    "max-age": ({"cache-control": "public, max-age=3600"}, 3600),
    "quoted": ({"cache-control": 'max-age="60"'}, 60),
    "s-maxage ignored": ({"cache-control": "s-maxage=600"}, None),
    "no-cache wins": ({"cache-control": "no-cache, max-age=600"}, None),
    "no-store wins": ({"cache-control": "max-age=600, no-store"}, None),
}


@pytest.mark.parametrize(("headers", "expected"), MAX_AGE.values(), ids=MAX_AGE.keys())
def test_max_age(headers: dict[str, str], expected: int | None) -> None:
    assert max_age(headers) == expected


INTERVAL = {
    "no hints": (1800, (), 1800),
    "shorter hint ignored": (1800, (60, None), 1800),
    "longer ttl lengthens": (1800, (3600,), 3600),
    "longest hint wins": (600, (1200, 7200), 7200),
    "hostile hint capped at a day": (600, (10**9,), MAX_DELAY),
    "configured beyond a day kept": (2 * MAX_DELAY, (60,), 2 * MAX_DELAY),
}


@pytest.mark.parametrize(
    ("configured", "hints", "expected"), INTERVAL.values(), ids=INTERVAL.keys()
)
def test_interval_is_only_ever_lengthened(
    configured: int, hints: tuple[int | None, ...], expected: int
) -> None:
    assert interval(configured, *hints) == expected


BACKOFF = {
    "first failure: the interval": (1, 600, 0.0, 600),
    "second doubles": (2, 600, 0.0, 1200),
    "fifth": (5, 600, 0.0, 9600),
    "capped at a day": (20, 600, 0.0, MAX_DELAY),
    "huge failure count still capped": (10**6, 600, 0.0, MAX_DELAY),
    "jitter shortens by up to a fifth": (3, 600, 0.5, 2160),
    "jitter never below the interval": (1, 600, 0.99, 600),
    "jitter on the cap": (30, 600, 0.999, round(MAX_DELAY * (1 - 0.2 * 0.999))),
}


@pytest.mark.parametrize(
    ("failures", "every", "jitter", "expected"), BACKOFF.values(), ids=BACKOFF.keys()
)
def test_backoff(failures: int, every: int, jitter: float, expected: int) -> None:
    assert backoff(failures, every, jitter) == expected


def test_success_keeps_validators_and_resets_failures() -> None:
    failing = replace(CACHED, failures=4, retry_after=NOW, last_error="x")
    reply = Reply(200, STATE.url, {"etag": '"v2"', "cache-control": "max-age=7200"})
    after = after_success(failing, reply, NOW, 1800, ttl=60)
    assert (after.etag, after.last_modified) == ('"v2"', CACHED.last_modified)
    assert (after.failures, after.retry_after, after.last_success) == (0, None, NOW)
    assert after.next_poll == NOW + timedelta(seconds=7200)
    assert after.last_error == "x", "the last error stays visible as history"


def test_unchanged_feed_keeps_its_last_ttl_hint() -> None:
    hinted = replace(CACHED, hinted_interval=5400)
    after = after_success(hinted, Reply(304, STATE.url, {}), NOW, 1800, parsed=False)
    assert after.next_poll == NOW + timedelta(seconds=5400)
    reparsed = after_success(hinted, Reply(200, STATE.url, {}), NOW, 1800, ttl=None)
    assert reparsed.next_poll == NOW + timedelta(seconds=1800)


FAILURES = {
    "third failure waits four intervals": (Reply(500, STATE.url, {}), 2, NOW + timedelta(hours=2)),
    "network failure (no reply)": (None, 2, NOW + timedelta(hours=2)),
    "429 with a longer Retry-After waits for it": (
        Reply(429, STATE.url, {"retry-after": "10000"}),
        0,
        NOW + timedelta(seconds=10000),
    ),
    "503 with a shorter Retry-After still backs off": (
        Reply(503, STATE.url, {"retry-after": "5"}),
        0,
        NOW + timedelta(seconds=1800),
    ),
    "Retry-After on a 500 is not ours to honour": (
        Reply(500, STATE.url, {"retry-after": "10000"}),
        0,
        NOW + timedelta(seconds=1800),
    ),
}


@pytest.mark.parametrize(("reply", "before", "next_poll"), FAILURES.values(), ids=FAILURES.keys())
def test_failure(reply: Reply | None, before: int, next_poll: datetime) -> None:
    after = after_failure(replace(STATE, failures=before), NOW, 1800, "boom", 0.0, reply)
    assert (after.failures, after.last_error, after.last_error_at) == (before + 1, "boom", NOW)
    assert after.next_poll == next_poll


def test_gone_disables_until_polled_by_name() -> None:
    gone = after_gone(STATE, NOW, "gone (HTTP 410)")
    assert gone.disabled and gone.next_poll is None
    assert not is_due(gone, NOW + timedelta(days=365))
    assert not after_success(gone, Reply(200, STATE.url, {}), NOW, 1800).disabled


def test_due() -> None:
    assert is_due(None, NOW)
    assert is_due(STATE, NOW)
    assert is_due(replace(STATE, next_poll=NOW), NOW)
    assert not is_due(replace(STATE, next_poll=NOW + timedelta(seconds=1)), NOW)


NEW = "https://b.example/feed"
REDIRECTS = {
    "no redirect resets": ([Reply(200, STATE.url, {})], 0, None),
    "one 301": ([Reply(200, NEW, {}, (301,))], 1, None),
    "308 twice": ([Reply(200, NEW, {}, (308,))] * 2, 2, None),
    "three in a row move": ([Reply(200, NEW, {}, (301,))] * 3, 0, NEW),
    "304 after redirect counts": ([Reply(304, NEW, {}, (301,))] * 3, 0, NEW),
    "chain of permanent hops": ([Reply(200, NEW, {}, (301, 308))] * 3, 0, NEW),
    "a 302 in the chain is not permanent": ([Reply(200, NEW, {}, (301, 302))] * 3, 0, None),
    "interrupted by a direct answer": (
        [Reply(200, NEW, {}, (301,)), Reply(200, STATE.url, {}), Reply(200, NEW, {}, (301,))],
        1,
        None,
    ),
    "changing target restarts the count": (
        [Reply(200, NEW, {}, (301,)), Reply(200, NEW + "2", {}, (301,))],
        1,
        None,
    ),
    "never onto a broken URL": ([Reply(404, NEW, {}, (301,))] * 3, 0, None),
}


@pytest.mark.parametrize(("replies", "count", "moved"), REDIRECTS.values(), ids=REDIRECTS.keys())
def test_permanent_redirects(replies: list[Reply], count: int, moved: str | None) -> None:
    state, last = STATE, None
    for reply in replies:
        state, last = track_redirects(state, reply)
    assert state.redirect_count == count
    assert last == moved
    assert state.url == (moved or STATE.url)
    assert state.configured_url == STATE.url
