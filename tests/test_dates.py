"""Dates from front matter: a table of named cases, each returning an aware datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feeds.normalize.dates import file_time, parse_date

ZONE = ZoneInfo("Asia/Shanghai")
PLUS_8 = "2025-02-10T19:51:01+08:00"

CASES = {
    "text_naive_takes_the_zone": ("2025-02-10 19:51:01", PLUS_8),
    "text_iso_t_naive_takes_the_zone": ("2025-02-10T19:51:01", PLUS_8),
    "text_with_offset_keeps_it": ("2025-02-10T19:51:01-05:00", "2025-02-10T19:51:01-05:00"),
    "text_z_is_utc": ("2025-02-10T11:51:01Z", "2025-02-10T11:51:01+00:00"),
    "text_fraction_is_kept": ("2025-02-10T19:51:01.5+08:00", "2025-02-10T19:51:01.500000+08:00"),
    "text_date_only_is_midnight": ("2025-02-10", "2025-02-10T00:00:00+08:00"),
    "text_padded_with_spaces": ("  2025-02-10 19:51:01 ", PLUS_8),
    "rfc822_with_offset": ("Mon, 10 Feb 2025 19:51:01 +0800", PLUS_8),
    "rfc822_gmt": ("Mon, 10 Feb 2025 11:51:01 GMT", "2025-02-10T11:51:01+00:00"),
    "rfc822_unknown_zone_takes_the_zone": ("Mon, 10 Feb 2025 19:51:01 -0000", PLUS_8),
    "yaml_naive_datetime_takes_the_zone": (datetime(2025, 2, 10, 19, 51, 1), PLUS_8),
    "yaml_aware_datetime_kept": (
        datetime(2025, 2, 10, 19, 51, 1, tzinfo=timezone(timedelta(hours=2))),
        "2025-02-10T19:51:01+02:00",
    ),
    "yaml_date_is_midnight": (date(2025, 2, 10), "2025-02-10T00:00:00+08:00"),
}

NOT_DATES = {
    "words": "next Tuesday",
    "empty": "",
    "blank": "   ",
    "number": 20250210,
    "boolean": True,
    "none": None,
    "list": ["2025-02-10"],
    "month_thirteen": "2025-13-01",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_date(name: str) -> None:
    raw, expected = CASES[name]
    parsed = parse_date(raw, ZONE)
    assert parsed.isoformat() == expected
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("name", sorted(NOT_DATES))
def test_not_a_date_raises_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(NOT_DATES[name], ZONE)


def test_naive_dates_follow_the_zone_they_are_given() -> None:
    assert parse_date("2025-07-01 12:00", ZoneInfo("Europe/Paris")).isoformat() == (
        "2025-07-01T12:00:00+02:00"
    )


def test_file_time_is_whole_seconds_in_the_zone() -> None:
    stamp = datetime(2025, 2, 14, 0, 0, 5, tzinfo=UTC).timestamp()
    moment = file_time(int(stamp * 1_000_000_000) + 999_999_999, ZONE)
    assert moment.isoformat() == "2025-02-14T08:00:05+08:00"
