"""feeds: publish Markdown articles and upstream feeds as Atom, RSS and JSON feeds.

The public surface, declared once here (a test keeps `__all__` complete and sorted):

    settings = feeds.load(Path("feeds.toml"))      # Settings, from the SETTINGS table
    report = feeds.build(settings)                 # BuildReport; never raises for one bad input
    report.rejected, report.source_errors          # FeedsError subclasses naming file or URL
"""

# Before the imports below: feeds.render.site and others read it while feeds loads.
__version__ = "0.1.0"

from feeds.errors import (
    ArticleError,
    ConfigError,
    FeedsError,
    FetchError,
    LockError,
    ParseError,
    PublishError,
    SourceError,
    StoreError,
)
from feeds.model import Entry, FeedSpec, Source
from feeds.pipeline import BuildReport, build
from feeds.settings import SETTINGS, Setting, Settings, defaults, load


def __getattr__(name: str) -> object:
    # read_article on first use: it loads the YAML, Markdown and sanitizing libraries, which
    # a command that reads no article (an up-to-date build, serve, sources) never needs.
    if name == "read_article":
        from feeds.normalize.article import read_article

        return read_article
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SETTINGS",
    "ArticleError",
    "BuildReport",
    "ConfigError",
    "Entry",
    "FeedSpec",
    "FeedsError",
    "FetchError",
    "LockError",
    "ParseError",
    "PublishError",
    "Setting",
    "Settings",
    "Source",
    "SourceError",
    "StoreError",
    "__version__",
    "build",
    "defaults",
    "load",
    "read_article",
]
