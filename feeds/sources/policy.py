"""Polling politely, as pure decisions: one state and one response in, the next state out.

No I/O and no clock here: `now` and the jitter are parameters, so every rule is a row in a
table of named cases (tests/test_policy.py), the way miniflux tests its response handler.

- 304, or a 200 carrying the validators we sent (servers that ignore conditional requests
  but keep their ETag), costs no parsing.
- 301/308 on every hop, to the same target on 3 polls in a row: the source has moved; we
  poll the new URL from then on and say so.
- 410 Gone disables the source until it is polled by name.
- 429/503 wait for Retry-After (seconds or an HTTP date), at least the backoff, at most a day.
- Other failures back off exponentially from the interval, with jitter, capped at 24 h.
- ttl / sy:updatePeriod / skipHours hints and Cache-Control max-age lengthen the interval,
  never shorten it; a hint is capped at a day so a hostile feed cannot silence itself.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from feeds.sources.state import SourceState

MAX_DELAY = 24 * 3600
MOVE_AFTER = 3  # consecutive polls permanently redirected to the same target
PERMANENT = frozenset({301, 308})


class Outcome(StrEnum):
    PARSE = "parse"
    NOT_MODIFIED = "not modified"
    GONE = "gone"
    THROTTLED = "throttled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Reply:
    """What policy needs from one HTTP exchange (redirects already followed)."""

    status: int
    url: str  # the final URL
    headers: Mapping[str, str]  # lower-case names
    hops: Sequence[int] = ()  # status of each redirect followed, in order


def conditional_headers(state: SourceState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def classify(reply: Reply, state: SourceState) -> Outcome:
    if reply.status == 304:
        return Outcome.NOT_MODIFIED
    if 200 <= reply.status < 300:
        etag, modified = reply.headers.get("etag"), reply.headers.get("last-modified")
        if (etag and etag == state.etag) or (modified and modified == state.last_modified):
            return Outcome.NOT_MODIFIED
        return Outcome.PARSE
    if reply.status == 410:
        return Outcome.GONE
    if reply.status in (429, 503):
        return Outcome.THROTTLED
    return Outcome.FAILED


def describe(status: int) -> str:
    """The problem text for a status that is not a feed."""
    if status in (401, 403):
        return f"access denied (HTTP {status})"
    if status == 404:
        return "not found (HTTP 404)"
    if status == 410:
        return "gone (HTTP 410): source disabled; remove it, or poll it by name to retry"
    if status in (429, 503):
        return f"throttled (HTTP {status})"
    if 300 <= status < 400:
        return f"redirect without a usable Location (HTTP {status})"
    if status >= 500:
        return f"server error (HTTP {status})"
    return f"unexpected HTTP status {status}"


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return now + timedelta(seconds=min(int(text), MAX_DELAY))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return min(max(when, now), now + timedelta(seconds=MAX_DELAY))


def max_age(headers: Mapping[str, str]) -> int | None:
    """Cache-Control max-age in seconds (s-maxage is for shared caches: ignored)."""
    control = headers.get("cache-control", "").lower()
    if "no-store" in control or "no-cache" in control:
        return None
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", control)
    return int(match.group(1)) if match else None


def interval(configured: int, *hints: int | None) -> int:
    """The configured interval, lengthened (never shortened) by hints capped at a day."""
    longest = max((min(hint, MAX_DELAY) for hint in hints if hint), default=0)
    return max(configured, longest)


def backoff(failures: int, every: int, jitter: float) -> int:
    """Seconds to wait after `failures` consecutive failures; jitter in [0, 1).

    interval * 2^(failures-1), capped at 24 h, then shortened by up to a fifth so sources
    that failed together do not retry together; never shorter than the interval itself.
    """
    exponent = min(max(failures - 1, 0), 32)
    delay = min(every << exponent, MAX_DELAY)
    return max(min(every, MAX_DELAY), round(delay * (1 - 0.2 * jitter)))


def after_success(
    state: SourceState,
    reply: Reply,
    now: datetime,
    configured: int,
    ttl: int | None = None,
    *,
    parsed: bool = True,
) -> SourceState:
    """The feed was read (or, parsed=False, was unchanged): validators kept, failures reset.

    An unchanged feed keeps the hint its last parse gave (its ttl is not re-read).
    """
    feed_hint = ttl if parsed else state.hinted_interval
    hinted = interval(0, feed_hint, max_age(reply.headers)) or None
    every = interval(configured, hinted)
    return replace(
        state,
        etag=reply.headers.get("etag") or state.etag,
        last_modified=reply.headers.get("last-modified") or state.last_modified,
        last_success=now,
        failures=0,
        next_poll=now + timedelta(seconds=every),
        disabled=False,
        retry_after=None,
        hinted_interval=hinted,
    )


def after_failure(
    state: SourceState,
    now: datetime,
    configured: int,
    problem: str,
    jitter: float,
    reply: Reply | None = None,
) -> SourceState:
    failures = state.failures + 1
    wait = now + timedelta(seconds=backoff(failures, configured, jitter))
    asked = None
    if reply is not None and reply.status in (429, 503):
        asked = retry_after(reply.headers.get("retry-after"), now)
    return replace(
        state,
        last_error_at=now,
        last_error=problem,
        failures=failures,
        next_poll=max(wait, asked) if asked else wait,
        retry_after=asked,
    )


def after_gone(state: SourceState, now: datetime, problem: str) -> SourceState:
    return replace(
        state,
        last_error_at=now,
        last_error=problem,
        failures=state.failures + 1,
        next_poll=None,
        disabled=True,
    )


def track_redirects(state: SourceState, reply: Reply) -> tuple[SourceState, str | None]:
    """Count polls permanently redirected to one target; move there on the third.

    Returns the new state and, when the source moved, the URL it moved to. Only a
    successful final answer counts: we never move a source onto a broken URL.
    """
    permanent = (
        bool(reply.hops)
        and all(status in PERMANENT for status in reply.hops)
        and (200 <= reply.status < 300 or reply.status == 304)
        and reply.url != state.url
    )
    if not permanent:
        return replace(state, redirect_target=None, redirect_count=0), None
    count = state.redirect_count + 1 if state.redirect_target == reply.url else 1
    if count >= MOVE_AFTER:
        moved = replace(state, url=reply.url, redirect_target=None, redirect_count=0)
        return moved, reply.url
    return replace(state, redirect_target=reply.url, redirect_count=count), None


def is_due(state: SourceState | None, now: datetime) -> bool:
    if state is None:
        return True
    if state.disabled:
        return False
    return state.next_poll is None or state.next_poll <= now
