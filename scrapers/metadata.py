"""Article metadata with provenance: every value says where it was read.

Order of trust, first source that yields a usable value wins:

=============  ==============================================================
field          sources, most trusted first
=============  ==============================================================
title          JSON-LD ``headline``/``name`` > ``og:title`` > ``twitter:title``
               / ``meta[name=title]`` > the page's ``<h1>`` > ``<title>``
               (site-name suffix cut)
authors        JSON-LD ``author`` > ``meta[name=author]`` and friends
               (``article:author`` when not a URL, ``parsely-author``,
               ``dc.creator``, ``sailthru.author``) > visible byline
               (``[itemprop=author]``, ``[rel=author]``, ``.byline``)
published_at   JSON-LD ``datePublished`` > ``article:published_time`` > date
               meta tags (``pubdate``, ``publishdate``, ``dc.date`` ...) >
               ``<time datetime>`` > a date written in the visible byline
modified_at    JSON-LD ``dateModified`` > ``article:modified_time`` /
               ``og:updated_time`` > ``meta[name=last-modified]`` ...
language       JSON-LD ``inLanguage`` > ``<html lang>`` > ``content-language``
               > ``og:locale``
canonical_url  ``link[rel=canonical]`` > ``og:url`` > JSON-LD ``url``
site_name      ``og:site_name`` > JSON-LD ``publisher.name`` >
               ``application-name``
lead_image     JSON-LD ``image`` > ``og:image`` > ``twitter:image`` >
               ``link[rel=image_src]``
description    JSON-LD ``description`` > ``og:description`` > ``description``
=============  ==============================================================

JSON-LD is trusted most because it is written for machines about this very
article; OpenGraph next (also per article, but often edited for social
sharing); generic meta tags after (sometimes site-wide defaults); visible text
last.  Datetimes are converted to UTC; a date without an offset is read in the
site's zone when a rule gives one, else UTC.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin

from scrapers.dates import find_date, parse_date

ARTICLE_TYPES = frozenset(
    {
        "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle",
        "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
        "askpublicquestion", "blogposting", "liveblogposting", "socialmediaposting",
        "scholarlyarticle", "techarticle", "report", "satiricalarticle", "posting",
        "discussionforumposting", "medicalscholarlyarticle", "advertisercontentarticle",
    }
)  # fmt: skip
_PAGE_TYPES = frozenset({"webpage", "itempage", "collectionpage", "medicalwebpage"})
_MAX_JSONLD_CHARS = 2_000_000
_BY_PREFIX = re.compile(r"^\s*(?:by|written by|words by|von|par|por|di|oleh)\s*[:]?\s+", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\be\b)\s*")
# Credentials ("MS", "PhD"), acronyms of outlets ("CNN", "AP") and domains
# ("Cleveland.com") that follow a name after a comma are not authors.
_NOT_A_NAME = re.compile(r"^(?:[A-Z]{1,5}|Ph\.?D|M\.?D|Jr|Sr|[\w-]+\.(?:com|org|net|co\.\w+))$")
_TITLE_SUFFIX = re.compile(r"\s+[|\-–—:·•»]\s+[^|\-–—:·•»]{1,60}$")

_PUBLISHED_META = (
    "article:published_time", "og:published_time", "datepublished", "pubdate",
    "publishdate", "publish-date", "publish_date", "date", "dc.date", "dc.date.issued",
    "dcterms.created", "dcterms.issued", "sailthru.date", "parsely-pub-date",
    "article.published", "published-date", "citation_publication_date", "original-publish-date",
)  # fmt: skip
_MODIFIED_META = (
    "article:modified_time", "og:updated_time", "datemodified", "last-modified",
    "dcterms.modified", "dc.date.modified", "article.updated", "lastmod",
)  # fmt: skip
_AUTHOR_META = (
    "author", "article:author", "parsely-author", "dc.creator", "sailthru.author",
    "byl", "citation_author", "twitter:creator",
)  # fmt: skip
_BYLINE_CSS = '[itemprop="author"], [rel="author"], .byline, .author-name, .author, .article-author'


@dataclass(slots=True)
class Found:
    """Metadata-bearing nodes met during the body walk (saves whole-tree queries).

    The walk covers ``<body>``; ``<head>`` is small and queried directly.
    """

    jsonld: list[str] = field(default_factory=list)
    metas: list[dict[str, str | None]] = field(default_factory=list)
    times: list[Any] = field(default_factory=list)
    h1: str | None = None


@dataclass(slots=True)
class Metadata:
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    lead_image: str | None = None
    description: str | None = None
    paywalled: bool = False
    publisher: str | None = None
    provenance: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value: Any, origin: str) -> None:
        """Set ``name`` unless already set by a more trusted source."""
        if value in (None, "", ()) or name in self.provenance:
            return
        setattr(self, name, value)
        self.provenance[name] = origin


def _clean(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    if "&" in text:
        text = html.unescape(text)  # JSON-LD and meta often carry entities
    text = " ".join(text.split())
    return text or None


# --- JSON-LD -----------------------------------------------------------------


def _json_objects(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(value, list):
        for item in value:
            yield from _json_objects(item, depth + 1)
    elif isinstance(value, dict):
        yield value
        graph = value.get("@graph")
        if graph is not None:
            yield from _json_objects(graph, depth + 1)
        main = value.get("mainEntity")
        if isinstance(main, dict):
            yield from _json_objects(main, depth + 1)


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {t.lower().rsplit("/", 1)[-1]}
    if isinstance(t, list):
        return {x.lower().rsplit("/", 1)[-1] for x in t if isinstance(x, str)}
    return set()


def _load_json(text: str) -> Any:
    text = text.strip()
    if not text or len(text) > _MAX_JSONLD_CHARS:
        return None
    if text.startswith("<!--"):
        text = text[4:]
    if text.endswith("-->"):
        text = text[:-3]
    text = text.replace("<![CDATA[", "").replace("]]>", "").strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _names(value: Any) -> list[str]:
    """Person names from a JSON-LD ``author`` value (string, object or list)."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items[:20]:
        name: Any = item
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = name[0] if name else None
        cleaned = _clean(name)
        if cleaned and not cleaned.startswith("http"):
            out.extend(_split_authors(cleaned))
    return out


def _first_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        for item in value:
            url = _first_url(item)
            if url:
                return url
        return None
    if isinstance(value, dict):
        return _first_url(value.get("url") or value.get("contentUrl") or value.get("@id"))
    return None


_JSONLD_CSS = 'script[type="application/ld+json"]'


def _jsonld_texts(tree: Any, found: Found | None) -> list[str]:
    if found is None:
        return [node.text() for node in tree.css(_JSONLD_CSS)]
    head = tree.head
    texts = [node.text() for node in head.css(_JSONLD_CSS)] if head is not None else []
    return texts + found.jsonld


def _read_jsonld(tree: Any, meta: Metadata, tz: tzinfo, found: Found | None = None) -> None:
    article: dict[str, Any] | None = None
    page: dict[str, Any] | None = None
    for text in _jsonld_texts(tree, found):
        data = _load_json(text)
        for obj in _json_objects(data):
            types = _types(obj)
            if types & ARTICLE_TYPES:
                article = obj
                break  # the first article wins; a page object is then unused
            if page is None and types & _PAGE_TYPES:
                page = obj
        if article is not None:
            break
    target = article or page
    if target is None:
        return
    origin = "json-ld" if article is not None else "json-ld:webpage"
    meta.set("title", _clean(target.get("headline")) or _clean(target.get("name")), origin)
    meta.set("authors", tuple(_dedupe(_names(target.get("author")))), origin)
    meta.set("published_at", parse_date(target.get("datePublished"), tz), origin)
    meta.set("modified_at", parse_date(target.get("dateModified"), tz), origin)
    lang = target.get("inLanguage")
    if isinstance(lang, dict):
        lang = lang.get("name") or lang.get("alternateName")
    meta.set("language", _lang(lang), origin)
    meta.set("lead_image", _first_url(target.get("image")), origin)
    meta.set("description", _clean(target.get("description")), origin)
    publisher = target.get("publisher")
    if isinstance(publisher, dict):
        # Trusted below og:site_name (see the table above): kept aside.
        meta.publisher = _clean(publisher.get("name"))
    free = target.get("isAccessibleForFree")
    if free is False or (isinstance(free, str) and free.lower() == "false"):
        meta.paywalled = True


# --- meta tags, links, visible text -------------------------------------------


def _meta_tags(tree: Any, found: Found | None = None) -> dict[str, str]:
    tags: dict[str, str] = {}
    if found is None:
        metas = [node.attributes for node in tree.css("meta")]
    else:
        head = tree.head
        metas = [node.attributes for node in head.css("meta")] if head is not None else []
        metas.extend(found.metas)
    for attrs in metas:
        content = attrs.get("content")
        if content is None:
            continue
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        if key is None:
            key = attrs.get("http-equiv")
        if key:
            key = key.strip().lower()
            if key not in tags and content.strip():
                tags[key] = content.strip()
    return tags


def _lang(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    tag: str = value.strip().replace("_", "-")
    if not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", tag):
        return None
    primary, _, rest = tag.partition("-")
    return primary.lower() + (f"-{rest.upper()}" if rest and len(rest) == 2 else "")


def _split_authors(text: str) -> list[str]:
    text = _BY_PREFIX.sub("", text).strip(" ,;|")
    if not text or len(text) > 200:
        return []
    parts = [p.strip(" .,") for p in _AUTHOR_SPLIT.split(text)]
    names = [p for p in parts if p and not _NOT_A_NAME.match(p)]
    if not names:
        return [text]  # "AP": an agency is the author
    # Splitting organisation names would be wrong: only split when every
    # part looks like a short name.
    if len(names) == 1 or all(1 <= len(p.split()) <= 4 for p in names):
        return names
    return [text]


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        key = name.casefold()
        if key not in seen and len(name) <= 100:
            seen.add(key)
            out.append(name)
    return out


def _strip_title_suffix(title: str, site_name: str | None, guess: bool = True) -> str:
    """Cut " | Site" from a title; ``guess`` also cuts an unnamed short suffix."""
    if site_name and title.endswith(site_name) and len(title) > len(site_name) + 3:
        return re.sub(r"[\s|\-–—:·•»]+$", "", title[: -len(site_name)]) or title
    if not guess:
        return title
    match = _TITLE_SUFFIX.search(title)
    if match and match.start() > 15:
        return title[: match.start()]
    return title


def _read_meta(
    tree: Any, meta: Metadata, base_url: str | None, tz: tzinfo, found: Found | None = None
) -> None:
    tags = _meta_tags(tree, found)
    have = meta.provenance  # fields already set by a more trusted source
    head = tree.head if tree.head is not None else tree
    if "canonical_url" not in have:
        canonical = head.css_first('link[rel="canonical"]')
        href = canonical.attributes.get("href") if canonical is not None else None
        if href:
            meta.set("canonical_url", _absolute(href, base_url), "link:canonical")
        if "og:url" in tags:
            meta.set("canonical_url", _absolute(tags["og:url"], base_url), "og:url")

    if "title" not in have:
        meta.set("title", _clean(tags.get("og:title")), "og:title")
        meta.set("title", _clean(tags.get("twitter:title")), "meta:twitter:title")
        meta.set("title", _clean(tags.get("title")), "meta:title")

    if "authors" not in have:
        for key in _AUTHOR_META:
            value = tags.get(key)
            if value and not value.startswith(("http", "@")) and "/" not in value:
                meta.set("authors", tuple(_dedupe(_split_authors(value))), f"meta:{key}")
                if "authors" in have:
                    break
    for name, keys in (("published_at", _PUBLISHED_META), ("modified_at", _MODIFIED_META)):
        if name in have:
            continue
        for key in keys:
            if key in tags:
                meta.set(name, parse_date(tags[key], tz), f"meta:{key}")
                if name in have:
                    break

    if "language" not in have:
        html = tree.root
        if html is not None and html.tag == "html":
            meta.set("language", _lang(html.attributes.get("lang")), "html:lang")
        meta.set("language", _lang(tags.get("content-language")), "meta:content-language")
        meta.set("language", _lang(tags.get("og:locale")), "og:locale")

    meta.set("site_name", _clean(tags.get("og:site_name")), "og:site_name")
    meta.set("site_name", meta.publisher, "json-ld:publisher")
    meta.set("site_name", _clean(tags.get("application-name")), "meta:application-name")
    if "lead_image" not in have:
        for key in ("og:image", "og:image:url", "og:image:secure_url", "twitter:image"):
            if key in tags:
                meta.set("lead_image", _absolute(tags[key], base_url), f"meta:{key}")
        if "lead_image" not in have:
            image_src = head.css_first('link[rel="image_src"]')
            if image_src is not None and image_src.attributes.get("href"):
                href = image_src.attributes["href"] or ""
                meta.set("lead_image", _absolute(href, base_url), "link")
    if "description" not in have:
        for key in ("og:description", "description", "twitter:description"):
            meta.set("description", _clean(tags.get(key)), f"meta:{key}")


def _read_visible(tree: Any, meta: Metadata, tz: tzinfo, found: Found | None = None) -> None:
    if "published_at" not in meta.provenance or "modified_at" not in meta.provenance:
        for node in tree.css("time") if found is None else found.times:
            attrs = node.attributes
            value = attrs.get("datetime") or node.text(strip=True)
            prop = (attrs.get("itemprop") or "").lower()
            if prop == "datemodified":
                meta.set("modified_at", parse_date(value, tz), "time[itemprop=dateModified]")
                continue
            meta.set("published_at", parse_date(value, tz), "time")
    if "authors" not in meta.provenance or "published_at" not in meta.provenance:
        node = tree.css_first(_BYLINE_CSS)
        text = _clean(node.text(separator=" ")) if node is not None else None
        if text and len(text) <= 150:
            meta.set("published_at", find_date(text, tz), "byline")
            name = re.split(r"\b(?:published|updated|posted)\b|\d", text, maxsplit=1, flags=re.I)[0]
            names = _split_authors(name.strip(" |,-–—"))
            if names and all(len(n.split()) <= 5 for n in names):
                meta.set("authors", tuple(_dedupe(names)), "byline")
    if "title" not in meta.provenance:
        if found is not None:
            meta.set("title", _clean(found.h1), "h1")
        else:
            h1 = tree.css_first("h1")
            if h1 is not None:
                meta.set("title", _clean(h1.text(separator=" ")), "h1")
    if "title" not in meta.provenance:
        node = (tree.head or tree).css_first("title")
        if node is not None:
            title = _clean(node.text())
            if title:
                meta.set("title", _strip_title_suffix(title, meta.site_name), "title")


def _absolute(href: str, base_url: str | None) -> str:
    href = href.strip()
    if base_url and not href.startswith(("http://", "https://")):
        try:
            return urljoin(base_url, href)
        except ValueError:
            return href
    return href


def read_metadata(
    tree: Any, url: str | None = None, tz: tzinfo = UTC, found: Found | None = None
) -> Metadata:
    """Collect metadata from a parsed page (a selectolax Lexbor tree).

    ``found`` holds what the body walk already met in ``<body>``; without it
    the whole tree is queried.
    """
    meta = Metadata()
    _read_jsonld(tree, meta, tz, found)
    _read_meta(tree, meta, url, tz, found)
    _read_visible(tree, meta, tz, found)
    if meta.title and meta.provenance.get("title") != "title":
        meta.title = _strip_title_suffix(meta.title, meta.site_name, guess=False)
    return meta
