"""Bytes of an upstream feed -> text, trusting declarations only as far as the bytes agree.

The chain, written down:
1. a byte-order mark decides;
2. else the declared charsets (HTTP Content-Type, then the XML declaration), each tried
   strictly; a declared Latin-1/Windows-1252/ASCII is tried after UTF-8, because those accept
   any bytes and a UTF-8 body mislabelled that way (a common server default) would otherwise
   turn into mojibake;
3. else UTF-8, strictly;
4. else the encodings the feed's language suggests (a GBK feed "declared" UTF-8 usually says
   <language>zh-cn</language>), each tried strictly;
5. else charset-normalizer's guess among the encodings feeds really use;
6. else UTF-8 with replacement characters, and a warning.

feedparser has its own chain, but it falls back to Windows-1252, which decodes GBK into
garbage titles without complaint; so we decode first and hand it UTF-8.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_LANGUAGE = re.compile(
    rb"""<(?:\w+:)?language>\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)|xml:lang\s*=\s*["']([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)"""
)
# Encodings that decode any byte string: a strict decode proves nothing.
_PERMISSIVE = frozenset({"iso8859-1", "cp1252", "ascii"})
# Aliases as browsers treat them (WHATWG Encoding): the supersets decode everything the
# declared subset does, and feeds declaring the subset often contain the superset's bytes.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso8859-1": "cp1252"}
_BY_LANGUAGE = {
    "zh": ("gb18030", "big5"),
    "zh-tw": ("big5", "gb18030"),
    "zh-hk": ("big5", "gb18030"),
    "ja": ("shift_jis", "euc_jp"),
    "ko": ("euc_kr",),
    "ru": ("cp1251", "koi8_r"),
    "uk": ("cp1251", "koi8_u"),
    "bg": ("cp1251",),
    "el": ("cp1253",),
    "tr": ("cp1254",),
    "pl": ("cp1250",),
    "cs": ("cp1250",),
}
_DETECTABLE = [
    "gb18030", "big5", "shift_jis", "euc_jp", "euc_kr",
    "cp1252", "cp1251", "cp1250", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256",
]  # fmt: skip
# Looking at the first part is enough to guess, and keeps a 10 MiB body cheap.
_SNIFF = 64 * 1024


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the codec that decoded it, as Python names it
    warning: str | None = None


def decode_body(body: bytes, headers: Mapping[str, str], language: str | None = None) -> Decoded:
    """Decode a feed body; `headers` has lower-case names; `language` is a fallback hint."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(encoding, "replace"), encoding)
    declared = _declared(body, headers)
    for encoding in _attempts(declared):
        text = _strict(body, encoding)
        if text is not None:
            return Decoded(text, encoding, _mismatch(body, declared, encoding))
    for encoding in _by_language(_language(body) or language):
        text = _strict(body, encoding)
        if text is not None:
            return Decoded(text, encoding, _mismatch(body, declared, encoding))
    guess = charset_normalizer.from_bytes(body[:_SNIFF], cp_isolation=_DETECTABLE).best()
    if guess is not None:
        text = _strict(body, guess.encoding)
        if text is not None:
            return Decoded(text, guess.encoding, _mismatch(body, declared, guess.encoding))
    return Decoded(
        body.decode("utf-8", "replace"),
        "utf-8",
        "unknown character encoding; undecodable bytes replaced",
    )


def _declared(body: bytes, headers: Mapping[str, str]) -> list[str]:
    names = []
    charset = _CHARSET.search(headers.get("content-type", ""))
    if charset:
        names.append(charset.group(1))
    declaration = _XML_ENCODING.match(body[:1024])
    if declaration:
        names.append(declaration.group(1).decode("ascii"))
    known = []
    for name in names:
        encoding = _codec(name)
        if encoding and encoding not in known:
            known.append(encoding)
    return known


def _attempts(declared: list[str]) -> list[str]:
    attempts: list[str] = []
    for encoding in declared:
        if encoding in _PERMISSIVE and "utf-8" not in attempts:
            attempts.append("utf-8")
        attempts.append(_SUPERSETS.get(encoding, encoding))
    if "utf-8" not in attempts:
        attempts.append("utf-8")
    return list(dict.fromkeys(attempts))


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _language(body: bytes) -> str | None:
    match = _LANGUAGE.search(body[:_SNIFF])
    if not match:
        return None
    return (match.group(1) or match.group(2)).decode("ascii")


def _by_language(language: str | None) -> tuple[str, ...]:
    if not language:
        return ()
    tag = language.lower().replace("_", "-")
    return _BY_LANGUAGE.get(tag) or _BY_LANGUAGE.get(tag.split("-")[0], ())


def _mismatch(body: bytes, declared: list[str], used: str) -> str | None:
    used_name = _codec(used) or used
    if body.isascii() or not declared or used_name in declared:
        return None
    if _SUPERSETS.get(declared[0]) == used_name:
        return None
    return f"declared as {declared[0]}, but the bytes are {used_name}; decoded as {used_name}"
