"""Listing seeds/ (sources/local.py): which files are articles, named and stamped how."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.sources.local import list_articles


def test_articles_are_listed_recursively_sorted_and_stamped(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    files = {
        "b.md": "b",
        "a.TXT": "aa",
        "notes.markdown": "no",
        "x.md.": "no",
        "md": "no",
        ".hidden.md": "no",
        "sub/c.md": "ccc",
        "sub/deeper/d.Md": "dddd",
        ".drafts/e.md": "no",
        "sub/.f.txt": "no",
    }
    for name, text in files.items():
        path = seeds / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "g.md").write_text("g")
    (seeds / "linked").symlink_to(outside, target_is_directory=True)  # not descended
    (seeds / "h.md").symlink_to(outside / "g.md")  # a symlinked file counts
    (seeds / "folder.md").mkdir()  # a folder named like an article is a folder

    listed = list_articles(seeds)

    names = ["a.TXT", "b.md", "h.md", "sub/c.md", "sub/deeper/d.Md"]
    assert [article.name for article in listed] == names
    for article in listed:
        stat = os.stat(seeds / article.name)
        assert (article.size, article.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        assert Path(article.location) == seeds / article.name


def test_a_missing_seeds_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        list_articles(tmp_path / "nowhere")
