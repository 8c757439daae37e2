"""The whole output tree for seeds/ equals tests/golden/ byte for byte (`make golden`)."""

from __future__ import annotations

import difflib
from pathlib import Path

from tests.golden import GOLDEN, build_golden, read_tree


def test_seeds_build_matches_the_golden_tree(tmp_path: Path) -> None:
    report, built = build_golden(tmp_path)
    assert report.ok, [str(error) for error in report.rejected]
    expected = read_tree(GOLDEN)
    assert sorted(built) == sorted(expected), "file set differs; run `make golden` and review"
    for relative, data in expected.items():
        assert built[relative] == data, _diff(relative, data, built[relative])


def test_golden_tree_has_the_feeds_the_issue_names() -> None:
    golden = read_tree(GOLDEN)
    assert golden["tags/qq/atom.xml"].count(b"<entry>") == 3
    assert golden["categories/wallstreetcn/rss.xml"].count(b"<item>") == 1
    assert golden["atom.xml"].count(b"<entry>") == 5


def _diff(relative: str, expected: bytes, actual: bytes) -> str:
    lines = difflib.unified_diff(
        expected.decode(errors="replace").splitlines(),
        actual.decode(errors="replace").splitlines(),
        f"golden/{relative}",
        f"built/{relative}",
        lineterm="",
    )
    return f"{relative} differs from the golden file (`make golden`, then review):\n" + "\n".join(
        list(lines)[:40]
    )
