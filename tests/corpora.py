"""Articles for tests: generated ones (../shared/tools/make_corpus.py) and the seeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import frontmatter
import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE_CORPUS = ROOT.parent / "shared" / "tools" / "make_corpus.py"


def generate(folder: Path, count: int, seed: int) -> Path:
    """`count` generated articles (deterministic by `seed`) in `folder`; the calling test is
    skipped where the generator is not beside the project."""
    if not MAKE_CORPUS.exists():
        pytest.skip("shared/tools/make_corpus.py is not beside the project")
    options = ["--count", str(count), "--seed", str(seed), "--quiet"]
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(folder), *options], check=True)
    return folder


def bodies(folder: Path, count: int, seed: int) -> list[tuple[str, str]]:
    """(file name, Markdown body) of `count` generated articles and of every seed."""
    generate(folder, count, seed)
    paths = [*sorted(folder.glob("*.txt")), *sorted((ROOT / "seeds").glob("*.txt"))]
    return [(path.name, frontmatter.parse(path.read_text(encoding="utf-8"))[1]) for path in paths]
