"""`feeds build` end to end: the real CLI in a subprocess on a pinned copy of the seeds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden import GOLDEN, read_tree, run_feeds, write_project

pytestmark = pytest.mark.slow


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write_project(tmp_path)
    return tmp_path


def mtimes(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_mtime_ns
        for path in folder.rglob("*")
        if path.is_file()
    }


def summary(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def test_build_writes_the_golden_tree_and_exits_0(work: Path) -> None:
    result = run_feeds(work, "build")
    assert result.returncode == 0, result.stderr
    assert summary(result.stderr).startswith("articles: 5 read, 0 rejected; feeds: 30 written")
    assert read_tree(work / "out") == read_tree(GOLDEN)


def test_second_build_is_byte_identical_and_rewrites_nothing(work: Path) -> None:
    assert run_feeds(work, "build").returncode == 0
    first = read_tree(work / "out")
    for path in (work / "out").rglob("*"):
        if path.is_file():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = mtimes(work / "out")
    again = run_feeds(work, "build")
    assert again.returncode == 0
    assert "feeds: 0 written, 30 unchanged, 0 removed" in summary(again.stderr)
    assert read_tree(work / "out") == first
    assert mtimes(work / "out") == before


def test_bad_article_exits_1_naming_it_and_the_rest_is_published(work: Path) -> None:
    (work / "seeds" / "broken.md").write_text('---\ntitle: "x\ndate: [\n---\nBody\n')
    (work / "seeds" / "untitled.md").write_text("---\ndate: 2025-02-10\n---\nBody\n")
    result = run_feeds(work, "build")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2
    assert errors[0].startswith("error: broken.md:") and "broken YAML" in errors[0]
    assert errors[1] == "error: untitled.md: no title in the front matter"
    assert summary(result.stderr).startswith("articles: 5 read, 2 rejected;")
    assert (work / "out" / "atom.xml").read_bytes() == (GOLDEN / "atom.xml").read_bytes()
    assert (work / "out" / "tags" / "qq" / "rss.xml").read_bytes().count(b"<item>") == 3


def test_strict_stops_at_the_first_bad_article_before_writing(work: Path) -> None:
    (work / "seeds" / "empty.md").write_bytes(b"")
    result = run_feeds(work, "build", "--strict")
    assert result.returncode == 1
    assert "error: empty.md: empty file" in result.stderr
    assert not (work / "out" / "atom.xml").exists()


def test_unknown_config_key_exits_2_naming_file_and_key(work: Path) -> None:
    config = work / "feeds.toml"
    config.write_text(config.read_text() + 'titel = "typo"\n')
    result = run_feeds(work, "build")
    assert result.returncode == 2
    assert f"{config}: unknown key 'titel'" in result.stderr
    assert not (work / "out").exists()


def test_bad_config_value_exits_2_naming_file_and_key(work: Path) -> None:
    config = work / "feeds.toml"
    config.write_text(config.read_text() + "limit = 0\n")
    result = run_feeds(work, "build")
    assert result.returncode == 2
    assert f"{config}: key 'limit'" in result.stderr


def test_bad_option_exits_2(work: Path) -> None:
    result = run_feeds(work, "build", "--base-url", "ftp://example.org/")
    assert result.returncode == 2
    assert "base_url" in result.stderr


def test_missing_seeds_folder_exits_2(work: Path) -> None:
    result = run_feeds(work, "build", "--seeds", str(work / "nowhere"))
    assert result.returncode == 2
    assert "nowhere: seeds folder does not exist" in result.stderr


def test_removing_a_tag_removes_its_feeds_and_nothing_else(work: Path) -> None:
    assert run_feeds(work, "build").returncode == 0
    foreign = work / "out" / "tags" / "notes.txt"
    foreign.write_text("not ours")
    article = work / "seeds" / "001_76f28a4f1282db08.txt"
    article.write_text(article.read_text().replace('tags:\n  - "wallstreetcn"\n', "tags: []\n"))
    result = run_feeds(work, "build")
    assert result.returncode == 0, result.stderr
    assert not (work / "out" / "tags" / "wallstreetcn").exists()
    assert (work / "out" / "categories" / "wallstreetcn" / "atom.xml").exists()
    assert "4 removed" in summary(result.stderr)  # atom, rss, json and the index page
    assert foreign.read_text() == "not ours"
    manifest = json.loads((work / "out" / ".feeds-manifest.json").read_text())
    assert not [path for path in manifest if path.startswith("tags/wallstreetcn/")]


def test_editing_an_article_keeps_its_id_and_bumps_updated(work: Path) -> None:
    assert run_feeds(work, "build").returncode == 0
    article = work / "seeds" / "003_920e0258dd261b84.txt"
    article.write_text(article.read_text() + "\nOne more line.\n")
    os.utime(article, (1_740_000_000, 1_740_000_000))  # 2025-02-20T05:20:00+08:00
    assert run_feeds(work, "build").returncode == 0
    feed = json.loads((work / "out" / "tags" / "qq" / "feed.json").read_text())
    item = feed["items"][0]
    assert item["id"] == "tag:127.0.0.1,2025:003_920e0258dd261b84"
    assert item["date_published"] == "2025-02-13T06:56:17+08:00"
    assert item["date_modified"] == "2025-02-20T05:20:00+08:00"
    assert "One more line." in item["content_html"]


def test_compiled_templates_are_kept_beside_the_store_and_a_broken_one_is_compiled_again(
    work: Path,
) -> None:
    assert run_feeds(work, "build").returncode == 0
    (folder,) = (work / "state").glob("templates-*")
    compiled = sorted(folder.iterdir())
    assert len(compiled) >= 3  # index.html, term.html, macros.html, base.html
    for path in compiled:
        path.write_bytes(b"not a compiled template")
    shutil.rmtree(work / "out")
    result = run_feeds(work, "build")
    assert result.returncode == 0, result.stderr
    assert read_tree(work / "out") == read_tree(GOLDEN)
    assert all(path.read_bytes() != b"not a compiled template" for path in compiled)


def test_the_command_ending_at_once_keeps_its_output_and_status(tmp_path: Path) -> None:
    """`feeds` ends without tearing the interpreter down (cli.run): what it printed to
    pipes (block-buffered here) still arrives, and its exit status is the command's."""
    command = [sys.executable, "-m", "feeds"]
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    options = {"capture_output": True, "text": True, "timeout": 60, "env": buffered}
    shown = subprocess.run([*command, "--help"], **options)  # type: ignore[call-overload]
    assert shown.returncode == 0 and "Usage:" in shown.stdout and "build" in shown.stdout
    missing = [*command, "build", "--config", str(tmp_path / "missing.toml")]
    failed = subprocess.run(missing, **options)  # type: ignore[call-overload]
    assert failed.returncode == 2 and "missing.toml" in failed.stderr
