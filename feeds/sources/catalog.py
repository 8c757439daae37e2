"""The catalog of upstream feeds: every `[[source]]` table of sources/*.toml.

    [[source]]
    name = "Hacker News"            # unique; used in messages and as the default category
    url = "https://hnrss.org/frontpage"
    interval = "30m"                # at least this long between polls
    category = "Tech"               # default: the name
    tags = ["news"]                 # added to every entry
    lang = "en"
    timezone = "UTC"                # for dates without a zone (default: the site's)
    enabled = true
    include = "(?i)python"          # regular expressions on titles
    exclude = "(?i)sponsored"
    limit = 20                      # entries kept from each poll

Errors name the file, the table (#n and name) and the key; a bad table is skipped and
the others load.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.errors import ConfigError
from feeds.model import Source
from feeds.settings import parse_duration

DEFAULT_INTERVAL = 1800


@dataclass(frozen=True)
class Catalog:
    sources: tuple[Source, ...]
    errors: tuple[ConfigError, ...]

    def named(self, name: str) -> Source | None:
        key = name.casefold()
        return next((s for s in self.sources if s.name.casefold() == key), None)

    @property
    def enabled(self) -> tuple[Source, ...]:
        return tuple(source for source in self.sources if source.enabled)


def load_catalog(folder: Path, timezone: str | None = None) -> Catalog:
    """Every source of folder/*.toml, in file then table order.

    `timezone` (the site's) fills in sources that name none, so every loaded Source has one.
    A missing folder is an empty catalog: upstream feeds are optional.
    """
    sources: list[Source] = []
    errors: list[ConfigError] = []
    seen: dict[str, str] = {}
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    for path in files:
        found, problems = read_sources_file(path, timezone)
        errors.extend(problems)
        for source in found:
            first = seen.get(source.name.casefold())
            if first is not None:
                errors.append(
                    ConfigError(str(path), f"{_table_of(source)}: name already used by {first}")
                )
                continue
            seen[source.name.casefold()] = source.where
            sources.append(source)
    return Catalog(tuple(sources), tuple(errors))


def read_sources_file(
    path: Path, timezone: str | None = None
) -> tuple[list[Source], list[ConfigError]]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [], [ConfigError(str(path), f"cannot read: {exc}")]
    errors = [
        ConfigError(str(path), f"unknown top-level key {key!r} (expected [[source]] tables)")
        for key in document
        if key != "source"
    ]
    tables = document.get("source", [])
    if not isinstance(tables, list):
        return [], [*errors, ConfigError(str(path), "'source' must be [[source]] tables")]
    sources: list[Source] = []
    for number, table in enumerate(tables, start=1):
        try:
            sources.append(parse_source(table, path, number, timezone))
        except ConfigError as error:
            errors.append(error)
    return sources, errors


def parse_source(table: object, path: Path, number: int, timezone: str | None) -> Source:
    """One [[source]] table -> Source; ConfigError names file, table and key."""
    label = f"[[source]] #{number}"
    if not isinstance(table, Mapping):
        raise ConfigError(str(path), f"{label}: expected a table")
    raw_name = table.get("name")
    if isinstance(raw_name, str) and raw_name.strip():
        label += f" ({raw_name.strip()!r})"
    values: dict[str, Any] = {}
    for key, raw in table.items():
        parse = _KEYS.get(key)
        if parse is None:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(str(path), f"{label}: unknown key {key!r} (known: {known})")
        try:
            values[key] = parse(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigError(str(path), f"{label}: key {key!r}: {exc}") from None
    for key in ("name", "url"):
        if key not in values:
            raise ConfigError(str(path), f"{label}: key {key!r} is required")
    return Source(
        name=values["name"],
        url=values["url"],
        interval=values.get("interval", DEFAULT_INTERVAL),
        category=values.get("category", values["name"]),
        tags=values.get("tags", ()),
        lang=values.get("lang"),
        timezone=values.get("timezone", timezone),
        enabled=values.get("enabled", True),
        include=values.get("include"),
        exclude=values.get("exclude"),
        limit=values.get("limit"),
        where=f"{path}, [[source]] #{number}",
    )


def check_url(value: object) -> str:
    """Only absolute http(s) URLs: anything else (file:, ftp:, relative) is refused."""
    text = _text(value)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {text!r} ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an absolute http or https URL, got {text!r}")
    return text


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected non-empty text, got {value!r}")
    return value.strip()


def _tags(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"expected a list of text, got {value!r}")
    return tuple(dict.fromkeys(_text(item) for item in items))


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _regex(value: object) -> str:
    text = _text(value)
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"bad regular expression {text!r}: {exc}") from None
    return text


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return value


def _zone(value: object) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _table_of(source: Source) -> str:
    table = source.where.rpartition(", ")[2]
    return f"{table} ({source.name!r})"


_KEYS: dict[str, Callable[[object], Any]] = {
    "name": _text,
    "url": check_url,
    "interval": parse_duration,
    "category": _text,
    "tags": _tags,
    "lang": _text,
    "timezone": _zone,
    "enabled": _bool,
    "include": _regex,
    "exclude": _regex,
    "limit": _limit,
}
