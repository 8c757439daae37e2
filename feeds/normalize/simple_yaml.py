"""Front matter in the shape the seeds are written in, parsed without PyYAML's machinery.

PyYAML's C scanner is fast, but it builds every value through Python-level composer and
constructor code: about 140 µs for a seed's front matter, the largest cost of reading an
article once Markdown is fast. The seeds (and make_corpus.py) write a plain subset:

    title: "Text"          key: "double-quoted text" (escapes: \" and \\ only)
    comments: false        key: true | false | True | False | TRUE | FALSE
    menu: ""               key:                (nothing: null)
    tags:                  key:  followed by items "- <scalar>" at one indentation
      - "AI"               where a scalar is double-quoted, or plain text that starts
      - Editor's Pick      with a letter and cannot be read as anything else

`load_simple` returns exactly what yaml.load(text, SafeLoader) returns for such text, and
None for anything else (comments, single quotes, escapes, flow collections, anchors,
numbers, dates, nesting, tabs, odd characters), which then goes to PyYAML.
tests/test_simple_yaml.py holds the two to each other.
"""

from __future__ import annotations

import re
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\["\\])*)"')  # escapes: \" and \\ only
_ESCAPE = re.compile(r'\\(["\\])')
# Plain scalars YAML resolves to something other than a string (PyYAML's resolver): the
# letter-led ones are booleans and nulls; anything led by another character is refused.
_BOOLEANS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_BOOLEANS["FALSE"] = False
_NOT_STRINGS = {"yes", "no", "on", "off", "null", "y", "n", "true", "false", "nan", "inf"}
# Characters PyYAML's reader refuses, and line breaks other than "\n" (YAML has five): the
# complement of what it accepts, written out (the negated class of astral ranges took
# 4 ms to compile, on every start).
_ODD = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ODD_LINE_BREAKS = ("\u2028", "\u2029", "\ufeff")  # and the byte order mark


# The lines nearly every seed is made of, matched by one scan of the text: `key: "text"`
# (no escapes), `key: true`, `key:` (a list follows), `  - "item"`, blank. Anything else
# goes through the general reading below (about 5 times slower, per line in Python).
_COMMON_LINE = re.compile(
    r"(?:(?P<key>[A-Za-z_][A-Za-z0-9_-]*):"
    r'(?:[ ]+(?:"(?P<quoted>[^"\\\n]*)"|(?P<flag>true|True|TRUE|false|False|FALSE))[ ]*)?'
    r'|(?P<indent>[ ]*)-[ ]+"(?P<item>[^"\\\n]*)"[ ]*'
    r"|[ ]*)\n"
)


def load_simple(text: str) -> dict[str, Any] | None:
    """The mapping `text` holds, or None when it is not in the simple subset."""
    if _ODD.search(text) or any(mark in text for mark in _ODD_LINE_BREAKS):
        return None
    common = _load_common(text if text.endswith("\n") else text + "\n")
    return _load_general(text) if common is None else common


def _load_common(text: str) -> dict[str, Any] | None:
    """load_simple for text made of _COMMON_LINE lines only; None for any other text."""
    result: dict[str, Any] = {}
    items: list[Any] | None = None  # the list being filled, under the last key
    indent: int | None = None
    position = 0
    for line in _COMMON_LINE.finditer(text):
        if line.start() != position:
            return None
        position = line.end()
        key, quoted, flag, spaces, item = line.group("key", "quoted", "flag", "indent", "item")
        if item is not None:
            if items is None or (indent is not None and len(spaces) != indent):
                return None
            indent = len(spaces)
            items.append(item)
        elif key is not None:
            if key.lower() in _NOT_STRINGS or (items is not None and not items):
                return None
            if quoted is None and flag is None:
                items, indent = [], None
                result[key] = items
            else:
                items, indent = None, None
                result[key] = quoted if flag is None else _BOOLEANS[flag]
    if position != len(text) or (items is not None and not items) or not result:
        return None
    return result


def _load_general(text: str) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    items: list[Any] | None = None  # the list being filled, under the last key
    indent: int | None = None
    # String methods rather than a regex per line: this runs once per article.
    for line in text.split("\n"):
        if not line.strip():
            continue
        body = line.lstrip(" ")
        if body[:2] == "- ":  # an item: ( *)- +(.*?) *$
            if items is None or (indent is not None and len(line) - len(body) != indent):
                return None
            indent = len(line) - len(body)
            value = _scalar(body[2:].strip(" "), in_list=True)
            if value is _REFUSED:
                return None
            items.append(value)
            continue
        name, colon, rest = line.partition(":")  # a key: ([A-Za-z_][A-Za-z0-9_-]*):( +.*)?
        if body is not line or not colon or not _NAME.fullmatch(name):
            return None
        if name.lower() in _NOT_STRINGS or (items is not None and not items):
            return None  # (a "key:" then another key is null, rare enough for PyYAML)
        if not rest:
            items, indent = [], None
            result[name] = items
            continue
        value = _scalar(rest.strip(" "), in_list=False) if rest[0] == " " else _REFUSED
        if value is _REFUSED:
            return None
        items, indent = None, None
        result[name] = value
    if items is not None and not items:
        return None
    return result or None


_REFUSED = object()


def _scalar(raw: str, *, in_list: bool) -> Any:
    if raw[:1] == '"' and raw[-1:] == '"' and len(raw) > 1:
        inner = raw[1:-1]
        if '"' not in inner and "\\" not in inner:
            return inner
    quoted = _QUOTED.fullmatch(raw)
    if quoted is not None:
        content = quoted.group(1)
        return _ESCAPE.sub(r"\1", content) if "\\" in content else content
    if raw in _BOOLEANS and not in_list:
        return _BOOLEANS[raw]
    if not raw[:1].isalpha() or raw.lower() in _NOT_STRINGS:
        return _REFUSED
    # A plain scalar ends at " #" (a comment) and cannot hold ": " (a mapping) or start a
    # quote; some characters have meanings we leave to PyYAML.
    if " #" in raw or ": " in raw or raw.endswith(":") or any(c in raw for c in "\"'\\\t"):
        return _REFUSED
    return raw
