"""feed.xsl turns both our Atom and our RSS feeds into a page that explains subscribing
(lxml's libxslt, the engine Chromium uses too), and the feeds keep pointing at it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from lxml import etree

from feeds.render.site import STYLESHEET
from feeds.render.stylesheet import stylesheet
from tests.site_server import Site, build_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("xsl")
    seeds = root / "seeds"
    seeds.mkdir()
    for article in (Path(__file__).parent.parent / "seeds").iterdir():
        (seeds / article.name).write_bytes(article.read_bytes())
    built = build_site(root, seeds)
    built.listener.close()
    return built


def transform(site: Site, relative: str) -> etree._Element:
    xslt = etree.XSLT(etree.XML(stylesheet()))
    return xslt(etree.parse(str(site.out / relative))).getroot()  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["atom.xml", "rss.xml"])
def test_every_feed_renders_with_its_subscribe_note_and_entries(site: Site, name: str) -> None:
    for spec in site.feeds:
        page = transform(site, spec.path(name))
        text = "".join(page.itertext())
        assert "This is a web feed." in text
        assert "Copy its URL into your feed reader to subscribe" in text
        assert page.findtext(".//aside/code") == site.settings.base_url + quote(spec.path(name))
        assert (
            page.findtext(".//title")
            == f"{spec.title} ({'Atom' if name == 'atom.xml' else 'RSS'} feed)"
        )
        titles = [a.text for a in page.iterfind(".//ol/li/a")]
        assert titles == [entry.title for entry in spec.entries if entry.link]
        assert page.get("lang") == "zh-CN"


def test_feeds_reference_the_stylesheet_that_the_build_writes(site: Site) -> None:
    assert (site.out / STYLESHEET).read_bytes() == stylesheet()
    reference = f'<?xml-stylesheet type="text/xsl" href="{site.settings.base_url}{STYLESHEET}"?>'
    for spec in site.feeds:
        for name in ("atom.xml", "rss.xml"):
            lines = (site.out / spec.path(name)).read_text(encoding="utf-8").splitlines()
            assert lines[1] == reference


def test_entry_links_that_are_not_web_links_are_not_made_links(tmp_path: Path) -> None:
    feed = tmp_path / "atom.xml"
    feed.write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        '<link rel="self" href="https://example.org/atom.xml"/>'
        '<entry><title>bad</title><link href="javascript:alert(1)"/>'
        "<updated>2025-01-01T00:00:00Z</updated></entry></feed>",
        encoding="utf-8",
    )
    page = etree.XSLT(etree.XML(stylesheet()))(etree.parse(str(feed))).getroot()
    assert page.find(".//ol/li/a") is None
    assert page.findtext(".//ol/li/strong") == "bad"
