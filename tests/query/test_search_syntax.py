"""Search-box parsing: every input becomes a safe FTS5 expression or a typed error."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.search_syntax import InvalidQuery, parse, to_fts5, to_websearch


def test_terms_phrases_exclusions_and_or() -> None:
    q = parse('bahrain "working group" -cricket floods OR rains')
    assert to_fts5(q) == '("bahrain" AND "working group" AND ("floods" OR "rains")) NOT "cricket"'
    assert to_websearch(q) == 'bahrain "working group" floods or rains -cricket'


def test_operators_and_quotes_are_literal_words() -> None:
    assert to_fts5(parse('NOT AND a"b (c*')) == '"NOT" AND "AND" AND "a""b" AND "(c*"'


@pytest.mark.parametrize("text", ["", "-a", "OR", '"" -"x"', "\x00"])
def test_nothing_to_search(text: str) -> None:
    with pytest.raises(InvalidQuery):
        parse(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_valid_fts5_or_refused(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    conn.execute("INSERT INTO t(body) VALUES ('some words here')")
    try:
        expr = to_fts5(parse(text))
    except InvalidQuery:
        return
    conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()
