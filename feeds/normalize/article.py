"""One article of seeds/ (Hugo-style YAML front matter + Markdown) -> one `Entry`.

Fallbacks, written down:
- no `[name](url)` line at the end: no link and no source name (nothing is invented);
- `lastmod` absent: updated = the file's modification time (never before `date`);
- `lang` a list: its first value; `categories`/`tags` a single string: a one-item list;
- `thumbnail` empty: none; protocol-relative: https.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from feeds.errors import ArticleError
from feeds.model import Entry
from feeds.normalize import front_matter
from feeds.normalize.content import plain_text, render_markdown, xml_clean, xml_safe
from feeds.normalize.dates import parse_date
from feeds.normalize.identity import seed_id
from feeds.normalize.simple_yaml import load_simple

_TRAILING_LINK = re.compile(r"^\[([^\]\n]+)\]\((\S+?)\)\s*$")
_KNOWN_KEYS = frozenset(
    {"title", "date", "lastmod", "summary", "categories", "tags", "lang", "thumbnail", "draft"}
)


@dataclass(frozen=True, slots=True)
class Article:
    """What the front matter says, before Markdown is rendered."""

    entry: Entry  # with content_html empty
    body: str


class Draft(Exception):
    """The article has `draft: true`: skipped, not an error."""


def read_article(
    name: str, data: bytes, base_url: str, zone: tzinfo, modified: datetime | None = None
) -> Entry:
    """Parse and render one article; `name` is its path relative to seeds/."""
    return render_article(parse_article(name, data, base_url, zone, modified))


def render_article(article: Article) -> Entry:
    html = render_markdown(article.body, article.entry.link)
    return article.entry.with_content(html)


def parse_article(
    name: str, data: bytes, base_url: str, zone: tzinfo, modified: datetime | None = None
) -> Article:
    """Front matter only; raises ArticleError (naming `name`) or Draft.

    `modified` is the file's modification time: without `lastmod` it is the entry's
    `updated`, so editing an article bumps it (never before `date`).
    """
    if not data.strip():
        raise ArticleError(name, "empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(name, f"not UTF-8 (byte {exc.start}: {exc.reason})") from None
    meta, body = _split(name, text)
    if meta.get("draft") is True:
        raise Draft(name)
    title = _title(name, meta.get("title"))
    published = _date(name, meta, "date", zone)
    updated = _date(name, meta, "lastmod", zone) if meta.get("lastmod") else modified
    link, source = _trailing_link(body)
    entry = Entry(
        id=article_id(name, base_url),
        title=title,
        published=published,
        updated=max(updated or published, published),
        summary=_optional_text(meta.get("summary")),
        link=link,
        categories=_terms(name, meta, "categories"),
        tags=_terms(name, meta, "tags"),
        language=_language(meta.get("lang")),
        thumbnail=_thumbnail(meta.get("thumbnail")),
        source_name=source,
        origin="seed:" + name,
    )
    # XML-safe from the start (a control character in a file name or a language, say): the
    # article cache keeps entries as they are here, and the plan need not check them again.
    return Article(entry=xml_safe(entry), body=body)


def article_id(name: str, base_url: str) -> str:
    """The entry id of the article `name` (relative to seeds/): its file name's stem."""
    return seed_id(base_url, name.rsplit("/", 1)[-1].rsplit(".", 1)[0])


def _title(name: str, value: object) -> str:
    if isinstance(value, list | dict):
        raise ArticleError(name, "title must be text, not a list or mapping")
    title = plain_text(str(value)) if value is not None else ""
    if not title:
        raise ArticleError(name, "no title in the front matter")
    return title


def _split(name: str, text: str) -> tuple[dict[str, Any], str]:
    if not text.lstrip().startswith("---"):
        raise ArticleError(name, "no front matter (the file must start with '---')")
    parts = front_matter.split(text)
    if parts is not None:
        simple = load_simple(parts[0])
        if simple is not None:  # the seeds' plain shape (never empty)
            return simple, parts[1]
    meta, body = _parse_fully(name, text)
    if not isinstance(meta, dict) or not meta:
        raise ArticleError(name, "front matter is empty, not a mapping, or not closed by '---'")
    return meta, body


def _parse_fully(name: str, text: str) -> tuple[Any, str]:
    """python-frontmatter with libyaml's safe loader (several times faster than pure
    Python), for front matter simple_yaml does not read."""
    import frontmatter  # local: with PyYAML, 25 ms to load (normalize/front_matter.py)
    import yaml

    try:
        return frontmatter.parse(text, handler=_handler())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # The YAML text python-frontmatter hands over starts right after the opening
        # '---' (its line 0 is the rest of that line), after any blank lines it stripped.
        opening = text[: len(text) - len(text.lstrip())].count("\n") + 1
        where = f"{name}:{opening + mark.line}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise ArticleError(where, f"broken YAML front matter: {problem}") from None


@lru_cache(maxsize=1)
def _handler() -> Any:
    import yaml
    from frontmatter.default_handlers import YAMLHandler

    class FastYAML(YAMLHandler):
        def load(self, fm: str, **kwargs: object) -> Any:
            kwargs.setdefault("Loader", getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            return super().load(fm, **kwargs)

    return FastYAML()


def _date(name: str, meta: dict[str, Any], key: str, zone: tzinfo) -> Any:
    value = meta.get(key)
    if value is None or value == "":
        raise ArticleError(name, f"no {key} in the front matter")
    try:
        return parse_date(value, zone)
    except ValueError:
        raise ArticleError(name, f"unparseable {key}: {value!r}") from None


def _optional_text(value: object) -> str | None:
    text = plain_text(str(value)) if value is not None else ""
    return text or None


def _terms(name: str, meta: dict[str, Any], key: str) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str | int | float) else value
    if not isinstance(items, list):
        raise ArticleError(name, f"{key} must be a list of names")
    # One spelling per term ("Nvidia", "NVIDIA" are one tag, as in plan.term_key): the first.
    seen: dict[str, str] = {}
    for item in items:
        if item is not None:
            text, key = _spelling(str(item))
            if key:
                seen.setdefault(key, text)
    return tuple(seen.values())


@lru_cache(maxsize=4096)
def _spelling(item: str) -> tuple[str, str]:
    """(the term as published, its key); cached: articles spell the same terms again."""
    text = " ".join(xml_clean(item).split())
    return text, " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _language(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


def _thumbnail(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    return "https:" + text if text.startswith("//") else text


def _trailing_link(body: str) -> tuple[str | None, str | None]:
    text = body.rstrip()
    if not text:
        return None, None
    # The last of text.splitlines(), without splitting the whole body: it lies after the
    # last "\n", and within that, after any other line boundary splitlines() knows.
    last = text[text.rfind("\n") + 1 :].splitlines()[-1]
    match = _TRAILING_LINK.match(last.strip())
    if not match:
        return None, None
    url = match.group(2)
    if url.startswith("//"):
        url = "https:" + url
    if not url.startswith(("http://", "https://")):
        return None, None
    return xml_clean(url), plain_text(match.group(1)) or None
