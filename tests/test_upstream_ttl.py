"""ttl_seconds: what a feed's polling hints add up to, as a table of named cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.normalize.rawfeed import PollHints
from feeds.normalize.ttl import MAX_TTL, ttl_seconds

WEDNESDAY_NOON = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hints", "expected"),
    [
        pytest.param(PollHints(), None, id="nothing-said"),
        pytest.param(PollHints(ttl_minutes="60"), 3600, id="ttl-minutes"),
        pytest.param(PollHints(ttl_minutes="soon"), None, id="ttl-not-a-number"),
        pytest.param(PollHints(ttl_minutes="-5"), None, id="ttl-negative"),
        pytest.param(PollHints(update_period="daily"), 86400, id="sy-daily"),
        pytest.param(
            PollHints(update_period="Hourly", update_frequency="4"), 900, id="sy-4-an-hour"
        ),
        pytest.param(PollHints(update_period="yearly"), MAX_TTL, id="sy-yearly-capped"),
        pytest.param(PollHints(update_period="fortnightly"), None, id="sy-unknown-period"),
        pytest.param(PollHints(ttl_minutes="90", update_period="hourly"), 5400, id="largest-wins"),
        pytest.param(PollHints(skip_hours=(12, 13)), 7200, id="inside-skipped-hours"),
        pytest.param(PollHints(skip_hours=(3, 4)), None, id="outside-skipped-hours"),
        pytest.param(PollHints(skip_days=("Wednesday",)), 12 * 3600, id="skipped-day"),
        pytest.param(PollHints(skip_hours=tuple(range(24))), None, id="every-hour-skipped"),
        pytest.param(PollHints(skip_hours=tuple(range(12, 24))), 12 * 3600, id="skip-to-midnight"),
        pytest.param(
            PollHints(skip_hours=tuple(range(12, 24)), skip_days=("Thursday",)),
            MAX_TTL,
            id="skipped-hours-then-skipped-day-capped",
        ),
    ],
)
def test_ttl_seconds(hints: PollHints, expected: int | None) -> None:
    assert ttl_seconds(hints, WEDNESDAY_NOON) == expected


def test_skip_hours_are_read_in_utc() -> None:
    noon_utc_in_paris = datetime.fromisoformat("2025-06-04T14:30:00+02:00")
    assert ttl_seconds(PollHints(skip_hours=(12,)), noon_utc_in_paris) == 1800
