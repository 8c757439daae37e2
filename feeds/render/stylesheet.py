"""feed.xsl, the stylesheet the Atom and RSS feeds point at (see xmlfeeds.XSL_PI).

It is a fixed file shipped with the package, copied to out/ by every build so the
`<?xml-stylesheet?>` reference never dangles.
"""

from __future__ import annotations

from pathlib import Path

from feeds.render.site import STYLESHEET


def stylesheet() -> bytes:
    # Beside this module (not importlib.resources: 10 ms to import, for one read).
    return Path(__file__).with_name(STYLESHEET).read_bytes()
