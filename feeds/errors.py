"""Every error feeds reports, in one tree. Each one names the file or URL it is about.

FeedsError
├── ConfigError          a setting or a sources/*.toml table is wrong (exit 2)
├── ArticleError         one article in seeds/ cannot be read
├── SourceError          one upstream feed cannot be fetched or parsed
│   ├── FetchError       network, HTTP status, size cap, timeout
│   └── ParseError       the body is not a feed we can read
├── StoreError           the SQLite store is corrupt, locked or too new
├── LockError            another build holds the output folder
└── PublishError         a file under out/ cannot be written
"""

from __future__ import annotations


class FeedsError(Exception):
    """Base of every error feeds reports; `where` is the file or URL at fault."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class ConfigError(FeedsError):
    pass


class ArticleError(FeedsError):
    pass


class SourceError(FeedsError):
    pass


class FetchError(SourceError):
    pass


class ParseError(SourceError):
    pass


class StoreError(FeedsError):
    pass


class LockError(FeedsError):
    pass


class PublishError(FeedsError):
    pass
