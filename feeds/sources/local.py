"""The seeds folder: every *.md and *.txt below it, recursively, in a stable order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from feeds.errors import ArticleError, ConfigError

SUFFIXES = (".md", ".txt")


@dataclass(frozen=True, slots=True)
class ArticleFile:
    name: str  # path relative to the seeds folder, "/" separated
    path: Path
    size: int
    mtime_ns: int


def list_articles(folder: Path) -> list[ArticleFile]:
    """Article files under `folder`, sorted by name; hidden files and folders are skipped."""
    if not folder.is_dir():
        raise ConfigError(str(folder), "seeds folder does not exist")
    found = []
    for path in _walk(folder):
        stat = path.stat()
        name = path.relative_to(folder).as_posix()
        found.append(ArticleFile(name, path, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda article: article.name)


def _walk(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative):
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            yield path


def read_bytes(article: ArticleFile) -> bytes:
    try:
        return article.path.read_bytes()
    except OSError as exc:
        raise ArticleError(article.name, f"cannot read: {exc.strerror or exc}") from None
