"""Shared fixtures. Keep this file small: per-area fixtures live beside their tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the real seeds/ with pinned modification times."""
    target = tmp_path / "seeds"
    target.mkdir()
    for source in sorted(SEEDS.iterdir()):
        copy = target / source.name
        copy.write_bytes(source.read_bytes())
    return target
