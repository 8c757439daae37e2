"""The versions read from *.dist-info folder names are importlib.metadata's."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from feeds import installed
from feeds.merge.article_cache import _LIBRARIES


@pytest.mark.parametrize("name", [*_LIBRARIES, "httpx", "click", "feeds", "typing_extensions"])
def test_versions_are_those_importlib_metadata_reads(name: str) -> None:
    assert installed.distributions()[installed.normalize(name)] == metadata.version(name)


def test_names_compare_as_pep_503_says() -> None:
    assert {installed.normalize(n) for n in ("PyYAML", "pyyaml", "py_yaml", "Py.YAML")} == {
        "pyyaml",
        "py-yaml",
    }
    assert installed.normalize("markdown_it__py") == installed.normalize("markdown-it-py")


def test_the_first_folder_on_the_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder, version in (("first", "2.0"), ("second", "1.0")):
        (tmp_path / folder / f"some_project-{version}.dist-info").mkdir(parents=True)
    monkeypatch.setattr("sys.path", [str(tmp_path / "first"), str(tmp_path / "second")])
    installed.distributions.cache_clear()
    try:
        assert installed.distributions() == {"some-project": "2.0"}
    finally:
        installed.distributions.cache_clear()
