"""Charset handling for fetched documents that are not HTML pages (feeds, sitemaps, JSON).

HTML pages are decoded by :func:`scrapers.encoding.decode_html` (header, BOM,
meta, detection).  XML adds one more declaration, ``<?xml encoding=...?>``;
expat reads it, but a document whose bytes contradict it (invalid UTF-8 is
common in generated sitemaps) makes expat stop at the first bad byte.  This
module turns such bytes into clean UTF-8 so one bad byte does not cost the
whole document.
"""

from __future__ import annotations

import re

from scrapers.encoding import decode_html

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']""", re.I)


def xml_declared_encoding(content: bytes) -> str | None:
    match = _XML_ENCODING.match(content[:200])
    return match.group(1).decode("ascii") if match else None


def document_text(content: bytes, content_type: str | None) -> str:
    """Text of a document: BOM, then header charset, then XML declaration, then detection.

    Never raises; undecodable bytes become U+FFFD.
    """
    declared = xml_declared_encoding(content)
    if declared and not (content_type and "charset" in content_type.lower()):
        content_type = f"{content_type or 'text/xml'}; charset={declared}"
    text, _ = decode_html(content, content_type)
    return text


def as_utf8_xml(content: bytes, content_type: str | None) -> bytes:
    """The document re-encoded as UTF-8 without its XML declaration (safe to hand to expat)."""
    text = document_text(content, content_type)
    data = text.encode("utf-8", "replace")
    return _XML_DECL.sub(b"", data, count=1)
