"""The golden tree: the whole output folder for seeds/, built with pinned settings.

    make golden        # python -m tests.golden: rewrite tests/golden/ from seeds/

tests/test_render_golden.py builds the same tree and compares it byte for byte. Golden files
freeze bugs too: read `git diff tests/golden` before committing a regenerated tree.

Pinned: the base URL, the time zone, no upstream sources, a store in a temporary folder and
every article's modification time (it is the entries' `updated` when there is no lastmod).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from feeds.pipeline import BuildReport, build
from feeds.settings import Settings, defaults

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden"
BASE_URL = "http://127.0.0.1:8080/"
# The day after the newest seed article, in the seeds' own zone.
PINNED_MTIME = datetime(2025, 2, 14, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def pin_seeds(target: Path) -> Path:
    """A copy of seeds/ in `target`: the n-th file (by name) modified n minutes after
    PINNED_MTIME, so entries have distinct `updated` values, as real edits would."""
    shutil.copytree(SEEDS, target)
    for index, path in enumerate(sorted(target.rglob("*"))):
        stamp = PINNED_MTIME + 60 * index
        os.utime(path, (stamp, stamp))
    return target


def golden_settings(work: Path) -> Settings:
    """Defaults (never ./feeds.toml), with every folder inside `work`."""
    (work / "sources").mkdir(exist_ok=True)
    return defaults().with_values(
        "tests/golden.py",
        {
            "base_url": BASE_URL,
            "timezone": "Asia/Shanghai",
            "seeds": str(pin_seeds(work / "seeds")),
            "sources": str(work / "sources"),
            "out": str(work / "out"),
            "store": str(work / "state" / "state.db"),
        },
    )


def write_project(work: Path) -> Path:
    """The pinned project as files, for the real CLI: seeds/, sources/, feeds.toml; returns
    the config file. `run_feeds(work, "build")` then writes work/out like the golden tree."""
    settings = golden_settings(work)
    config = work / "feeds.toml"
    config.write_text(
        f'base_url = "{BASE_URL}"\ntimezone = "Asia/Shanghai"\n'
        f'seeds = "{settings.seeds}"\nsources = "{settings.sources}"\n'
        f'out = "{settings.out}"\nstore = "{settings.store}"\n',
        encoding="utf-8",
    )
    return config


def run_feeds(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m feeds <args> --config work/feeds.toml` in `work`, never touching the network."""
    command = [sys.executable, "-m", "feeds", *args, "--config", str(work / "feeds.toml")]
    return subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=120)


def build_golden(work: Path) -> tuple[BuildReport, dict[str, bytes]]:
    """Build the seeds into work/out; return the report and every file by relative path."""
    settings = golden_settings(work)
    report = build(settings)
    return report, read_tree(settings.out)


def read_tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def write_golden(files: dict[str, bytes]) -> None:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    for relative, data in files.items():
        path = GOLDEN / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="feeds-golden-") as work:
        report, files = build_golden(Path(work))
    if not report.ok:
        for error in [*report.rejected, *report.source_errors, *report.write.errors]:
            print(f"error: {error}", file=sys.stderr)
        return 1
    write_golden(files)
    print(f"{GOLDEN.relative_to(ROOT)}: {len(files)} files; review `git diff tests/golden`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
