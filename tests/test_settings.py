"""Settings: one table read by the loader, the CLI and the README (checked here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from feeds.errors import ConfigError
from feeds.settings import SETTINGS, defaults, load, parse_duration

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_rows() -> dict[str, tuple[str, str]]:
    """key -> (default, meaning) from the table between the <!-- settings --> markers."""
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- settings -->", 1)[1].split("<!-- /settings -->", 1)[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        key, default, meaning = (cell.strip() for cell in line.strip("|").split("|"))
        rows[key.strip("`")] = (default.strip("`"), meaning)
    return rows


def shown(default: object) -> str:
    if isinstance(default, tuple):
        return json.dumps(list(default))
    return str(default)


def test_readme_lists_every_setting_with_its_default_and_help() -> None:
    rows = readme_rows()
    assert list(rows) == [setting.name for setting in SETTINGS]
    for setting in SETTINGS:
        assert rows[setting.name] == (shown(setting.default), setting.help), setting.name


def test_defaults_run_with_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no feeds.toml here
    settings = load()
    assert settings == defaults()
    assert settings.base_url == "http://127.0.0.1:8080/"
    assert settings.timezone == "Asia/Shanghai" and settings.limit == 50
    assert settings.formats == ("atom", "rss", "json")


def test_file_then_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("feeds.toml").write_text('title = "From file"\nlimit = 5\n', encoding="utf-8")
    settings = load(None, {"limit": 7, "out": tmp_path / "public", "base_url": None})
    assert (settings.title, settings.limit, settings.out) == ("From file", 7, tmp_path / "public")
    assert settings.base_url == "http://127.0.0.1:8080/"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('titel = "x"', "unknown key 'titel'"),
        ("limit = 0", "key 'limit'"),
        ('limit = "5"', "key 'limit'"),
        ('timezone = "Mars/Olympus"', "unknown time zone"),
        ('base_url = "ftp://x/"', "key 'base_url'"),
        ('base_url = "http://x/?a=1"', "without ?query"),
        ('base_url = "http://x:99999/"', "bad port"),
        ('formats = ["atom", "gopher"]', "unknown format 'gopher'"),
        ("formats = []", "key 'formats'"),
        ('title = "  "', "key 'title'"),
        ('timeout = "soon"', "key 'timeout'"),
        ("title = ", "Invalid value"),  # TOML syntax
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, problem: str) -> None:
    config = tmp_path / "site.toml"
    config.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(config)
    assert str(caught.value).startswith(f"{config}: ")
    assert problem in str(caught.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("https://example.org/feeds", "https://example.org/feeds/"),
        ("https://example.org/my feeds/", "https://example.org/my%20feeds/"),
        ("https://example.org/a%20b/", "https://example.org/a%20b/"),
        ("https://example.org/新闻/", "https://example.org/%E6%96%B0%E9%97%BB/"),
        ("http://例子.测试:8080/", "http://xn--fsqu00a.xn--0zwm56d:8080/"),
    ],
)
def test_base_url_is_normalized_once(given: str, expected: str) -> None:
    assert defaults().with_values("test", {"base_url": given}).base_url == expected


def test_formats_are_deduplicated_in_canonical_order() -> None:
    settings = defaults().with_values("test", {"formats": ["JSON", "atom", "json"]})
    assert settings.formats == ("atom", "json")


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("2h", 7200), ("45", 45), (90, 90)])
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_folders_accept_paths_and_text() -> None:
    settings = defaults().with_values("test", {"out": Path("a/b"), "seeds": "s"})
    assert (settings.out, settings.seeds) == (Path("a/b"), Path("s"))


def test_every_setting_has_help_and_a_default_its_parser_accepts() -> None:
    for setting in SETTINGS:
        assert setting.help.endswith(".") and re.fullmatch(r"[a-z_]+", setting.name)
        setting.parse(
            str(setting.default) if isinstance(setting.default, Path) else setting.default
        )
