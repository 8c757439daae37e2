"""decode_body: each link of the chain, as a table of named cases."""

from __future__ import annotations

import codecs

import pytest

from feeds.normalize.encoding import decode_body

CHINESE = "<rss><channel><title>你好世界</title></channel></rss>"
LONG_CHINESE = (
    "<rss><item><title>中国经济增长放缓，专家称明年将回暖，"
    "国家统计局今天公布的数据显示</title></item></rss>"
)
FRENCH = '<?xml version="1.0" encoding="iso-8859-1"?><rss><title>Café naïve résumé</title></rss>'
RUSSIAN = (
    "<rss><channel><title>Новости дня: экономика растёт быстрее прогнозов</title></channel></rss>"
)


@pytest.mark.parametrize(
    ("body", "headers", "language", "text", "encoding", "warns"),
    [
        pytest.param(
            codecs.BOM_UTF16_LE + CHINESE.encode("utf-16-le"),
            {},
            None,
            CHINESE,
            "utf-16-le",
            False,
            id="bom-decides",
        ),
        pytest.param(
            CHINESE.encode(),
            {"content-type": "text/xml"},
            None,
            CHINESE,
            "utf-8",
            False,
            id="undeclared-utf8",
        ),
        pytest.param(
            FRENCH.encode("latin-1"),
            {},
            None,
            FRENCH,
            "cp1252",
            False,
            id="declared-latin1-is-latin1",
        ),
        pytest.param(
            FRENCH.encode("utf-8"),
            {},
            None,
            FRENCH,
            "utf-8",
            True,
            id="declared-latin1-but-utf8",
        ),
        pytest.param(
            CHINESE.encode("gbk"),
            {"content-type": "application/xml; charset=GB2312"},
            None,
            CHINESE,
            "gb18030",
            False,
            id="gb2312-read-as-its-superset",
        ),
        pytest.param(
            CHINESE.encode("gbk"),
            {"content-type": "application/xml; charset=utf-8"},
            "zh-CN",
            CHINESE,
            "gb18030",
            True,
            id="gbk-declared-utf8-with-language-hint",
        ),
        pytest.param(
            LONG_CHINESE.encode("gbk"),
            {"content-type": "text/xml; charset=utf-8"},
            None,
            LONG_CHINESE,
            "gb18030",
            True,
            id="gbk-declared-utf8-detected",
        ),
        pytest.param(
            RUSSIAN.encode("cp1251"),
            {"content-type": "text/xml; charset=utf-8"},
            None,
            RUSSIAN,
            "cp1251",
            True,
            id="cp1251-declared-utf8-detected",
        ),
        pytest.param(
            b"<rss>caf\xc3\xa9</rss>",
            {"content-type": "text/xml; charset=no-such-codec"},
            None,
            "<rss>café</rss>",
            "utf-8",
            False,
            id="unknown-declared-charset-ignored",
        ),
    ],
)
def test_decode_body(
    body: bytes,
    headers: dict[str, str],
    language: str | None,
    text: str,
    encoding: str,
    warns: bool,
) -> None:
    decoded = decode_body(body, headers, language)
    assert decoded.text == text
    assert decoded.encoding == encoding
    assert (decoded.warning is not None) is warns
