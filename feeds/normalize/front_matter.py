"""An article split into its front matter and its body, as python-frontmatter splits it.

python-frontmatter imports PyYAML, which takes ~25 ms to load: most of a one-edit build's
parsing, whose one article's front matter simple_yaml reads without it. So the split is
python-frontmatter's own (its YAML boundary, its stripping), here; the library reads what
simple_yaml does not (normalize/article.py). tests/test_front_matter.py holds the two to
each other.
"""

from __future__ import annotations

import re

# python-frontmatter's YAMLHandler.FM_BOUNDARY.
BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)


def split(text: str) -> tuple[str, str] | None:
    """(front matter, body) as frontmatter.parse(text) splits them (line ends \r\n read
    as \n); None when it finds no front matter (it then takes the whole text, stripped,
    for the body)."""
    parts = BOUNDARY.split(text.replace("\r\n", "\n").strip(), 2)
    if len(parts) < 3:
        return None
    return parts[1], parts[2].strip()
