"""Dates from front matter and feeds, always returned timezone-aware.

Naive values take the given zone; values with an offset keep it; a bare date is midnight.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo


def parse_date(value: object, zone: tzinfo) -> datetime:
    """Parse a YAML scalar or a text date; raise ValueError when it is not a date."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=zone)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    parsed = _iso(text) or _rfc822(text)
    if parsed is None:
        raise ValueError(f"not a date: {text!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def file_time(mtime_ns: int, zone: tzinfo) -> datetime:
    """A file's modification time in `zone`, in whole seconds (feeds show no fractions)."""
    return datetime.fromtimestamp(mtime_ns // 1_000_000_000, tz=zone)


def _iso(text: str) -> datetime | None:
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _rfc822(text: str) -> datetime | None:
    import email.utils  # local: 10 ms to load, and seeds' dates never need it

    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # parsedate_to_datetime marks "-0000" (zone unknown) as naive: that is what we want.
    return parsed
