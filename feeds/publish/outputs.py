"""The publish step: render the output files whose digest changed, write them, keep the
others (publish/record.py keeps what each file was made from).

A file whose digest is unchanged and whose size and mtime are still those it had once
written is neither rendered nor read back: the writer keeps it as it is. Anything else (a
new digest, a file edited, touched or removed by someone) is rendered, and written only
if its bytes differ.
"""

from __future__ import annotations

from pathlib import Path

from feeds.merge.article_cache import html_digest
from feeds.merge.seeds import SeedContents
from feeds.merge.store import Store
from feeds.model import Entry, FeedSpec
from feeds.publish.record import OutputRecord
from feeds.publish.write import WriteReport, write_tree
from feeds.render.incremental import Digests, code_fingerprint, render_outputs
from feeds.render.site import FILENAMES, Site


def _writer_group(path: str) -> str:
    # An entry's Atom and RSS fragments share its escaped HTML (render/fragments.py): a
    # worker that renders both makes it once. JSON feeds and pages go to another.
    return "xml" if path.rpartition("/")[2] in _XML_FEEDS else "other"


_XML_FEEDS = (FILENAMES["atom"], FILENAMES["rss"])


def publish(
    out: Path, store: Store, specs: tuple[FeedSpec, ...], site: Site, seeds: SeedContents
) -> WriteReport:
    """Render the outputs that changed, write them, keep the others, record the digests."""
    record = OutputRecord(store, out)
    code = code_fingerprint()

    def content(entry: Entry) -> str | None:
        return seeds.digest(entry.id) if entry.id in seeds else html_digest(entry.content_html)

    digests = Digests(site, content, code)
    before = digests.outputs(specs)
    kept = record.unchanged(before)
    wanted = [path for path in before if path not in kept]
    files = render_outputs(specs, site, wanted, seeds.load, seeds.__contains__)
    report = write_tree(out, files, keep=kept, parallel=True, group=_writer_group)
    if None in before.values():  # seed entries rendered just now have a digest now
        before = digests.outputs(specs)
    record.record(before, wanted, report)
    return report
