"""Searches with a selective filter find their window in steps (db.search_window): the same
window, hence the same ranking and pages, as the one statement, on each path."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from db import queries, search_window
from db.cursors import SearchCursor
from db.fulltext import FullText
from db.models import Article, Source
from db.queries import ArticleFilter
from db.search_syntax import parse
from db.session import transaction

from .seed import T0, Archive

WINDOW = 8
BIG = 400
SMALL = 40


@pytest.fixture(scope="module")
def arch(shared_arch: Archive) -> Archive:
    """The test archive plus a big and a small source: every article says "common", every
    tenth "tenth", the four oldest of the big source "rare", its three newest and three
    oldest "edge"; authors on a few."""
    with transaction(shared_arch.sessions) as s:
        for name in ("big", "small"):
            s.add(Source(name=name))
        s.flush()
        source_ids = {name: sid for name, sid in s.execute(select(Source.name, Source.id))}
        rows = []
        for i in range(BIG + SMALL):
            source = "big" if i < BIG else "small"
            words = ["common", "news"] + (["tenth"] if i % 10 == 0 else []) + (["rare"] if i < 4 else []) + (
                ["edge"] if i in (0, 1, 2, BIG - 3, BIG - 2, BIG - 1) else []
            )
            authors = ["Prolific Writer"] if i % 50 == 0 else (["Seldom Seen"] if i in (7, 207, 399) else [])
            rows.append({
                "source_id": source_ids[source], "url": f"https://win.example/{i}", "title": f"Item {i}",
                "authors": authors, "published_at": T0 + timedelta(days=10, minutes=i),
                "fetched_at": T0 + timedelta(days=11), "language": "en",
                "body": " ".join(words * (1 + i % 3)), "content_hash": f"{i:064x}",
                "word_count": 2, "provenance": {}, "flags": [],
            })
        s.execute(insert(Article), rows)
    return shared_arch


def _one_statement(arch: Archive, text: str, flt: ArticleFilter) -> list[tuple[int, float]]:
    """The whole window, best first, as the one statement ranks it (checking each row)."""
    with arch.sessions() as s:
        dialect = s.get_bind().dialect.name
        fulltext = FullText(dialect, parse(text))
        filtered = queries.apply_filter(select(Article.id), flt, dialect)
        stmt = fulltext.page_statement(filtered, None, 10_000, WINDOW)
        return [(int(i), float(r)) for i, r in s.execute(stmt)]


def _window(arch: Archive, text: str, flt: ArticleFilter) -> search_window.Window:
    with arch.sessions() as s:
        dialect = s.get_bind().dialect.name
        filtered = queries.apply_filter(select(Article.id), flt, dialect)
        return FullText(dialect, parse(text)).window(s, filtered, WINDOW)


def _stepped(arch: Archive, text: str, flt: ArticleFilter) -> list[tuple[int, float]]:
    """The whole window, best first, as search_articles ranks it now."""
    with arch.sessions() as s:
        dialect = s.get_bind().dialect.name
        fulltext = FullText(dialect, parse(text))
        filtered = queries.apply_filter(select(Article.id), flt, dialect)
        indexed = None
        if flt.language is not None:
            indexed = queries.apply_filter(select(Article.id), replace(flt, language=None), dialect)
        how = fulltext.window(s, filtered, WINDOW, indexed=indexed)
        if how.candidates is not None:
            return fulltext.page_of(how.candidates, None, 10_000)
        stmt = fulltext.page_statement(filtered, None, 10_000, WINDOW, how=how)
        return [(int(i), float(r)) for i, r in s.execute(stmt)]


def _dialect(arch: Archive) -> str:
    return arch.engine.dialect.name


SINCE = T0 + timedelta(days=10, minutes=100)
CASES = [
    ("common", ArticleFilter(source="big")),
    ("tenth", ArticleFilter(source="big")),
    ("rare", ArticleFilter(source="big")),
    ("edge", ArticleFilter(source="big")),
    ("common", ArticleFilter(source="small")),
    ("tenth", ArticleFilter(source="small")),
    ("common", ArticleFilter(author="seldom")),
    ("common", ArticleFilter(author="prolific")),
    ("common", ArticleFilter(author="nobody at all")),
    ("tenth", ArticleFilter(since=SINCE)),
    ("tenth", ArticleFilter(until=SINCE)),
    ("rare OR tenth", ArticleFilter(since=T0 + timedelta(days=10), until=SINCE)),
    ("common -tenth", ArticleFilter(source="big", since=SINCE)),
    ("news common", ArticleFilter(source="nobody")),
    ("common", ArticleFilter(source="small", since=T0 + timedelta(days=10, minutes=BIG + SMALL - 5))),
    ("tenth", ArticleFilter(source="small", language="en")),
    ("common", ArticleFilter(author="seldom", language="fr")),
]


@pytest.mark.parametrize(("text", "flt"), CASES)
def test_stepped_window_ranks_like_the_one_statement(
    arch: Archive, text: str, flt: ArticleFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small enough thresholds that this archive takes every path
    monkeypatch.setattr(search_window, "SMALL_SET", 10)
    monkeypatch.setattr(search_window, "ROW_CHECK_SHARE", 0.5)
    expected = _one_statement(arch, text, flt)
    assert _stepped(arch, text, flt) == expected
    assert len(expected) == len({i for i, _ in expected}) <= WINDOW


def test_sqlite_picks_the_check_by_the_filter_size(arch: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    if _dialect(arch) != "sqlite":
        pytest.skip("SQLite's plan")
    monkeypatch.setattr(search_window, "SMALL_SET", 10)
    monkeypatch.setattr(search_window, "ROW_CHECK_SHARE", 0.5)
    assert _window(arch, "common", ArticleFilter(source="big")) == search_window.Window(None)  # most rows
    assert _window(arch, "common", ArticleFilter(source="small")) == search_window.Window(None, as_set=True)
    monkeypatch.setattr(search_window, "SMALL_SET", 50)
    monkeypatch.setattr(search_window, "NARROW_SHARE", 0.2)
    seldom = _window(arch, "common", ArticleFilter(author="seldom"))  # articles 7, 207 and 399
    assert seldom.as_set and seldom.ids is not None and len(seldom.ids) == 3
    assert seldom.ids == sorted(seldom.ids) and seldom.id_range is None  # spread: no bound
    recent = _window(arch, "common", ArticleFilter(source="small"))  # the newest 40
    assert recent.ids is not None and recent.id_range == (recent.ids[0], recent.ids[-1])
    assert _window(arch, "common", ArticleFilter(author="nobody at all")) == search_window.Window([])


def test_postgres_walks_the_filter_index_and_leaves_rare_words_to_the_planner(
    arch: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _dialect(arch) != "postgresql":
        pytest.skip("PostgreSQL's plan")
    walks: list[int] = []
    real = search_window._pg_walk

    def counted(*args: Any) -> list[tuple[int, float]]:
        walks.append(args[-1])
        return real(*args)

    monkeypatch.setattr(search_window, "_pg_walk", counted)
    first = WINDOW * search_window.PG_FIRST_WALK

    def run(text: str, flt: ArticleFilter) -> search_window.Window:
        walks.clear()
        return _window(arch, text, flt)

    # a frequent word fills the window in the first walk
    assert run("common", ArticleFilter(source="big")).candidates is not None and walks == [first]
    # one match in ten: the first walk finds a few, the second goes as far as that predicts
    tenth = run("tenth", ArticleFilter(source="big"))
    assert tenth.candidates is not None and len(tenth.candidates) == WINDOW
    assert len(walks) == 2 and first < walks[1] <= WINDOW * search_window.PG_WALK_MAX
    # a filter smaller than the first walk is settled by it, whatever matches
    assert run("tenth", ArticleFilter(author="seldom")).candidates == []
    # matches at both ends: neither walk fills the window nor covers the source
    assert run("edge", ArticleFilter(source="big")) == search_window.Window(None) and len(walks) == 2
    # a word the walk does not meet: the planner's statement
    assert run("rare", ArticleFilter(source="big")) == search_window.Window(None)
    # with a language filter besides, the walk would read rows it throws away
    with arch.sessions() as s:
        filtered = queries.apply_filter(select(Article.id), ArticleFilter(source="big", language="en"), "postgresql")
        indexed = queries.apply_filter(select(Article.id), ArticleFilter(source="big"), "postgresql")
        walks.clear()
        assert FullText("postgresql", parse("common")).window(s, filtered, WINDOW, indexed=indexed).candidates is None
        assert walks == []


@pytest.mark.parametrize("flt", [ArticleFilter(source="big"), ArticleFilter(source="small", since=T0)])
def test_search_pages_through_a_stepped_window_once_each(
    arch: Archive, flt: ArticleFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "SEARCH_WINDOW", WINDOW)
    with arch.sessions() as s:
        whole = [(h.article.id, h.score) for h in queries.search_articles(s, "tenth common", flt, limit=50).items]
        paged: list[tuple[int, float]] = []
        after = None
        for _ in range(10):
            page = queries.search_articles(s, "tenth common", flt, limit=3, after=after)
            paged.extend((h.article.id, h.score) for h in page.items)
            after = page.next_cursor
            if after is None:
                break
    assert paged == whole and len(whole) == min(WINDOW, len(whole)) and whole
    assert [score for _, score in whole] == sorted((score for _, score in whole), reverse=True)


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_page_of_orders_best_first_ties_by_id_and_continues_after_the_cursor(lower_is_better: bool) -> None:
    ranks = [(5, 0.5), (3, 0.2), (9, 0.2), (1, 0.9), (4, 0.2)]
    order = [3, 4, 9, 5, 1] if lower_is_better else [1, 5, 3, 4, 9]
    page = search_window.page_of(ranks, None, 10, lower_is_better=lower_is_better)
    assert [i for i, _ in page] == order
    rank_of = dict(ranks)
    for k in range(len(order)):
        cursor = SearchCursor(rank_of[order[k]], order[k])
        rest = search_window.page_of(ranks, cursor, 2, lower_is_better=lower_is_better)
        assert [i for i, _ in rest] == order[k + 1 : k + 3]
