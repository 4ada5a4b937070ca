"""Snippets with highlighted matches, built in Python from the query's lexemes.

PostgreSQL's ``ts_headline`` re-parses every document and cost more than the
whole ranked query, so for PostgreSQL the database only stems the query
(``to_tsvector``) and this module picks the densest window of words and
marks the words whose lowercase form starts with a lexeme (stems are, but
for a few ``y``/``i`` endings, prefixes of the words they come from).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+", re.UNICODE)


def highlight(text: str, lexemes: Iterable[str], *, words: int, start: str, end: str, ellipsis: str) -> str:
    """The ``words``-word window of ``text`` with the most matches, matches wrapped in ``start``/``end``."""
    stems = tuple(sorted({lx.lower() for lx in lexemes if lx}, key=len, reverse=True))
    tokens = list(_WORD.finditer(text))
    if not tokens:
        return ""
    hits = [bool(stems) and tok.group().lower().startswith(stems) for tok in tokens]
    best, best_count, count = 0, -1, 0
    for i in range(len(tokens)):
        count += hits[i]
        if i >= words:
            count -= hits[i - words]
        if count > best_count:
            best_count, best = count, max(0, i - words + 1)
    window = range(best, min(len(tokens), best + words))
    pieces: list[str] = []
    pos = tokens[window.start].start()
    for i in window:
        tok = tokens[i]
        pieces.append(text[pos : tok.start()])
        pieces.append(f"{start}{tok.group()}{end}" if hits[i] else tok.group())
        pos = tok.end()
    if window.stop < len(tokens):
        pieces.append(ellipsis)
    else:
        pieces.append(text[pos:])
    prefix = ellipsis if window.start > 0 else ""
    return prefix + " ".join("".join(pieces).split())
