"""feeds: publish Markdown articles and upstream feeds as Atom, RSS and JSON feeds."""

__version__ = "0.1.0"
