"""feeds.opml: every feed we publish as one OPML 2.0 subscription list.

A reader imports it to follow the combined feed and every tag and category feed in one
step. OPML 2.0 says type="rss" for any feed outline, Atom included; xmlUrl is the Atom
version when published, else RSS, else JSON Feed (readers that take OPML read all three).
dateCreated is the newest entry's date, never the clock, so the same feeds give the same
bytes. (The list of upstream subscriptions is another file: feeds/sources/opml.py.)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from feeds.model import FeedSpec
from feeds.render.fragments import rfc822
from feeds.render.site import EMPTY_FEED_DATE, Site

OPML_FILE = "feeds.opml"
FOLDERS = (("tag", "Tags"), ("category", "Categories"))
PREFERENCE = ("atom", "rss", "json")


def render_opml(feeds: tuple[FeedSpec, ...], site: Site) -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = site.title
    dates = [newest for spec in feeds if (newest := spec.newest) is not None]
    newest = max(dates, default=EMPTY_FEED_DATE)
    ET.SubElement(head, "dateCreated").text = rfc822(newest)
    body = ET.SubElement(root, "body")
    for spec in feeds:
        if spec.kind == "all":
            _outline(body, spec, site)
    for kind, label in FOLDERS:
        members = [spec for spec in feeds if spec.kind == kind]
        if members:
            # A parent outline without xmlUrl is a folder; readers turn it into a category.
            folder = ET.SubElement(body, "outline", text=f"{site.title} · {label}")
            for spec in members:
                _outline(folder, spec, site)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _outline(parent: ET.Element, spec: FeedSpec, site: Site) -> None:
    fmt = next((fmt for fmt in PREFERENCE if fmt in site.formats), None)
    if fmt is None:
        return
    ET.SubElement(
        parent,
        "outline",
        type="rss",
        text=spec.title,
        title=spec.title,
        xmlUrl=site.feed_url(spec, fmt),
        htmlUrl=site.page_url(spec),
    )
