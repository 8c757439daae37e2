"""`feeds serve` answers like a careful static host: a real uvicorn on a loopback port
serving a real build of the seeds; paths that try to leave out/ are sent byte for byte."""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import SEEDS
from tests.site_server import CHINESE_TAG, Site, build_site, get_raw, raw_request, running

IDENTITY = {"Accept-Encoding": "identity"}
SECRET = b"top secret, outside out/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One served build for the tests that only read (each test that writes gets its own)."""
    with _served(tmp_path_factory.mktemp("site")) as served:
        yield served


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[Site]:
    with _served(tmp_path) as served:
        yield served


@contextmanager
def _served(root: Path) -> Iterator[Site]:
    seeds = root / "seeds"
    seeds.mkdir()
    for article in SEEDS.iterdir():
        (seeds / article.name).write_bytes(article.read_bytes())
    built = build_site(root, seeds)
    (root / "secret.txt").write_bytes(SECRET)
    with running(built, max_age=900) as served:
        yield served


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=5) as session:
        yield session


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/tags/qq/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/categories/qq/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/tags/qq/", "text/html; charset=utf-8"),
        ("/feed.xsl", "text/xsl; charset=utf-8"),
    ],
)
def test_each_file_has_its_exact_content_type(
    client: httpx.Client, site: Site, path: str, expected: str
) -> None:
    response = client.get(path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    on_disk = site.out / (path.strip("/") or "index.html")
    if on_disk.is_dir():
        on_disk = on_disk / "index.html"
    assert response.content == on_disk.read_bytes()


def test_validators_and_caching_headers(client: httpx.Client, site: Site) -> None:
    response = client.get("/tags/qq/atom.xml", headers=IDENTITY)
    data = (site.out / "tags/qq/atom.xml").read_bytes()
    assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    mtime = os.stat(site.out / "tags/qq/atom.xml").st_mtime
    assert response.headers["last-modified"] == formatdate(mtime, usegmt=True)
    assert response.headers["cache-control"] == "public, max-age=900"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-length"] == str(len(data))


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.8"


@pytest.mark.parametrize("path", ["/atom.xml", "/tags/qq/rss.xml"])
def test_a_browser_gets_a_feed_as_xml_so_it_applies_the_stylesheet(
    client: httpx.Client, path: str
) -> None:
    exact = client.get(path, headers={**IDENTITY, "Accept": READER_ACCEPT})
    assert exact.headers["content-type"].startswith(("application/atom+xml", "application/rss"))
    browser = client.get(path, headers={**IDENTITY, "Accept": BROWSER_ACCEPT})
    assert browser.headers["content-type"] == "application/xml; charset=utf-8"
    assert browser.content == exact.content
    assert browser.headers["etag"] == exact.headers["etag"][:-1] + '-xml"'
    assert browser.headers["vary"] == "Accept, Accept-Encoding"
    again = client.get(
        path,
        headers={**IDENTITY, "Accept": BROWSER_ACCEPT, "If-None-Match": browser.headers["etag"]},
    )
    assert again.status_code == 304
    json_feed = client.get("/feed.json", headers={"Accept": BROWSER_ACCEPT})
    assert json_feed.headers["content-type"] == "application/feed+json; charset=utf-8"


def test_cors_is_for_feeds_not_pages(client: httpx.Client) -> None:
    assert client.get("/feed.json").headers["access-control-allow-origin"] == "*"
    assert client.get("/feeds.opml").headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in client.get("/").headers


def test_if_none_match_gives_304_without_a_body(client: httpx.Client) -> None:
    first = client.get("/rss.xml", headers=IDENTITY)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = client.get("/rss.xml", headers={**IDENTITY, "If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=900"
    changed = client.get("/rss.xml", headers={**IDENTITY, "If-None-Match": '"other"'})
    assert changed.status_code == 200
    assert changed.content == first.content


def test_if_modified_since_gives_304_and_if_none_match_wins(client: httpx.Client) -> None:
    first = client.get("/atom.xml", headers=IDENTITY)
    modified = first.headers["last-modified"]
    assert client.get("/atom.xml", headers={"If-Modified-Since": modified}).status_code == 304
    older = formatdate(0, usegmt=True)
    assert client.get("/atom.xml", headers={"If-Modified-Since": older}).status_code == 200
    garbage = client.get("/atom.xml", headers={"If-Modified-Since": "yesterday-ish"})
    assert garbage.status_code == 200
    # A stale tag beats a fresh date: the client's copy is not ours (RFC 9110 13.2.2).
    both = client.get(
        "/atom.xml", headers={"If-None-Match": '"old"', "If-Modified-Since": modified}
    )
    assert both.status_code == 200


def test_a_rewritten_file_gets_new_validators(fresh_site: Site) -> None:
    path = fresh_site.out / "tags/qq/rss.xml"
    with httpx.Client(base_url=fresh_site.url, timeout=5) as client:
        first = client.get("/tags/qq/rss.xml", headers=IDENTITY)
        path.write_bytes(path.read_bytes().replace(b"</channel>", b"<!-- new --></channel>"))
        os.utime(path, (2_000_000_000, 2_000_000_000))
        second = client.get(
            "/tags/qq/rss.xml", headers={**IDENTITY, "If-None-Match": first.headers["etag"]}
        )
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert second.headers["last-modified"] == formatdate(2_000_000_000, usegmt=True)
    assert b"<!-- new -->" in second.content


def test_head_has_the_get_headers_and_no_body(site: Site) -> None:
    get = raw_request(site.port, _request("GET", "/atom.xml"))[1]
    head = raw_request(site.port, _request("HEAD", "/atom.xml"))[1]
    get_headers, _, get_body = get.partition(b"\r\n\r\n")
    head_headers, _, head_body = head.partition(b"\r\n\r\n")
    assert head_body == b""
    assert len(get_body) == len((site.out / "atom.xml").read_bytes())
    assert _header(head_headers, b"content-length") == str(len(get_body)).encode()
    assert _header(head_headers, b"etag") == _header(get_headers, b"etag")
    assert _header(head_headers, b"content-type") == b"application/atom+xml; charset=utf-8"


def test_gzip_only_when_asked_and_with_its_own_etag(client: httpx.Client, site: Site) -> None:
    data = (site.out / "atom.xml").read_bytes()
    plain = client.get("/atom.xml", headers=IDENTITY)
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept, Accept-Encoding"
    with client.stream("GET", "/atom.xml", headers={"Accept-Encoding": "gzip"}) as zipped:
        raw = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["vary"] == "Accept, Accept-Encoding"
        assert zipped.headers["content-length"] == str(len(raw))
        gzip_etag = zipped.headers["etag"]
    assert gzip.decompress(raw) == data
    assert len(raw) < len(data)
    assert gzip_etag != plain.headers["etag"]
    refused = client.get("/atom.xml", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers
    # Either tag revalidates: the client holds the current bytes in one encoding or the other.
    for tag in (gzip_etag, plain.headers["etag"]):
        again = client.get("/atom.xml", headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
        assert again.status_code == 304
        assert again.headers["etag"] == gzip_etag


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/tags/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/tags/%2e%2e/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",
        "/tags/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/tags\\..\\..\\secret.txt",
        "/%00",
        "/atom.xml%00.html",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "http://127.0.0.1/../secret.txt",
        "/.feeds-manifest.json",
        "/%2efeeds-manifest.json",
        "/tags/./qq/atom.xml",
        "/tags/",
        "/categories",
        "/atom.xml/",
    ],
)
def test_nothing_outside_out_or_hidden_is_served(site: Site, target: str) -> None:
    status, data = get_raw(site.port, target)
    if target == "/categories":
        assert status == 301  # a folder without its slash redirects, never lists
        assert b"location: /categories/\r\n" in data.lower()
        status, data = get_raw(site.port, "/categories/")
    assert status == 404, (target, data[:300])
    assert SECRET not in data
    assert b"root:" not in data
    assert b"feeds-manifest" not in data.split(b"\r\n\r\n", 1)[1]


def test_dotfiles_temp_files_and_symlinks_out_are_404(fresh_site: Site, tmp_path: Path) -> None:
    site = fresh_site
    out = site.out
    (out / ".tmp-abc123.xml").write_bytes(b"half a feed")
    (out / "tags" / ".hidden").write_bytes(b"hidden")
    (out / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (out / "leakdir").symlink_to(tmp_path)
    (out / "manifest-alias.json").symlink_to(out / ".feeds-manifest.json")
    (out / "alias.xml").symlink_to(out / "atom.xml")
    for target in (
        "/.tmp-abc123.xml",
        "/tags/.hidden",
        "/leak.txt",
        "/leakdir/secret.txt",
        "/leakdir/",
        "/manifest-alias.json",
        "/.feeds-manifest.json",
    ):
        status, data = get_raw(site.port, target)
        assert status == 404, target
        assert SECRET not in data and b"half a feed" not in data
    # A link that stays inside out/ is an ordinary file.
    status, data = get_raw(site.port, "/alias.xml")
    assert status == 200
    assert data.endswith((out / "atom.xml").read_bytes())


def test_store_inside_out_is_never_served(tmp_path: Path, seeds_copy: Path) -> None:
    built = build_site(tmp_path, seeds_copy, store_inside_out=True)
    store = built.settings.store
    store.write_bytes(b"SQLite format 3\x00 pretend")
    store.with_name(store.name + "-wal").write_bytes(b"wal")
    store.with_name(store.name + ".lock").write_bytes(b"lock")
    with running(built) as served:
        for suffix in ("", "-wal", ".lock"):
            assert get_raw(served.port, f"/{store.name}{suffix}")[0] == 404
        assert get_raw(served.port, "/atom.xml")[0] == 200


def test_folders_redirect_to_their_slash_and_serve_their_index(
    client: httpx.Client, site: Site
) -> None:
    moved = client.get("/tags/qq", follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["location"] == "/tags/qq/"
    page = client.get("/tags/qq/")
    assert page.status_code == 200
    assert page.content == (site.out / "tags/qq/index.html").read_bytes()
    slug = quote(CHINESE_TAG)
    moved = client.get(f"/tags/{slug}", follow_redirects=False)
    assert moved.headers["location"] == f"/tags/{slug}/"
    page = client.get(f"/tags/{slug}/")
    assert page.status_code == 200
    assert "中文标题：订阅测试" in page.text
    assert client.get("/tags/qq?x=1", follow_redirects=False).headers["location"] == (
        "/tags/qq/?x=1"
    )


def test_bad_methods_and_bad_requests_get_4xx_and_the_server_lives_on(site: Site) -> None:
    assert raw_request(site.port, _request("POST", "/atom.xml"))[0] == 405
    assert raw_request(site.port, _request("DELETE", "/"))[0] == 405
    assert get_raw(site.port, "/" + "a" * 5000)[0] == 414
    huge = _request("GET", "/atom.xml").replace(
        b"\r\n\r\n", b"\r\nX-Filler: " + b"x" * 70000 + b"\r\n\r\n"
    )
    assert 400 <= raw_request(site.port, huge)[0] < 500
    assert raw_request(site.port, b"NOT AN HTTP REQUEST\r\n\r\n")[0] == 400
    assert (
        raw_request(site.port, b"GET /atom.xml HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")[0] == 400
    )
    assert get_raw(site.port, "/%ff%fe")[0] == 404
    assert get_raw(site.port, "/atom.xml")[0] == 200


def _request(method: str, path: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n"
        "Connection: close\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def _header(block: bytes, name: bytes) -> bytes | None:
    for line in block.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None
