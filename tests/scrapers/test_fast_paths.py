"""Shortcuts taken for speed must give what the plain code gives."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest

from scrapers import ExtractionFlag, extract
from scrapers.blocks import _norm
from scrapers.patterns import CHROME_HEADING, CHROME_LINE, is_chrome_heading, is_chrome_line

WORDS = [
    "Related", "read", "MORE", "share", "ads", "advert", "Image", "photo", "3", "of", "10",
    "min", "news", "à", "lire", "aussi", "читайте", "также", "_", "»", "—", "[", "Ä", "ı",
    "\u212a", "ſ", "Don't", "miss", "you", "may", "also", "like", "Tags", "comments",
]  # fmt: skip
SEPARATORS = ["", " ", "  ", "-", ": "]


def _samples() -> list[str]:
    out = ["", " ", "»»", "5 min read", "Image 3 of 10", "photo 2 / 5", "Share on Facebook"]
    for a, b in itertools.product(WORDS, repeat=2):
        for sep in SEPARATORS:
            out.append(a + sep + b)
            out.append("— " + a + sep + b + " »")
    return out


@pytest.mark.parametrize(
    ("pattern", "fast"), [(CHROME_HEADING, is_chrome_heading), (CHROME_LINE, is_chrome_line)]
)
def test_phrase_matchers_agree_with_their_patterns(
    pattern: re.Pattern[str], fast: Callable[[str], bool]
) -> None:
    samples = _samples()
    assert any(fast(s) for s in samples)
    for text in samples:
        assert fast(text) == bool(pattern.match(text)), text


@pytest.mark.parametrize(
    "raw",
    [
        "plain text", "  padded  ", "tabs\tand\nnewlines", "nbsp\u00a0here", "zero\u200bwidth",
        "line\ue000break\ue000", "ideographic\u3000space", "soft\u00adhyphen", "", " \n ",
    ],
)  # fmt: skip
def test_norm_matches_split_join(raw: str) -> None:
    if "\ue000" in raw:
        assert _norm(raw) == "\n".join(
            p for p in (" ".join(x.split()) for x in raw.split("\ue000")) if p
        )
    elif "\u200b" not in raw:
        assert _norm(raw) == " ".join(raw.split())


def test_undeclared_utf8_is_read_as_utf8() -> None:
    body = "Café “quotes” — São Paulo said on Monday that the office would stay open. " * 4
    article = extract(f"<html><body><p>{body}</p></body></html>".encode())
    assert "São Paulo" in article.text
    assert ExtractionFlag.DECODE_ERRORS not in article.flags


def test_undeclared_legacy_bytes_in_metadata_only_are_decoded() -> None:
    body = "A plain ASCII paragraph of article text that goes on for a while. " * 4
    html = (
        "<html><head><meta name='author' content='José Núñez'></head>"
        f"<body><p>{body}</p></body></html>"
    ).encode("cp1252")
    article = extract(html)
    assert article.authors == ("José Núñez",)
