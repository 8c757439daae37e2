"""Corpora from ../shared/tools/make_corpus.py, work copies of them, and the edits we time.

A corpus is generated once per size into benchmarks/corpora/<size>/ (git-ignored) with seed 1.
A work copy is a folder of hard links to it, so making one is cheap; every edit replaces a
file through a rename (or unlinks it), so the cached corpus itself is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT / "benchmarks" / "corpora"
MAKE_CORPUS = ROOT.parent / "shared" / "tools" / "make_corpus.py"
_DATE = re.compile(r'^date: "?([0-9: -]+)"?$', re.MULTILINE)
_TAG_LINE = re.compile(r'^  - "(.*)"$')


def corpus(size: int) -> Path:
    """benchmarks/corpora/<size>, generated on first use."""
    folder = CORPORA / str(size)
    marker = folder / ".complete"
    if marker.exists():
        return folder
    if not MAKE_CORPUS.exists():
        raise SystemExit(f"{MAKE_CORPUS}: not found (shared/ must sit beside the project)")
    print(f"generating {size} articles into {folder} ...", file=sys.stderr)
    options = ["--count", str(size), "--seed", "1", "--force", "--quiet"]
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(folder), *options], check=True)
    marker.touch()
    return folder


def work_copy(source: Path, target: Path) -> Path:
    """`target` holding hard links to every article of `source` (replaced if present)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for entry in os.scandir(source):
        if entry.name.endswith(".txt"):
            os.link(entry.path, target / entry.name)
    return target


def newest(seeds: Path, count: int) -> list[Path]:
    """The `count` newest articles by their front-matter date (they are in the feeds)."""
    dated = []
    for path in seeds.glob("*.txt"):
        with path.open(encoding="utf-8") as handle:
            head = handle.read(600)
        match = _DATE.search(head)
        if match:
            dated.append((match.group(1), path.name, path))
    dated.sort(reverse=True)
    return [path for _, _, path in dated[:count]]


def common_tags(seeds: Path, sample: int = 300) -> list[str]:
    counts: Counter[str] = Counter()
    for path in sorted(seeds.glob("*.txt"))[:sample]:
        counts.update(_tags(path.read_text(encoding="utf-8")))
    return [tag for tag, _ in counts.most_common(10)]


def edit_body(path: Path, number: int) -> None:
    """Add a paragraph before the closing `[source](link)` line."""
    text = path.read_text(encoding="utf-8").rstrip("\n")
    head, _, last = text.rpartition("\n")
    _replace(path, f"{head}\n\nBenchmark edit number {number}.\n\n{last}\n")


def add_tag(path: Path, candidates: list[str]) -> str:
    """Give the article one common tag it does not carry yet; returns the tag."""
    text = path.read_text(encoding="utf-8")
    have = set(_tags(text))
    tag = next(tag for tag in candidates if tag not in have)
    _replace(path, text.replace("\ntags:\n", f'\ntags:\n  - "{tag}"\n', 1))
    return tag


def delete(path: Path) -> None:
    path.unlink()


def _tags(text: str) -> list[str]:
    front = text.split("\n---", 1)[0]
    tags: list[str] = []
    inside = False
    for line in front.splitlines():
        if line.startswith("tags:"):
            inside = True
            continue
        match = _TAG_LINE.match(line)
        if inside and match:
            tags.append(match.group(1))
        elif inside:
            break
    return tags


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
