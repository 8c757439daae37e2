"""Reading Accept and Accept-Encoding (RFC 9110 12.5): names with q-values, `*` as a fallback."""

from __future__ import annotations

FEED_TYPES = ("application/atom+xml", "application/rss+xml")


def weights(header: str) -> dict[str, float]:
    """{"gzip": 1.0, "br": 0.5, ...}, names lower-cased; a bad q-value counts as 0."""
    found: dict[str, float] = {}
    for item in header.split(","):
        name, *parameters = item.split(";")
        weight = 1.0
        for parameter in parameters:
            key, _, value = parameter.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name.strip():
            found[name.strip().lower()] = weight
    return found


def accepts_gzip(header: str) -> bool:
    """gzip named with q > 0, or `*` with q > 0 while gzip is not named."""
    given = weights(header)
    for name in ("gzip", "x-gzip", "*"):
        if name in given:
            return given[name] > 0
    return False


def prefers_html(header: str) -> bool:
    """A browser navigating (text/html wanted more than any feed type), not a feed reader."""
    given = weights(header)
    html = given.get("text/html", 0.0)
    return html > 0 and html > max((given.get(name, 0.0) for name in FEED_TYPES), default=0.0)
