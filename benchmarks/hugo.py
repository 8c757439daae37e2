"""The same corpus as a Hugo site doing the same job as `feeds build`, as far as Hugo can.

Equivalent settings: one RSS file per tag and per category (Hugo's "term" pages), the
newest 50 entries each with their full content (a custom rss.xml: Hugo's own puts the
summary in <description>), no HTML pages at all (regular pages are listed but never
rendered, every other kind is disabled), the same base URL and time zone. Hugo writes one format
where feeds writes three, plus its index pages.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

CONFIG = """\
baseURL = "http://127.0.0.1:8080/"
title = "feeds"
timeZone = "Asia/Shanghai"
disableKinds = ["home", "section", "taxonomy", "sitemap", "robotsTXT", "404"]
ignoreErrors = ["error-disable-taxonomy"]
[outputs]
  page = []
  term = ["RSS"]
[services.rss]
  limit = 50
[taxonomies]
  tag = "tags"
  category = "categories"
[[cascade]]
  [cascade._build]
    render = "never"
    list = "always"
  [cascade._target]
    kind = "page"
"""

RSS_TEMPLATE = """\
{{- $pages := .RegularPages -}}
{{- $limit := .Site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 }}{{ $pages = $pages | first $limit }}{{ end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{{ .Title }} on {{ .Site.Title }}</title>
    <link>{{ .Permalink }}</link>
    <description>Recent content in {{ .Title }} on {{ .Site.Title }}</description>
    <generator>Hugo</generator>
    {{- with .OutputFormats.Get "RSS" }}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end }}
    {{- range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <guid>{{ .Permalink }}</guid>
      <description>{{ .Content | html }}</description>
    </item>
    {{- end }}
  </channel>
</rss>
"""


def hugo_binary() -> str | None:
    return shutil.which("hugo")


def make_site(corpus: Path, site: Path) -> Path:
    """A Hugo site in `site` whose content/posts are hard links to the corpus (as .md)."""
    shutil.rmtree(site, ignore_errors=True)
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text(CONFIG)
    (site / "layouts" / "_default" / "rss.xml").write_text(RSS_TEMPLATE)
    for entry in os.scandir(corpus):
        if entry.name.endswith(".txt"):
            os.link(entry.path, posts / (entry.name[:-4] + ".md"))
    return site


def clean(site: Path, discard: Callable[[Path], None] = shutil.rmtree) -> None:
    """Cold build: no output and no cache from a previous run (`discard` takes folders)."""
    for name in ("public", "resources", ".cache", ".hugo_build.lock"):
        path = site / name
        if path.is_dir():
            discard(path)
        elif path.exists():
            path.unlink()


def command(site: Path) -> list[str]:
    binary = hugo_binary() or "hugo"
    return [binary, "--quiet", "--source", str(site), "--cacheDir", str(site / ".cache")]


def feeds_written(site: Path) -> int:
    return sum(1 for _ in (site / "public").rglob("index.xml"))
