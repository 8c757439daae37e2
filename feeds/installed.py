"""The distributions installed where this process imports from, and their versions, read
from the names of their `*.dist-info` folders: importlib.metadata would load the email
package for it, 10 ms of a rebuild after one edit. Caches are keyed on these versions
(merge/article_cache.py, publish/uptodate.py)."""

from __future__ import annotations

import os
import re
import sys
from functools import cache


@cache
def distributions() -> dict[str, str]:
    """Normalized name (see `normalize`) -> version; the first found on sys.path wins, as
    for imports."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))  # noqa: PTH208
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                # "{name}-{version}.dist-info", with "-" in the name written as "_".
                project, _, version = name.removesuffix(".dist-info").partition("-")
                found.setdefault(normalize(project), version)
    return found


def normalize(name: str) -> str:
    """A project name as PEP 503 compares them: "PyYAML", "pyyaml" and "py_yaml" alike."""
    return re.sub(r"[-_.]+", "-", name).lower()
