"""Folder names for tags and categories.

Lower case, white space and punctuation to '-', letters, digits and '_' kept in any script
(Chinese, Arabic, Devanagari with its vowel signs); so nothing unsafe in a path or URL is
left. Never empty, never '.'/'..', never containing '/', at most MAX_BYTES of UTF-8 (file
systems refuse names over 255 bytes).

Terms that slug alike get distinct, deterministic slugs: in sorted order the first keeps
the plain slug, the others get a suffix made from a hash of the term itself. Slugs
published before (`known`) are kept, so a subscriber's URL never moves.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping

MAX_BYTES = 200  # plus "-" and an 8-character suffix: still well under 255
_DASHES = re.compile(r"-{2,}")


def slug(term: str) -> str:
    """The plain slug of one term (may collide with another term's)."""
    # NFKC folds full-width letters and compatibility forms (ｶﾀｶﾅ, ﬁ, Ⅻ) to plain ones.
    text = unicodedata.normalize("NFKC", term).lower()
    made = _DASHES.sub("-", "".join(map(_keep_or_dash, text)))
    made = _truncate(made.strip("-_"), MAX_BYTES).strip("-_")
    return made or "term-" + _digest(term)


def assign_slugs(terms: Iterable[str], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map each distinct term to a distinct slug, independent of input order."""
    known = known or {}
    distinct = sorted(set(terms))
    assigned = {term: known[term] for term in distinct if term in known}
    # Every slug published before stays reserved, even for a term that is gone for now: a new
    # term must not take over an old subscriber's URL.
    taken = set(known.values())
    for term in distinct:
        if term in assigned:
            continue
        plain = candidate = slug(term)
        salt = 0
        while candidate in taken:
            candidate = f"{plain}-{_digest(term, salt)}"
            salt += 1
        taken.add(candidate)
        assigned[term] = candidate
    return assigned


def _keep_or_dash(char: str) -> str:
    # Letters and digits of every script, '_', and combining marks (vowel signs, accents
    # that NFKC could not compose) stay; everything else, '/' '.' '%' '?' included, is '-'.
    if char.isalnum() or char == "_" or unicodedata.category(char).startswith("M"):
        return char
    return "-"


def _truncate(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore")


def _digest(term: str, salt: int = 0) -> str:
    key = term if not salt else f"{term}\x00{salt}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
