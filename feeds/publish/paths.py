"""Which file under out/ a request path names: the one place that keeps requests inside it.

The percent-decoded path is split into segments; any empty, dot-leading (`..`,
`.feeds-manifest.json`, `.tmp-*`), backslash or control-character segment is refused;
the rest is resolved through symlinks and must still lie in out/, under no dot-leading
name; and the store with its -wal/-shm/.lock siblings is refused even when configured
inside out/. Folders are never listed: `/tags/qq/` names its index.html, `/tags/qq`
redirects there.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

INDEX = "index.html"


@dataclass(frozen=True)
class Found:
    path: Path | None = None
    redirect: str | None = None


def locate(out: Path, store: Path | None, request_path: str) -> Found:
    """The file under out/ that `request_path` (percent-decoded) names, or a redirect."""
    if not request_path.startswith("/"):
        return Found()
    parts = request_path[1:].split("/")
    folder = parts[-1] == ""
    if folder:
        parts.pop()
    if not all(_safe(part) for part in parts):
        return Found()
    path = _inside(out, store, parts)
    try:
        kind = path.stat().st_mode if path is not None else 0
    except OSError:
        return Found()  # removed by the writer since it was resolved
    if path is None:
        return Found()
    if stat.S_ISDIR(kind):
        if not folder:
            return Found(redirect="/" + quote("/".join(parts), safe="/") + "/")
        path = _inside(out, store, [*parts, INDEX])
        return Found(path if path is not None and path.is_file() else None)
    return Found(path if stat.S_ISREG(kind) and not folder else None)


def _safe(part: str) -> bool:
    """A segment that can only name something inside its folder, and nothing hidden."""
    if not part or part.startswith(".") or "\\" in part:
        return False
    return all(ord(character) >= 32 and character != "\x7f" for character in part)


def _inside(out: Path, store: Path | None, parts: list[str]) -> Path | None:
    """out/parts resolved through symlinks, if it exists and is still inside out/."""
    try:
        root = out.resolve(strict=True)
        path = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or any(
        part.startswith(".") for part in path.relative_to(root).parts
    ):
        return None
    if store is not None:
        private = store.resolve()
        if path.parent == private.parent and path.name.startswith(private.name):
            return None
    return path
