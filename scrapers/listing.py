"""Article links on a listing (section or home) page."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser


def find_links(html: str, base_url: str, pattern: str | re.Pattern[str]) -> list[str]:
    """Absolute URLs of ``<a href>`` on the page that match ``pattern``, first-seen order.

    ``pattern`` is searched in the absolute URL, so it can anchor on the path
    (``/news/\\d+``) or the whole address.  Fragments are dropped.
    """
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    tree = LexborHTMLParser(html)
    base = base_url
    base_tag = tree.css_first("base[href]")
    if base_tag is not None:
        base = urljoin(base_url, base_tag.attributes.get("href") or "")
    seen: dict[str, None] = {}
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base, href).split("#", 1)[0]
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        if regex.search(url):
            seen.setdefault(url, None)
    return list(seen)
