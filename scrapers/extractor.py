"""``extract``: one page in, one :class:`ExtractedArticle` out, never an exception.

Pipeline: guards on the raw input (size, binary, nesting) -> decode -> parse
with Lexbor -> metadata -> site rule (if the host has one) -> generic body
finder for whatever the rule does not give -> flags.
"""

from __future__ import annotations

import codecs
import logging
import re
from datetime import UTC, tzinfo
from typing import Any

from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser

from scrapers import guards
from scrapers.blocks import collect
from scrapers.body import find_body, select_all
from scrapers.encoding import declared_charset, decode
from scrapers.metadata import Found, Metadata, read_metadata
from scrapers.model import ExtractedArticle, ExtractionFlag
from scrapers.rules import Rule, rule_for_host

log = logging.getLogger(__name__)

SHORT_BODY_CHARS = 250
_PAYWALL_CSS = (
    '[class*="paywall"], [id*="paywall"], [class*="piano-"], [class*="subscriber-only"], '
    '[class*="premium-content"], [class*="meteredContent"]'
)


# The tree is only read, never edited: Lexbor's mutation callbacks (which
# mirror a selected <option> into <selectedcontent>, for one) are not needed.
_PARSE_OPTIONS = LexborDocumentOptions.WO_EVENTS.value

_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)")


def _host(url: str | None) -> str | None:
    """The URL's host, lowercased (a regex: urlsplit is slow for a hot path)."""
    if not url:
        return None
    match = _HOST.match(url)
    return match.group(1).lower() or None if match else None


def _prepare(
    html: bytes | str, content_type: str | None, flags: list[ExtractionFlag], trust: bool = True
) -> tuple[bytes | str | None, bool]:
    """Apply the input guards; returns what to parse (None: nothing) and whether
    it is bytes declared UTF-8 but not yet checked (see ``_extract``)."""
    if isinstance(html, str):
        if not html.strip():
            flags.append(ExtractionFlag.EMPTY_INPUT)
            return None, False
        if len(html) > guards.MAX_INPUT_BYTES:
            flags.append(ExtractionFlag.TOO_LARGE)
            html = html[: guards.MAX_INPUT_BYTES]
        data = html.encode("utf-8", "surrogatepass")
        decoded_text: str | None = html
    else:
        data = bytes(html)
        if not data.strip():
            flags.append(ExtractionFlag.EMPTY_INPUT)
            return None, False
        if len(data) > guards.MAX_INPUT_BYTES:
            flags.append(ExtractionFlag.TOO_LARGE)
            data = data[: guards.MAX_INPUT_BYTES]
        decoded_text = None
    if guards.looks_binary(data):
        flags.append(ExtractionFlag.NOT_HTML)
        return None, False
    if b"<" not in data:
        flags.append(ExtractionFlag.NOT_HTML)
    if guards.looks_truncated(data):
        flags.append(ExtractionFlag.TRUNCATED)
    cut = guards.nesting_cut(data)
    if cut is not None:
        flags.append(ExtractionFlag.TOO_DEEP)
        data = data[:cut]
        decoded_text = None
    if decoded_text is not None:
        return decoded_text, False
    if trust:
        declared = declared_charset(data, content_type)
        if declared == "utf-8":
            # Lexbor reads UTF-8 bytes directly; decoding first would cost a pass.
            return data.removeprefix(codecs.BOM_UTF8), True
        if declared is None:
            # Nothing declared: valid UTF-8 is read as UTF-8 whatever else
            # (see scrapers.encoding), and most such pages are.  ASCII is
            # UTF-8; anything else is parsed as UTF-8 and checked afterwards.
            return data, not data.isascii()
    result = decode(data, content_type)
    if result.had_errors:
        flags.append(ExtractionFlag.DECODE_ERRORS)
    if result.encoding == "utf-8" and not result.had_errors:
        return data[result.bom_length :], False
    return result.text, False


def _replaced(meta: Metadata, text: str) -> bool:
    """True when U+FFFD shows in the text or a metadata field: bytes parsed as
    UTF-8 were not (all) UTF-8."""
    if "\ufffd" in text:
        return True
    for value in (meta.title, meta.description, meta.site_name, *meta.authors):
        if value and "\ufffd" in value:
            return True
    return False


def extract(
    html: bytes | str, url: str | None = None, *, content_type: str | None = None
) -> ExtractedArticle:
    """Extract the article of one page.

    ``html`` may be bytes (decoded here, see :mod:`scrapers.encoding`) or text.
    Never raises for bad input: problems show in ``flags``.
    """
    flags: list[ExtractionFlag] = []
    try:
        return _extract(html, url, content_type, flags)
    except Exception:  # a bug must not take the ingest loop down with it
        log.exception("extraction failed for %s", url)
        flags.append(ExtractionFlag.EXTRACTOR_ERROR)
        return ExtractedArticle(url=url, flags=tuple(dict.fromkeys(flags)))


def _extract(
    html: bytes | str, url: str | None, content_type: str | None, flags: list[ExtractionFlag]
) -> ExtractedArticle:
    prepared, unverified = _prepare(html, content_type, flags)
    if prepared is None:
        return ExtractedArticle(url=url, flags=tuple(flags))
    tree = LexborHTMLParser(prepared, options=_PARSE_OPTIONS)
    rule = rule_for_host(_host(url))
    tz: tzinfo = rule.timezone if rule is not None and rule.timezone else UTC
    meta, text = _read(tree, url, tz, rule, flags)
    if unverified and _replaced(meta, text):
        # Declared UTF-8 but it is not (or not all): decode by the evidence.
        flags.clear()
        prepared, _ = _prepare(html, content_type, flags, trust=False)
        if prepared is not None:
            tree = LexborHTMLParser(prepared, options=_PARSE_OPTIONS)
            meta, text = _read(tree, url, tz, rule, flags)
    if not text:
        flags.append(ExtractionFlag.NO_ARTICLE)
    elif len(text) < SHORT_BODY_CHARS:
        flags.append(ExtractionFlag.SHORT_BODY)
    if meta.paywalled or (len(text) < 1500 and tree.css_first(_PAYWALL_CSS) is not None):
        flags.append(ExtractionFlag.PAYWALLED)
    article = ExtractedArticle(
        url=url,
        title=meta.title,
        authors=meta.authors,
        published_at=meta.published_at,
        modified_at=meta.modified_at,
        language=meta.language,
        text=text,
        canonical_url=meta.canonical_url,
        site_name=meta.site_name,
        lead_image=meta.lead_image,
        description=meta.description,
        rule=rule.name if rule is not None else None,
        provenance=dict(meta.provenance),
        flags=tuple(dict.fromkeys(flags)),
    )
    if rule is not None:
        article = rule.run_hook(article, tree)
    return article


def _read(
    tree: Any, url: str | None, tz: tzinfo, rule: Rule | None, flags: list[ExtractionFlag]
) -> tuple[Metadata, str]:
    """Metadata and body text.

    Without a rule body, one walk over ``<body>`` yields both the blocks and
    the metadata nodes in it; a rule body is walked alone and metadata is
    read from the whole tree.
    """
    rule_root: Any = None
    drop: set[int] | None = None
    if rule is not None:
        drop = rule.drop_ids(tree)
        rule_root = rule.body_node(tree)
    root = rule_root if rule_root is not None else tree.body
    found = Found() if rule_root is None else None
    doc = collect(root, drop=drop, found=found) if root is not None else None
    meta = read_metadata(tree, url, tz, found)
    if rule is not None:
        rule.apply_metadata(tree, meta)
    if doc is None:
        return meta, ""
    if doc.too_deep:
        flags.append(ExtractionFlag.TOO_DEEP)
    if rule_root is not None:
        meta.provenance["text"] = f"rule:{rule.name if rule else ''}"
        return meta, "\n\n".join(select_all(doc, meta.title))
    return meta, find_body(doc, meta.title).text
