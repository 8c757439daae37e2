"""feed.xsl, the stylesheet the Atom and RSS feeds point at (see xmlfeeds.XSL_PI).

It is a fixed file shipped with the package, copied to out/ by every build so the
`<?xml-stylesheet?>` reference never dangles.
"""

from __future__ import annotations

from importlib.resources import files

from feeds.render.site import STYLESHEET


def stylesheet() -> bytes:
    return files("feeds.render").joinpath(STYLESHEET).read_bytes()
