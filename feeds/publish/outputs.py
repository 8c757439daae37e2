"""The publish step: render the output files whose digest changed, write them, keep the
others (publish/record.py keeps what each file was made from).

A file whose digest is unchanged and whose size and mtime are still those it had once
written is neither rendered nor read back: the writer keeps it as it is. Anything else (a
new digest, a file edited, touched or removed by someone) is rendered, and written only
if its bytes differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import partial
from pathlib import Path

from feeds.errors import PublishError
from feeds.merge.seeds import SeedContents
from feeds.merge.store import Store
from feeds.publish.record import OutputRecord
from feeds.publish.write import WriteReport, safe_path, write_tree
from feeds.render.incremental import Digests, Resolve, code_fingerprint, render_outputs
from feeds.render.index import keep_compiled
from feeds.render.plan import PlannedFeed
from feeds.render.site import FILENAMES, Site


def _writer_group(path: str) -> str:
    # An entry's Atom and RSS fragments share its escaped HTML (render/fragments.py): a
    # worker that renders both makes it once. JSON feeds and pages go to another.
    return "xml" if path.rpartition("/")[2] in _XML_FEEDS else "other"


_XML_FEEDS = (FILENAMES["atom"], FILENAMES["rss"])


def publish(
    out: Path,
    store: Store,
    planned: tuple[PlannedFeed, ...],
    site: Site,
    seeds: SeedContents,
    resolve: Resolve,
    meanwhile: Callable[[], None] | None = None,
) -> WriteReport:
    """Render the outputs that changed, write them, keep the others, record the digests.
    Seed entries rendered for the first time get a content digest (SeedContents.fresh).
    `meanwhile` runs while the files are written (publish/write.py write_tree)."""
    record = OutputRecord(store, out)
    keep_compiled(store.path.parent)
    digests = Digests(site, code_fingerprint())
    before = digests.outputs(planned)
    kept = record.unchanged(before)
    wanted = [path for path in before if path not in kept]
    json_feeds = [path for path in wanted if path.rpartition("/")[2] == FILENAMES["json"]]

    def load(ids: list[str]) -> Mapping[str, str]:
        return seeds.load(ids, partial(published_html, out, json_feeds))

    files = render_outputs(planned, site, wanted, resolve, load)
    report = write_tree(
        out, files, keep=kept, parallel=True, group=_writer_group, meanwhile=meanwhile
    )
    if None in before.values():  # seed entries rendered just now have a digest now
        before = digests.outputs(planned, seeds.fresh)
    record.record(before, wanted, report)
    return report


def published_html(out: Path, paths: Iterable[str], ids: Collection[str]) -> dict[str, str]:
    """The HTML these JSON feeds of out/ (as they are before this build writes) hold for
    these entry ids. Only a cache (the caller checks each against its digest): a file that
    is missing or not a JSON feed of ours is passed over."""
    found: dict[str, str] = {}
    for path in paths:
        try:
            items = json.loads(safe_path(out, path).read_bytes())["items"]
        except (OSError, ValueError, LookupError, TypeError, PublishError):
            continue
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            entry_id, html = item.get("id"), item.get("content_html")
            if isinstance(entry_id, str) and entry_id in ids and isinstance(html, str):
                found[entry_id] = html
    return found
