"""Render stage: feed specs in, file bytes out. Dispatches by format, nothing else."""

from __future__ import annotations

from collections.abc import Callable

from feeds.model import FeedSpec
from feeds.render.jsonfeed import render_json
from feeds.render.site import FILENAMES, Site
from feeds.render.xmlfeeds import render_atom, render_rss

RENDERERS: dict[str, Callable[[FeedSpec, Site], bytes]] = {
    "atom": render_atom,
    "rss": render_rss,
    "json": render_json,
}


def render_feed(spec: FeedSpec, site: Site) -> dict[str, bytes]:
    """Every configured format of one feed, keyed by path relative to out/."""
    return {spec.path(FILENAMES[fmt]): RENDERERS[fmt](spec, site) for fmt in site.formats}
