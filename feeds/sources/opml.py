"""OPML subscription lists in and out of the catalog.

Import reads `<outline xmlUrl=...>` elements (a parent outline without a URL is a folder and
becomes the category) and appends `[[source]]` tables to sources/imported.toml, skipping
URLs already declared. Export writes OPML 2.0 of the enabled sources, one folder per
category. Entity declarations are refused outright: an OPML file has no use for them,
and that closes the door on entity-expansion bombs and external entities.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from feeds.errors import ConfigError
from feeds.model import Source
from feeds.normalize.identity import canonical_link
from feeds.sources.catalog import Catalog, check_url

IMPORT_FILE = "imported.toml"


@dataclass(frozen=True, slots=True)
class Subscription:
    name: str
    url: str
    category: str | None


@dataclass
class ImportReport:
    path: Path
    added: list[Subscription] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


def read_opml(data: bytes, where: str) -> list[Subscription]:
    """Every feed outline of an OPML document, in document order."""
    if b"<!ENTITY" in data.upper():
        raise ConfigError(where, "entity declarations are not allowed in OPML")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no entities can reach the parser (above)
    except ET.ParseError as exc:
        raise ConfigError(where, f"not well-formed XML: {exc}") from None
    if root.tag != "opml" or root.find("body") is None:
        raise ConfigError(where, "not an OPML document (no <opml><body>)")
    body = root.find("body")
    assert body is not None
    return list(_outlines(body, None))


def _outlines(parent: ET.Element, folder: str | None) -> Iterator[Subscription]:
    for outline in parent.findall("outline"):
        label = (outline.get("text") or outline.get("title") or "").strip()
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            yield Subscription(label or url, url, folder)
        # An outline without a feed URL is a folder: its label is the category inside it.
        yield from _outlines(outline, folder if url else (label or folder))


def import_opml(opml: Path, folder: Path, catalog: Catalog) -> ImportReport:
    """Append the OPML file's new feeds to folder/imported.toml; report what was skipped."""
    try:
        data = opml.read_bytes()
    except OSError as exc:
        raise ConfigError(str(opml), f"cannot read: {exc.strerror or exc}") from None
    report = ImportReport(folder / IMPORT_FILE)
    known = {canonical_link(source.url) for source in catalog.sources}
    names = {source.name.casefold() for source in catalog.sources}
    for item in read_opml(data, str(opml)):
        try:
            url = check_url(item.url)
        except ValueError as exc:
            report.skipped.append((item.url, str(exc)))
            continue
        if canonical_link(url) in known:
            report.skipped.append((url, "already declared"))
            continue
        known.add(canonical_link(url))
        name = _unique(item.name, names)
        names.add(name.casefold())
        report.added.append(Subscription(name, url, item.category))
    if report.added:
        _append(report.path, "".join(_table(item) for item in report.added))
    return report


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate.casefold() in taken:
        candidate = f"{name} ({number})"
        number += 1
    return candidate


def _toml_string(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also forbids raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _table(item: Subscription) -> str:
    lines = [
        "",
        "[[source]]",
        f"name = {_toml_string(item.name)}",
        f"url = {_toml_string(item.url)}",
    ]
    if item.category:
        lines.append(f"category = {_toml_string(item.category)}")
    return "\n".join(lines) + "\n"


def _append(path: Path, text: str) -> None:
    """Rewrite the file with `text` appended, atomically (temporary file, then rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        old = path.read_text(encoding="utf-8") if path.exists() else _HEADER
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".import-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(old.rstrip("\n") + "\n" + text)
        Path(temporary).replace(path)
    except OSError as exc:
        raise ConfigError(str(path), f"cannot write: {exc.strerror or exc}") from None


_HEADER = "# Sources added by `feeds sources import`; edit freely.\n"


def export_opml(sources: Sequence[Source], title: str) -> bytes:
    """OPML 2.0 of `sources`, one folder outline per category (none when it is the name)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for source in sources:
        parent = body
        if source.category and source.category != source.name:
            parent = folders.get(source.category) or ET.SubElement(
                body, "outline", text=source.category, title=source.category
            )
            folders[source.category] = parent
        ET.SubElement(
            parent, "outline", type="rss", text=source.name, title=source.name, xmlUrl=source.url
        )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
