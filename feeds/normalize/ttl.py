"""How long a feed asks us to wait before polling again, from what it declares.

- RSS 2.0 <ttl>: minutes to cache the channel;
- sy:updatePeriod / sy:updateFrequency (RSS 1.0 syndication module): the period divided by
  the number of updates in it (frequency 1 when absent);
- skipHours (0-23, GMT by the RSS spec) / skipDays (Monday..Sunday): when we are inside a
  skipped hour or day, the time until the first hour that is not skipped.
The largest of these wins, capped at a day: the caller only ever lengthens its configured
interval with it, and a feed declaring "yearly" must not go unpolled for a year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feeds.normalize.rawfeed import PollHints

MAX_TTL = 24 * 3600
_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
            "yearly": 365 * 86400}  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def ttl_seconds(hints: PollHints, seen_at: datetime) -> int | None:
    """Seconds the feed asks us to wait (at most MAX_TTL), or None when it says nothing."""
    found = [
        value
        for value in (_ttl(hints), _syndication(hints), _skipped(hints, seen_at))
        if value is not None and value > 0
    ]
    return min(max(found), MAX_TTL) if found else None


def _ttl(hints: PollHints) -> int | None:
    minutes = _integer(hints.ttl_minutes)
    return minutes * 60 if minutes is not None else None


def _syndication(hints: PollHints) -> int | None:
    period = _PERIODS.get((hints.update_period or "").strip().lower())
    if period is None:
        return None
    frequency = _integer(hints.update_frequency) or 1
    return period // max(frequency, 1)


def _skipped(hints: PollHints, seen_at: datetime) -> int | None:
    hours = {hour for hour in hints.skip_hours if 0 <= hour <= 23}
    days = {day for day in hints.skip_days if day in _DAYS}
    if len(hours) == 24 or len(days) == 7:
        return None  # "never poll" is not a hint we can honour
    now = seen_at.astimezone(UTC)
    slot = now.replace(minute=0, second=0, microsecond=0)
    for _ in range(8 * 24):
        if slot.hour not in hours and _DAYS[slot.weekday()] not in days:
            break
        slot += timedelta(hours=1)
    wait = (slot - now).total_seconds()
    return int(wait) if wait > 0 else None


def _integer(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None
