"""Folder names for tags and categories.

Lower case, spaces to '-', Chinese and other letters kept; everything unsafe in a path or
URL dropped. Never empty, never '.'/'..', never containing '/'. Terms that slug alike get
distinct, deterministic slugs: the first term in sorted order keeps the plain slug, the
others get a suffix made from a hash of the term itself (so it does not depend on which
other terms exist).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping

from slugify import slugify

_MAX_LENGTH = 80


def slug(term: str) -> str:
    """The plain slug of one term (may collide with another term's)."""
    # NFKC first so full-width letters and compatibility forms fold to their plain form.
    text = unicodedata.normalize("NFKC", term)
    made = slugify(text, allow_unicode=True, max_length=_MAX_LENGTH, word_boundary=False)
    made = made.strip(".-_")
    return made or "term-" + _digest(term)


def assign_slugs(terms: Iterable[str], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map each distinct term to a distinct slug, independent of input order.

    `known` holds slugs published before: they are kept (a subscriber's URL never moves),
    and a new term that would take one of them gets the suffixed form instead.
    """
    known = known or {}
    distinct = sorted(set(terms))
    assigned = {term: known[term] for term in distinct if term in known}
    taken = set(known.values())
    for term in distinct:
        if term in assigned:
            continue
        candidate = slug(term)
        if candidate in taken:
            candidate = f"{candidate}-{_digest(term)}"
        taken.add(candidate)
        assigned[term] = candidate
    return assigned


def _digest(term: str) -> str:
    return hashlib.sha256(term.encode("utf-8", "surrogatepass")).hexdigest()[:8]
