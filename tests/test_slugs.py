"""Slugs: properties over any string (hypothesis), plus the cases the issue names."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.publish.write import safe_path
from feeds.render.slugs import MAX_BYTES, _digest, assign_slugs, slug

# Any text at all, surrogates and controls included, and texts built from the characters
# that are most likely to break a path: separators, dots, percent signs, white space.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
TRICKY = st.lists(st.sampled_from([*'./\\%?#&:*"<>| \t\n\x00\x7f_-~', "..", "中", "é"])).map(
    "".join
)
TERMS = st.one_of(ANY_TEXT, TRICKY)


def is_safe_char(char: str) -> bool:
    return char.isalnum() or char in "-_" or unicodedata.category(char).startswith("M")


@given(TERMS)
@settings(max_examples=500)
def test_any_string_gives_a_safe_nonempty_slug(term: str) -> None:
    made = slug(term)
    assert made and made not in (".", "..")
    assert all(is_safe_char(char) for char in made), made
    assert "/" not in made and "\\" not in made and "\x00" not in made
    assert made == made.lower()
    assert len(made.encode("utf-8")) <= MAX_BYTES + 9


@given(TERMS)
@settings(max_examples=300)
def test_slug_is_url_safe_after_quoting(term: str) -> None:
    quoted = quote(slug(term), safe="")
    assert quoted.isascii()
    assert all(char.isalnum() or char in "-_.~%" for char in quoted)
    assert unquote(quoted) == slug(term)


@given(TERMS)
@settings(max_examples=300)
def test_feed_paths_stay_inside_the_output_folder(term: str) -> None:
    out = Path("/srv/out")
    for folder in ("tags", "categories"):
        path = safe_path(out, f"{folder}/{slug(term)}/atom.xml")
        assert path.parent.parent == out / folder
        assert path.resolve().is_relative_to(out.resolve())


@given(st.lists(TERMS, max_size=12))
@settings(max_examples=60)
def test_slug_folders_can_be_created(
    tmp_path_factory: pytest.TempPathFactory, terms: list[str]
) -> None:
    out = tmp_path_factory.mktemp("out")
    for made in assign_slugs(terms).values():
        safe_path(out, f"tags/{made}/atom.xml").parent.mkdir(parents=True)
    folders = list((out / "tags").iterdir()) if terms else []
    assert len(folders) == len(set(terms))


@given(st.lists(TERMS, max_size=30))
@settings(max_examples=300)
def test_distinct_terms_get_distinct_slugs(terms: list[str]) -> None:
    assigned = assign_slugs(terms)
    assert set(assigned) == set(terms)
    assert len(set(assigned.values())) == len(assigned)


@given(st.lists(TERMS, max_size=30), st.randoms(use_true_random=False))
@settings(max_examples=200)
def test_slugs_do_not_depend_on_input_order(terms: list[str], rng: random.Random) -> None:
    shuffled = list(terms)
    rng.shuffle(shuffled)
    assert assign_slugs(shuffled) == assign_slugs(terms)


@given(st.lists(TERMS, max_size=20), st.lists(TERMS, max_size=8))
@settings(max_examples=200)
def test_known_slugs_are_kept_and_never_reused(old: list[str], new: list[str]) -> None:
    known = assign_slugs(old)
    assigned = assign_slugs(new, known)  # some old terms are gone, some come back
    for term, made in assigned.items():
        if term in known:
            assert made == known[term]
        else:
            assert made not in known.values(), (term, made)


def test_a_known_slug_survives_a_new_term_that_sorts_first() -> None:
    known = assign_slugs(["C++"])
    assert known == {"C++": "c"}
    assigned = assign_slugs(["C", "C++"], known)
    assert assigned["C++"] == "c"
    assert assigned["C"].startswith("c-") and len(assigned["C"]) == len("c-") + 8


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("qq", "qq"),
        ("wallstreetcn", "wallstreetcn"),
        ("sina_us_stock", "sina_us_stock"),
        ("Machine Learning", "machine-learning"),
        ("人工智能", "人工智能"),
        ("空 格", "空-格"),
        ("ＡＩ芯片", "ai芯片"),
        ("ｶﾀｶﾅ", "カタカナ"),
        ("हिन्दी", "हिन्दी"),
        ("a/b", "a-b"),
        ("../../etc", "etc"),
        ("x?y#z%20", "x-y-z-20"),
        ("  Trim  me  ", "trim-me"),
    ],
)
def test_known_cases(term: str, expected: str) -> None:
    assert slug(term) == expected


@pytest.mark.parametrize("term", ["", ".", "..", "/", "___", "---", "😀", "\x00", "   "])
def test_terms_with_nothing_to_keep_get_a_hash(term: str) -> None:
    made = slug(term)
    assert made.startswith("term-") and len(made) == len("term-") + 8
    assert slug(term) == made


def test_a_suffixed_slug_that_is_taken_gets_another_suffix() -> None:
    # "B" takes "b"; "B." would take "b-<hash of B.>", but a published term holds it.
    holder = f"b-{_digest('B.')}"
    assigned = assign_slugs(["B", "B."], {"old term": holder})
    assert assigned["B"] == "b"
    assert assigned["B."] not in ("b", holder) and assigned["B."].startswith("b-")


def test_colliding_terms_first_in_sorted_order_keeps_the_plain_slug() -> None:
    assigned = assign_slugs(["a b", "a-b", "A.B"])
    assert assigned["A.B"] == "a-b"  # "A.B" sorts first
    assert assigned["a b"] != assigned["a-b"]
    assert all(value.startswith("a-b") for value in assigned.values())
