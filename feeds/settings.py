"""Settings in one table: name, default, help and parser. The config loader, the CLI and
the README test all read `SETTINGS`.

`feeds.toml` (or `--config FILE`) holds these keys at its top level. Command-line options win
over the file, the file over the defaults. Unknown keys and bad values are `ConfigError`s that
name the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.errors import ConfigError

FORMATS = ("atom", "rss", "json")
DEFAULT_CONFIG = "feeds.toml"


def parse_duration(value: object) -> int:
    """'30m', '2h', '45s', '1d' or a number of seconds -> seconds (positive)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30m'")
    if isinstance(value, int | float):
        seconds = int(value)
    else:
        match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", str(value))
        if not match:
            raise ValueError(f"expected a duration such as '30m', got {value!r}")
        unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
        seconds = int(match.group(1)) * unit
    if seconds <= 0:
        raise ValueError("must be positive")
    return seconds


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected non-empty text")
    return value.strip()


def _base_url(value: object) -> str:
    text = _text(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an absolute http(s) URL, got {text!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"expected a URL without ?query or #fragment, got {text!r}")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ValueError(f"bad port in {text!r}") from None
    # Every feed URL, id and link starts with this: spaces and non-ASCII letters in the path
    # are percent-encoded once here (already-encoded %XX stay), the host goes to IDNA.
    netloc = parts.netloc
    if not netloc.isascii():
        port = f":{parts.port}" if parts.port else ""
        netloc = parts.hostname.encode("idna").decode("ascii") + port
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    return urlunsplit((parts.scheme, netloc, path if path.endswith("/") else path + "/", "", ""))


def _timezone(value: object) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return value


def _formats(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError("expected a list of formats")
    chosen: list[str] = []
    for item in items:
        name = str(item).strip().lower()
        if name not in FORMATS:
            raise ValueError(f"unknown format {item!r} (known: {', '.join(FORMATS)})")
        if name not in chosen:
            chosen.append(name)
    return tuple(sorted(chosen, key=FORMATS.index))


def _path(value: object) -> Path:
    # click hands --out and friends over as Path objects, the TOML file as text.
    return Path(_text(str(value) if isinstance(value, Path) else value))


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[object], Any]


SETTINGS: tuple[Setting, ...] = (
    Setting("title", "feeds", "Site title, used in every feed title.", _text),
    Setting("base_url", "http://127.0.0.1:8080/", "Absolute URL where out/ is served.", _base_url),
    Setting("timezone", "Asia/Shanghai", "Zone for dates that carry none.", _timezone),
    Setting("limit", 50, "Entries per feed (newest first).", _positive_int),
    Setting("formats", FORMATS, "Formats to write: atom, rss, json.", _formats),
    Setting("seeds", Path("seeds"), "Folder of Markdown articles.", _path),
    Setting("sources", Path("sources"), "Folder of upstream definitions (*.toml).", _path),
    Setting("out", Path("out"), "Output folder.", _path),
    Setting("store", Path(".feeds/state.db"), "SQLite store (outside out/).", _path),
    Setting("concurrency", 16, "Upstream polls at once.", _positive_int),
    Setting("per_host", 2, "Upstream polls at once per host.", _positive_int),
    Setting("connect_timeout", 10, "Seconds to connect to an upstream.", parse_duration),
    Setting("timeout", 30, "Seconds for a whole upstream poll.", parse_duration),
    Setting("max_body", 10 * 1024 * 1024, "Largest upstream body, in bytes.", _positive_int),
    Setting(
        "retention_days",
        90,
        "Days an upstream entry stays after its feed stopped listing it.",
        _positive_int,
    ),
    Setting("retention_entries", 1000, "Entries kept per upstream source.", _positive_int),
    Setting(
        "check_interval",
        2,
        "Seconds between checks of seeds/ by `feeds run` when it cannot be watched.",
        parse_duration,
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    title: str
    base_url: str
    timezone: str
    limit: int
    formats: tuple[str, ...]
    seeds: Path
    sources: Path
    out: Path
    store: Path
    concurrency: int
    per_host: int
    connect_timeout: int
    timeout: int
    max_body: int
    retention_days: int
    retention_entries: int
    check_interval: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def with_values(self, where: str, values: Mapping[str, object]) -> Settings:
        """A copy with `values` parsed and applied; errors name `where` and the key."""
        return replace(self, **parse_values(where, values))


def parse_values(where: str, values: Mapping[str, object]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, raw in values.items():
        setting = _BY_NAME.get(key)
        if setting is None:
            raise ConfigError(where, f"unknown key {key!r}")
        try:
            parsed[key] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(where, f"key {key!r}: {exc}") from None
    return parsed


def defaults() -> Settings:
    return Settings(**{setting.name: setting.default for setting in SETTINGS})


def load(config: Path | None = None, overrides: Mapping[str, object] | None = None) -> Settings:
    """Defaults, then `config` (or ./feeds.toml when present), then `overrides`."""
    settings = defaults()
    path = config if config is not None else Path(DEFAULT_CONFIG)
    if config is not None or path.is_file():
        settings = settings.with_values(str(path), read_toml(path))
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    return settings.with_values("command line", given)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "no such file") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), str(exc)) from None


assert {f.name for f in fields(Settings)} == set(_BY_NAME), "SETTINGS and Settings disagree"
