"""The search box syntax, parsed once so both databases read it the same way.

Users type web-search style queries: ``words`` (all must match), ``"a phrase"``,
``-excluded`` and ``this OR that``.  PostgreSQL reads that syntax natively
(``websearch_to_tsquery``); SQLite's FTS5 has its own grammar where a stray
quote or ``NOT`` is a syntax error, so :func:`to_fts5` rebuilds a safe FTS5
expression from the parsed terms: every term is a quoted string, never syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.errors import DatabaseError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORDLIKE = re.compile(r"\w", re.UNICODE)


class InvalidQuery(DatabaseError):
    """A search query that cannot be run (empty, too long, only exclusions)."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase; ``negated`` for ``-term``."""

    text: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Groups of alternatives (``a OR b``), all required; and terms that must not match."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]
    raw: str


def _clean(text: str) -> str:
    return " ".join(text.replace("\x00", " ").split())


def parse(text: str) -> SearchQuery:
    """Parse a search-box string; raise :class:`InvalidQuery` when nothing would be searched."""
    raw = _clean(text)
    if len(raw) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"search query is longer than {MAX_QUERY_CHARS} characters")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    count = 0
    for match in _TOKEN.finditer(raw):
        neg_quote, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None and word == "OR":
            pending_or = bool(groups)
            continue
        negated = bool(neg_quote) if phrase is not None else word.startswith("-")
        body = phrase if phrase is not None else word.lstrip("-")
        body = _clean(body)
        if not _WORDLIKE.search(body):
            continue
        count += 1
        if count > MAX_TERMS:
            raise InvalidQuery(f"search query has more than {MAX_TERMS} terms")
        term = Term(body, negated)
        if negated:
            excluded.append(term)
            pending_or = False
        elif pending_or:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
    if not groups:
        raise InvalidQuery(
            "search query has no words to look for" if not excluded
            else "search query needs at least one word that is not excluded"
        )
    return SearchQuery(tuple(tuple(g) for g in groups), tuple(excluded), raw)


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def to_fts5(query: SearchQuery) -> str:
    """An FTS5 MATCH expression equivalent to ``query``; quoting makes every term a literal."""
    parts = []
    for group in query.groups:
        alternatives = [_fts5_string(t.text) for t in group]
        parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    expr = " AND ".join(parts)
    if query.excluded:
        expr = "(" + expr + ")"
        for term in query.excluded:
            expr += " NOT " + _fts5_string(term.text)
    return expr


def to_websearch(query: SearchQuery) -> str:
    """The same query in ``websearch_to_tsquery`` syntax, normalized."""
    parts = []
    for group in query.groups:
        parts.append(" or ".join(f'"{t.text}"' if " " in t.text else t.text for t in group))
    parts.extend(f'-"{t.text}"' if " " in t.text else f"-{t.text}" for t in query.excluded)
    return " ".join(parts)
