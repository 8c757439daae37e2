"""Fixtures for the aggregator's integration tests: a loopback upstream, a real store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.aggregate.server import Upstream, running


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with running(Upstream()) as server:
        yield server
