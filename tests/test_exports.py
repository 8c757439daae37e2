"""`feeds/__init__.py` declares the public surface once: one sorted, complete `__all__`."""

from __future__ import annotations

import inspect

import feeds
import feeds.errors
from feeds.errors import FeedsError


def isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then functions and dunders."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def test_all_is_sorted_and_every_name_exists() -> None:
    assert feeds.__all__ == sorted(feeds.__all__, key=isort_style)
    assert len(set(feeds.__all__)) == len(feeds.__all__)
    for name in feeds.__all__:
        assert hasattr(feeds, name), name


def test_every_public_name_of_the_package_is_in_all() -> None:
    public = {
        name
        for name, value in vars(feeds).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public <= set(feeds.__all__)


def test_every_error_of_the_tree_is_exported() -> None:
    errors = {
        name
        for name, value in vars(feeds.errors).items()
        if inspect.isclass(value) and issubclass(value, FeedsError)
    }
    assert errors <= set(feeds.__all__)


def test_the_documented_entry_points_work_together() -> None:
    settings = feeds.defaults()
    assert isinstance(settings, feeds.Settings)
    assert {setting.name for setting in feeds.SETTINGS} >= {"title", "base_url", "limit"}
    assert inspect.signature(feeds.build).parameters["settings"]
    assert feeds.__version__.count(".") == 2
