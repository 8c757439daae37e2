"""The HTML Markdown makes of plain prose, made safe without parsing it again.

`sanitize_html` (content.py) parses the HTML it is given with html5ever and serializes what
it keeps: about 40% of rendering an article. When the Markdown has no `<` at all, it holds
no raw HTML, and the HTML the engine renders is its own: well nested, every attribute
value escaped, text escaped as &amp; &lt; &gt; &quot;. For such HTML made of the elements
below only, with absolute http(s) links of a plain shape (nh3 keeps them as they are),
sanitizing changes nothing but its spelling, which `made_safe` copies:
- void elements lose their slash (`<br />` -> `<br>`, `<img ... />` -> `<img ...>`);
- every link gets rel="noopener noreferrer" after its attributes;
- text writes `"` as itself and U+00A0 as &nbsp; (html5ever's serializer).
Anything else (a relative or odd URL, code, tables, other attributes, a control
character) gets None: the caller sanitizes it the full way. tests/test_markdown_html.py
holds the two to each other, on generated articles and on fuzzed Markdown.
"""

from __future__ import annotations

import re

# An absolute http(s) URL that nh3's parser (the WHATWG URL standard) accepts and our
# attribute filter keeps as it is (content._AS_IS): a lower-case host of letters, digits
# and hyphens whose last label starts with a letter (no IP address, no punycode to
# check), an optional short port, then only characters that need no escaping; `&` comes
# as the engine escapes it.
_URL = (
    r"https?://(?:(?!xn--)[a-z0-9][a-z0-9-]*\.)*(?!xn--)[a-z][a-z0-9-]*(?::[0-9]{1,4})?"
    r"(?:/(?:[A-Za-z0-9._~%!$'()*+,=:@/-]|&amp;)*+)?"
    r"(?:\?(?:[A-Za-z0-9._~%!$'()*+,=:@/?-]|&amp;)++)?"
    r"(?:#(?:[A-Za-z0-9._~%!$'()*+,=:@/?-]|&amp;)++)?"
)
# An alt or title text html5ever writes back as it is: no &lt; &gt; &quot; (it writes
# those characters differently in attributes), no U+00A0.
_TEXT = r'(?:[^"&<>\x00-\x1f\x7f-\x9f\xa0]|&amp;)*+'
_ELEMENT = (
    r"</?(?:p|h[1-6]|blockquote|ul|li|em|strong)>|</ol>|<ol(?: start=\"[0-9]{1,9}\")?>"
    r"|<br />|<hr />|</a>"
    rf'|<a href="{_URL}"(?: title="{_TEXT}")?>'
    rf'|<img src="{_URL}" alt="{_TEXT}"(?: title="{_TEXT}")? />'
)
# The whole text: runs of characters (no markup, no control character but newline, no
# surrogate or noncharacter html5ever might treat on its own), the engine's four escapes,
# the elements above.
# Possessive: where the text is not all of this, a plain `*` would try every other way to
# split its runs before saying so (exponential).
_KNOWN = re.compile(
    r"(?:[^<>&\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]++"
    rf"|&(?:amp|lt|gt|quot);|{_ELEMENT})*+"
)
_LINK_END = re.compile(r'(<a href="[^"]*"(?: title="[^"]*")?)>')


def made_safe(markdown: str, html: str) -> str | None:
    """What sanitize_html(html, base) returns for `html` rendered from `markdown` (for any
    base: the links are absolute), or None when that takes the full way."""
    if "<" in markdown or not _KNOWN.fullmatch(html):
        return None
    safe = html.replace(" />", ">").replace("&quot;", '"').replace("\xa0", "&nbsp;")
    if "<a " in safe:
        safe = _LINK_END.sub(r'\1 rel="noopener noreferrer">', safe)
    return safe
