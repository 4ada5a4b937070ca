"""Which matches a search ranks: the window of the newest ``SEARCH_WINDOW`` matches.

"Newest" differs by database (db.queries): SQLite's window is the newest articles by
first-seen order (highest ids, FTS5's rowid order); PostgreSQL's the newest by
published date, ``(published_at, id)`` descending, with undated articles (by id
descending) only after every dated match.  Whichever plan finds the window, it is that
set, so undated articles never crowd out dated ones on PostgreSQL, ties go by id, and
paging with cursors visits each article of the window exactly once, across the
dated/undated boundary too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from db import queries, search_window
from db.fulltext import FullText
from db.models import Article, Source
from db.queries import ArticleFilter
from db.search_syntax import parse
from db.session import transaction

from .seed import T0, Archive

NEWEST = T0 + timedelta(days=41)
TIE_SECOND = T0 + timedelta(days=40)
#: microseconds within one second, in insertion (id) order: not the order of the dates
TIE_MICROS = [900_000, 100_000, 500_000, 500_000, 700_000, 0]
DATED = 12
UNDATED = 30
#: undated copies of the "tide" articles (the same text, so the same rank), newest ids
UNDATED_TIDES = 2


@pytest.fixture(scope="module")
def arch(shared_arch: Archive) -> Archive:
    """The test archive plus a source "port" whose articles say "harbour": 12 dated ones with
    it in the title (the best matches), six within one second ("tide"; their ids do not
    follow their dates), three with the very same date, then 30 undated ones that only
    mention it, and last two undated copies of a "tide" article."""
    with transaction(shared_arch.sessions) as s:
        s.add(Source(name="port"))
        s.flush()
        port = s.scalar(select(Source.id).where(Source.name == "port"))
        rows: list[dict[str, object]] = []
        for i in range(DATED):
            rows.append({"title": f"Harbour report {i}", "body": "The harbour reopened.",
                         "published_at": T0 + timedelta(days=20, hours=i)})
        for micros in TIE_MICROS:
            rows.append({"title": "Tide table", "body": "Harbour tide times.",
                         "published_at": TIE_SECOND + timedelta(microseconds=micros)})
        for i in range(3):
            rows.append({"title": f"Same minute {i}", "body": "Harbour crane news.", "published_at": NEWEST})
        for i in range(UNDATED):
            rows.append({"title": f"Undated note {i}", "body": "A note that mentions a harbour once among many words.",
                         "published_at": None})
        for _ in range(UNDATED_TIDES):
            rows.append({"title": "Tide table", "body": "Harbour tide times.", "published_at": None})
        for n, row in enumerate(rows):
            s.execute(insert(Article).values(
                source_id=port, url=f"https://port.example/{n}", authors=["Dock Writer"] if n % 3 == 0 else [],
                fetched_at=T0 + timedelta(days=50), language="ur" if n % 5 == 0 else "en",
                content_hash=f"{n:064x}", word_count=5, provenance={}, flags=[], **row,
            ))
    return shared_arch


def _is_postgres(arch: Archive) -> bool:
    return arch.engine.dialect.name == "postgresql"


def _walk(fetch: Callable[[str | None], queries.Page]) -> list[int]:
    """Ids of every page ``fetch(after)`` returns, following the cursors to the end."""
    ids: list[int] = []
    after = None
    while True:
        page = fetch(after)
        ids.extend(item.id for item in page.items)
        after = page.next_cursor
        if after is None:
            return ids


def _listing(arch: Archive, flt: ArticleFilter) -> list[int]:
    with arch.sessions() as s:
        return _walk(lambda after: queries.list_articles(s, flt, limit=7, after=after))


def _listing_rows(arch: Archive, flt: ArticleFilter) -> list[int]:
    with arch.engine.connect() as conn:
        return _walk(lambda after: queries.list_article_rows(conn, flt, limit=4, after=after))


def _search_pages(arch: Archive, text: str, flt: ArticleFilter, limit: int) -> Iterator[list[tuple[int, float]]]:
    after = None
    with arch.sessions() as s:
        for _ in range(200):
            page = queries.search_articles(s, text, flt, limit=limit, after=after)
            yield [(h.article.id, h.score) for h in page.items]
            after = page.next_cursor
            if after is None:
                return
    raise AssertionError("search paging did not end")


def _searched(arch: Archive, text: str, flt: ArticleFilter, limit: int = 3) -> list[int]:
    return [i for page in _search_pages(arch, text, flt, limit) for i, _ in page]


def _matches(arch: Archive, text: str, flt: ArticleFilter, monkeypatch: pytest.MonkeyPatch) -> set[int]:
    with monkeypatch.context() as m:
        m.setattr(queries, "SEARCH_WINDOW", 100_000)
        return set(_searched(arch, text, flt, limit=200))


def _window_order(arch: Archive, flt: ArticleFilter, matching: set[int]) -> list[int]:
    """Every match, in the order the window takes them on this database."""
    if _is_postgres(arch):  # the listing's order: dated newest first, then undated by id
        return [i for i in _listing(arch, flt) if i in matching]
    return sorted(matching, reverse=True)  # first seen


def _port(arch: Archive) -> list[int]:
    with arch.sessions() as s:
        return list(s.scalars(select(Article.id).join(Source).where(Source.name == "port").order_by(Article.id)))


CASES = [
    ("harbour", ArticleFilter()),
    ("tide", ArticleFilter()),
    ("harbour -tide", ArticleFilter()),
    ("harbour OR tide", ArticleFilter(language="en")),
    ("harbour", ArticleFilter(source="port")),
    ("tide", ArticleFilter(source="port")),
    ("harbour", ArticleFilter(author="dock")),
    ("harbour", ArticleFilter(source="port", language="en")),
    ("harbour", ArticleFilter(has_duplicates=False)),
    ("harbour", ArticleFilter(since=T0 + timedelta(days=20, hours=5))),
    ("harbour", ArticleFilter(source="port", until=TIE_SECOND + timedelta(microseconds=600_000))),
]
WINDOWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 22, 25, 40, 60]


@pytest.mark.parametrize("small_thresholds", [False, True], ids=["default-plans", "small-thresholds"])
@pytest.mark.parametrize(("text", "flt"), CASES)
def test_window_is_the_newest_matches_in_the_databases_order(
    arch: Archive, text: str, flt: ArticleFilter, small_thresholds: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if small_thresholds:  # every plan of db.search_window gets its turn on this small archive
        monkeypatch.setattr(search_window, "SMALL_SET", 10)
        monkeypatch.setattr(search_window, "ROW_CHECK_SHARE", 0.05)
        monkeypatch.setattr(search_window, "PG_FIRST_WALK", 1)
        monkeypatch.setattr(search_window, "PG_WALK_MAX", 3)
    matching = _matches(arch, text, flt, monkeypatch)
    assert matching
    in_order = _window_order(arch, flt, matching)
    assert set(in_order) == matching
    for window in WINDOWS:
        monkeypatch.setattr(queries, "SEARCH_WINDOW", window)
        found = _searched(arch, text, flt)
        assert len(found) == len(set(found)), f"window {window}: an article came twice"
        assert set(found) == set(in_order[:window]), f"window {window}"


def test_listing_puts_undated_articles_after_the_dated_ones_in_id_order(arch: Archive) -> None:
    with arch.sessions() as s:
        rows = s.execute(
            select(Article.id, Article.published_at).join(Source).where(Source.name == "port")
        ).all()
    dated = [i for i, _ in sorted(((i, p) for i, p in rows if p is not None), key=lambda r: (r[1], r[0]), reverse=True)]
    undated = sorted((i for i, p in rows if p is None), reverse=True)
    expected = dated + undated
    flt = ArticleFilter(source="port")
    assert _listing(arch, flt) == expected
    assert _listing_rows(arch, flt) == expected
    # the whole archive: its undated articles (the seed's and the port's) close the listing
    with arch.sessions() as s:
        every_undated = sorted(s.scalars(select(Article.id).where(Article.published_at.is_(None))), reverse=True)
    everything = _listing_rows(arch, ArticleFilter())
    assert len(every_undated) > len(undated) and everything[-len(every_undated) :] == every_undated
    assert len(everything) == len(set(everything))
    # with a filter an index serves
    english = _ids_in(arch, "en")
    assert _listing_rows(arch, ArticleFilter(source="port", language="en")) == [i for i in expected if i in english]


def _ids_in(arch: Archive, language: str) -> set[int]:
    with arch.sessions() as s:
        return set(s.scalars(select(Article.id).where(Article.language == language)))


def test_undated_articles_do_not_crowd_out_the_dated_best_matches(
    arch: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _is_postgres(arch):
        pytest.skip("PostgreSQL's window is by published date; SQLite's by first seen")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 8)
    port = _port(arch)
    dated_titles = port[:DATED]
    with arch.sessions() as s:
        hits = queries.search_articles(s, "harbour", ArticleFilter(), limit=8).items
    # 32 undated matches outnumber the window; it holds the three of the newest date and
    # the five newest of the tide second (not the one with the highest id: its date is the
    # oldest of that second)
    assert {h.article.id for h in hits} == set(port[DATED + 6 : DATED + 9] + port[DATED : DATED + 5])
    assert all(h.article.published_at is not None for h in hits)
    # with room for them, the title matches come first, undated mentions after them
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 400)
    with arch.sessions() as s:
        hits = queries.search_articles(s, "harbour", ArticleFilter(), limit=DATED).items
        assert {h.article.id for h in hits} == set(dated_titles)
        # a source filter finds its window by walking the source's index: the same rule
        monkeypatch.setattr(queries, "SEARCH_WINDOW", 8)
        hits = queries.search_articles(s, "harbour", ArticleFilter(source="port"), limit=8).items
        assert {h.article.id for h in hits} == set(port[DATED + 6 : DATED + 9] + port[DATED : DATED + 5])


def test_sqlite_window_is_the_first_seen_matches(arch: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    if _is_postgres(arch):
        pytest.skip("SQLite's window is by first seen; PostgreSQL's by published date")
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 8)
    port = _port(arch)
    with arch.sessions() as s:
        hits = queries.search_articles(s, "harbour", ArticleFilter(), limit=8).items
    assert {h.article.id for h in hits} == set(port[-8:])  # the highest ids, undated or not


@pytest.mark.parametrize(("text", "window"), [("harbour", 5), ("harbour", 25), ("harbour", 400), ("tide", 7)])
@pytest.mark.parametrize("flt", [ArticleFilter(), ArticleFilter(source="port"), ArticleFilter(language="en")])
def test_cursor_pages_visit_every_article_of_the_window_once_across_the_undated_boundary(
    arch: Archive, text: str, window: int, flt: ArticleFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    matching = _matches(arch, text, flt, monkeypatch)
    expected = set(_window_order(arch, flt, matching)[:window])
    monkeypatch.setattr(queries, "SEARCH_WINDOW", window)
    with arch.sessions() as s:
        whole = [(h.article.id, h.score) for h in queries.search_articles(s, text, flt, limit=200).items]
        dates = {a.id: a.published_at for a in s.scalars(select(Article).where(Article.id.in_(matching)))}
    assert {i for i, _ in whole} == expected and len(whole) == len(expected)
    for limit in (1, 2, 4, 7):
        pages = list(_search_pages(arch, text, flt, limit))
        paged = [hit for page in pages for hit in page]
        assert paged == whole
        assert all(len(page) == limit for page in pages[:-1])
    scores = [score for _, score in whole]
    assert scores == sorted(scores, reverse=True)
    if _is_postgres(arch) and window in (25, 400, 7):
        # the window crosses the boundary: every dated match and some undated ones
        assert {i for i in matching if dates[i] is not None} <= expected
        assert any(dates[i] is None for i in expected)
    if text == "tide":
        # equal ranks on both sides of the boundary: the pages interleave them by id
        assert len({score for _, score in whole}) == 1
        assert [i for i, _ in whole] == sorted(i for i, _ in whole)


def test_a_changed_date_moves_the_article_in_the_window_on_postgres_only(
    arch: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = arch  # changed here, and put back afterwards
    monkeypatch.setattr(queries, "SEARCH_WINDOW", 3)
    oldest = _port(own)[0]
    undated = _port(own)[DATED + 9]  # the first undated note
    with own.sessions() as s:
        before = {h.article.id for h in queries.search_articles(s, "harbour", ArticleFilter()).items}
    assert oldest not in before and undated not in before
    try:
        with transaction(own.sessions) as s:
            s.execute(update(Article).where(Article.id == oldest).values(published_at=NEWEST + timedelta(days=1)))
            s.execute(update(Article).where(Article.id == undated).values(published_at=NEWEST + timedelta(days=2)))
        with own.sessions() as s:
            after = {h.article.id for h in queries.search_articles(s, "harbour", ArticleFilter()).items}
            if not _is_postgres(own):  # first seen does not change with the date
                assert after == before
                return
            assert {oldest, undated} < after and len(after) == 3
            # and back: an article that loses its date goes after every dated one
            s.execute(update(Article).where(Article.id == undated).values(published_at=None))
            s.commit()
            again = {h.article.id for h in queries.search_articles(s, "harbour", ArticleFilter()).items}
            assert oldest in again and undated not in again
    finally:
        with transaction(own.sessions) as s:
            s.execute(update(Article).where(Article.id == oldest).values(published_at=T0 + timedelta(days=20)))
            s.execute(update(Article).where(Article.id == undated).values(published_at=None))


@pytest.mark.parametrize("window", [22, 25, 60])
def test_postgres_filter_walk_completes_the_window_with_undated_matches(
    arch: Archive, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _is_postgres(arch):
        pytest.skip("PostgreSQL's walk of the filter's index")
    flt = ArticleFilter(source="port")
    expected = _window_order(arch, flt, _matches(arch, "harbour", flt, monkeypatch))[:window]
    with arch.sessions() as s:
        filtered = queries.apply_filter(select(Article.id), flt, "postgresql")
        fulltext = FullText("postgresql", parse("harbour"))
        how = fulltext.window(s, filtered, window)
        # the walk saw every dated article of the source: the undated phase filled the rest
        assert how.candidates is not None
        assert [i for i, _ in how.candidates] == expected
        # a date range keeps no undated article: no undated phase, and the same dated part
        bounded = queries.apply_filter(select(Article.id), ArticleFilter(source="port", since=T0), "postgresql")
        dated_only = fulltext.window(s, bounded, window, undated=False)
        assert dated_only.candidates is not None
        assert [i for i, _ in dated_only.candidates] == expected[: DATED + 9]
