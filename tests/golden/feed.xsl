<?xml version="1.0" encoding="utf-8"?>
<!--
  Turns an Atom 1.0 or RSS 2.0 feed of feeds into a readable page when someone opens it in a
  browser, with a word on what a feed is for. Feed readers ignore the stylesheet. XSLT 1.0 only
  (what browsers run); no disable-output-escaping (Firefox ignores it), so entry bodies are not
  shown, only titles, dates and plain-text summaries.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
  <xsl:variable name="about" select="/atom:feed/atom:subtitle | /rss/channel/description"/>
  <xsl:variable name="self"
      select="(/atom:feed/atom:link[@rel='self'] | /rss/channel/atom:link[@rel='self'])/@href"/>
  <xsl:variable name="home" select="/atom:feed/atom:link[@rel='alternate']/@href"/>
  <xsl:variable name="kind">
    <xsl:choose>
      <xsl:when test="/atom:feed">Atom</xsl:when>
      <xsl:otherwise>RSS</xsl:otherwise>
    </xsl:choose>
  </xsl:variable>

  <xsl:template match="/">
    <html lang="{/atom:feed/@xml:lang | /rss/channel/language}">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/> (<xsl:value-of select="$kind"/> feed)</title>
        <style>
          :root { --muted: #6b6b6b; --line: #d8d8d8; --accent: #b3470e; }
          body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", "PingFang SC",
            "Noto Sans CJK SC", sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem;
            overflow-wrap: anywhere; }
          .subscribe { border: 2px solid var(--accent); border-radius: .5rem; padding: .6rem 1rem; }
          .subscribe code { display: block; margin: .4rem 0; padding: .3rem .5rem;
            border: 1px solid var(--line); border-radius: .3rem; user-select: all; }
          h1 { font-size: 1.6rem; margin: 1.2rem 0 .3rem; }
          a { color: inherit; }
          .muted, time { color: var(--muted); }
          ol { list-style: none; padding: 0; }
          li { padding: .55rem 0; border-bottom: 1px solid var(--line); }
          li a { font-weight: 600; }
          li p { margin: .2rem 0 0; }
        </style>
      </head>
      <body>
        <aside class="subscribe">
          <p><strong>This is a web feed.</strong> Copy its URL into your feed reader to subscribe
            and get new entries as they are published:</p>
          <code><xsl:value-of select="$self"/></code>
          <p class="muted">Your browser shows this page only to explain; feed readers read
            the <xsl:value-of select="$kind"/> feed itself.</p>
        </aside>
        <h1><xsl:value-of select="$title"/></h1>
        <p class="muted">
          <xsl:value-of select="$about"/>
          <xsl:if test="$home">
            · <a href="{$home}">the web page of this feed</a>
          </xsl:if>
        </p>
        <ol>
          <xsl:apply-templates select="/atom:feed/atom:entry | /rss/channel/item"/>
        </ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <xsl:call-template name="title">
        <xsl:with-param name="text" select="atom:title"/>
        <xsl:with-param name="link" select="atom:link[@rel='alternate' or not(@rel)][1]/@href"/>
      </xsl:call-template>
      <div>
        <time datetime="{atom:published | atom:updated[not(../atom:published)]}">
          <xsl:value-of select="substring(atom:published | atom:updated[not(../atom:published)], 1, 10)"/>
          <xsl:text> </xsl:text>
          <xsl:value-of select="substring(atom:published | atom:updated[not(../atom:published)], 12, 5)"/>
        </time>
        <xsl:if test="atom:author/atom:name"> · <xsl:value-of select="atom:author/atom:name"/></xsl:if>
      </div>
      <xsl:if test="atom:summary[not(@type) or @type='text']">
        <p><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </li>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <xsl:call-template name="title">
        <xsl:with-param name="text" select="title"/>
        <xsl:with-param name="link" select="link"/>
      </xsl:call-template>
      <!-- An RFC 822 date is not a valid <time> text: a plain span. -->
      <div class="muted"><xsl:value-of select="pubDate"/></div>
    </li>
  </xsl:template>

  <xsl:template name="title">
    <xsl:param name="text"/>
    <xsl:param name="link"/>
    <xsl:choose>
      <xsl:when test="starts-with($link, 'http://') or starts-with($link, 'https://')">
        <a href="{$link}"><xsl:value-of select="$text"/></a>
      </xsl:when>
      <xsl:otherwise><strong><xsl:value-of select="$text"/></strong></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
