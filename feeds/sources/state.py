"""What we remember about polling one upstream between runs: plain records, no I/O.

The store (feeds/merge/store.py) saves and loads them; the polling policy
(feeds/sources/policy.py) turns one state and one response into the next state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SourceState:
    """Fetch state of one source, keyed by its name."""

    name: str
    url: str  # the URL we poll: the configured one, or where it moved for good
    configured_url: str  # the URL in sources/*.toml this state belongs to
    etag: str | None = None
    last_modified: str | None = None
    last_success: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive
    next_poll: datetime | None = None
    redirect_target: str | None = None  # where the last polls were permanently redirected
    redirect_count: int = 0  # consecutive polls redirected to redirect_target
    disabled: bool = False  # the upstream answered 410 Gone
    retry_after: datetime | None = None
    hinted_interval: int | None = None  # seconds the upstream asked for (ttl, max-age)

    @classmethod
    def fresh(cls, name: str, url: str) -> SourceState:
        return cls(name=name, url=url, configured_url=url)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One row of `feeds sources` and of the health report."""

    name: str
    url: str
    last_success: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    failures: int
    entries: int
    next_poll: datetime | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class BuildStatus:
    at: datetime
    ok: bool
    summary: str
