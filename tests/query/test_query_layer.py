"""The shared query layer on SQLite and PostgreSQL: listing, filters, full-text search, cursors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from db import queries
from db import repository as repo
from db.cursors import InvalidCursor
from db.fulltext import MARK_END, MARK_START
from db.models import Article
from db.models_search import article_authors, author_names
from db.queries import ArticleFilter
from db.search_syntax import InvalidQuery
from db.session import transaction

from .seed import T0, Archive, article_values, bulk_articles


def _all_pages(arch: Archive, flt: ArticleFilter, limit: int, text: str | None = None) -> list[int]:
    ids: list[int] = []
    after = None
    with arch.sessions() as s:
        for _ in range(100):
            if text is None:
                page = queries.list_articles(s, flt, limit=limit, after=after)
                ids.extend(a.id for a in page.items)
            else:
                page = queries.search_articles(s, text, flt, limit=limit, after=after)
                ids.extend(h.article.id for h in page.items)
            after = page.next_cursor
            if after is None:
                return ids
    raise AssertionError("pagination did not end")


def test_list_is_newest_first_with_undated_last_and_cursor_pages_cover_each_row_once(shared_arch: Archive) -> None:
    ids = _all_pages(shared_arch, ArticleFilter(), limit=2)
    a = shared_arch.ids
    dated = [a["running"], a["flood"], a["cricket"], a["bahrain_tribune"], a["bahrain_dawn"]]
    undated = sorted((a[f"undated{n}"] for n in range(3)), reverse=True)
    assert ids == dated + undated
    assert _all_pages(shared_arch, ArticleFilter(), limit=3) == ids
    assert _all_pages(shared_arch, ArticleFilter(), limit=100) == ids


def test_keyset_pagination_is_stable_when_new_articles_arrive(arch: Archive) -> None:
    with arch.sessions() as s:
        first = queries.list_articles(s, ArticleFilter(), limit=2)
    bulk_articles(arch.sessions, 3)  # newer than everything on the first page
    with arch.sessions() as s:
        second = queries.list_articles(s, ArticleFilter(), limit=2, after=first.next_cursor)
    assert [x.id for x in second.items] == [arch.ids["cricket"], arch.ids["bahrain_tribune"]]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (ArticleFilter(source="geo"), ["running", "flood"]),
        (ArticleFilter(source="nobody"), []),
        (ArticleFilter(language="ur"), ["flood"]),
        (ArticleFilter(author="wasim"), ["bahrain_dawn"]),
        (ArticleFilter(author="zoë"), ["cricket"]),
        (ArticleFilter(author="100%"), []),
        (ArticleFilter(since=T0 + timedelta(days=1), until=T0 + timedelta(days=3)), ["flood", "cricket"]),
        (ArticleFilter(has_duplicates=True), ["bahrain_tribune", "bahrain_dawn"]),
        (ArticleFilter(source="tribune", has_duplicates=False), ["undated2", "undated1", "undated0"]),
    ],
)
def test_filters(shared_arch: Archive, flt: ArticleFilter, expected: list[str]) -> None:
    assert _all_pages(shared_arch, flt, limit=2) == [shared_arch.ids[k] for k in expected]


def test_search_ranks_stems_and_highlights(shared_arch: Archive) -> None:
    with shared_arch.sessions() as s:
        hits = queries.search_articles(s, "running", ArticleFilter()).items
        assert [h.article.id for h in hits] == [shared_arch.ids["running"]]
        assert MARK_START + "running" + MARK_END in hits[0].snippet
        # a title match outranks a body-only match
        hits = queries.search_articles(s, "cricket", ArticleFilter()).items
        assert [h.article.id for h in hits] == [shared_arch.ids["cricket"]]
        hits = queries.search_articles(s, "bahrain working group", ArticleFilter()).items
        assert {h.article.id for h in hits} == {shared_arch.ids["bahrain_dawn"], shared_arch.ids["bahrain_tribune"]}
        assert hits[0].score >= hits[1].score > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"working group"', {"bahrain_dawn", "bahrain_tribune"}),
        ('"group working"', set()),
        ("pakistan -bahrain", {"cricket"}),
        ("cricket OR floods", {"cricket", "flood"}),
        ("budget", {"undated0", "undated1", "undated2"}),
        ('pakistan" (* -', {"bahrain_dawn", "bahrain_tribune", "cricket"}),
    ],
)
def test_search_syntax_on_both_databases(shared_arch: Archive, text: str, expected: set[str]) -> None:
    with shared_arch.sessions() as s:
        hits = queries.search_articles(s, text, ArticleFilter(), limit=50).items
    assert {h.article.id for h in hits} == {shared_arch.ids[k] for k in expected}


def test_search_with_filters_and_cursor_pages(arch: Archive) -> None:
    bulk_articles(arch.sessions, 7, source="bulk")
    paged = _all_pages(arch, ArticleFilter(source="bulk"), limit=3, text="economy budget")
    with arch.sessions() as s:
        whole = [h.article.id for h in queries.search_articles(s, "economy budget", ArticleFilter(source="bulk"), limit=50).items]
    assert len(paged) == 7 and paged == whole
    assert _all_pages(arch, ArticleFilter(language="ur"), limit=3, text="economy") == []


def test_index_follows_inserts_updates_and_deletes(arch: Archive) -> None:
    aid = arch.ids["flood"]
    with transaction(arch.sessions) as s:
        s.execute(update(Article).where(Article.id == aid).values(title="Monsoon update", body="Monsoon rains."))
    with arch.sessions() as s:
        assert [h.article.id for h in queries.search_articles(s, "monsoon", ArticleFilter()).items] == [aid]
        assert queries.search_articles(s, "villagers", ArticleFilter()).items == []
    with transaction(arch.sessions) as s:
        s.execute(delete(Article).where(Article.id == aid))
    with arch.sessions() as s:
        assert queries.search_articles(s, "monsoon", ArticleFilter()).items == []


@pytest.mark.parametrize("text", ["", "   ", "---", '""', "-pakistan", "x" * 600])
def test_unsearchable_queries_are_typed_errors(shared_arch: Archive, text: str) -> None:
    with shared_arch.sessions() as s, pytest.raises(InvalidQuery):
        queries.search_articles(s, text, ArticleFilter())


@pytest.mark.parametrize("after", ["zzz", "eyJrIjoic2VhcmNoIiwiciI6MSwiaSI6MX0", "eyJrIjoibGlzdCJ9", "%%%"])
def test_bad_cursors_are_typed_errors(shared_arch: Archive, after: str) -> None:
    with shared_arch.sessions() as s, pytest.raises(InvalidCursor):
        queries.list_articles(s, ArticleFilter(), after=after)


def test_get_article_and_source_health(shared_arch: Archive) -> None:
    with shared_arch.sessions() as s:
        article = queries.get_article(s, shared_arch.ids["cricket"])
        assert article.source is not None and article.source.name == "dawn"
        health = {h.source.name: h for h in queries.source_health(s)}
    assert health["dawn"].articles == 2
    assert health["dawn"].last_run is not None and health["dawn"].last_run.counts == {"stored": 2}
    assert health["geo"].last_run is None


def test_author_index_follows_inserts_updates_and_deletes(arch: Archive) -> None:
    """The ``article_authors`` index (maintained by triggers) answers like the JSON did."""
    aid = arch.ids["flood"]

    def by_author(name: str) -> list[int]:
        with arch.sessions() as s:
            return [a.id for a in queries.list_articles(s, ArticleFilter(author=name), limit=50).items]

    with transaction(arch.sessions) as s:
        s.execute(update(Article).where(Article.id == aid).values(authors=["Nadia QURESHI", 7, None, ""]))
    assert by_author("qureshi") == [aid] and by_author("nadia q") == [aid]
    with transaction(arch.sessions) as s:
        s.execute(update(Article).where(Article.id == aid).values(authors={"not": "a list"}))
    assert by_author("qureshi") == []
    with transaction(arch.sessions) as s:
        s.execute(update(Article).where(Article.id == aid).values(authors=["Qureshi, Nadia"]))
    [new] = bulk_articles(arch.sessions, 1, source="bulk")
    with transaction(arch.sessions) as s:
        s.execute(update(Article).where(Article.id == new).values(authors=["N. Qureshi"]))
    assert sorted(by_author("QURESHI")) == sorted([new, aid])
    with transaction(arch.sessions) as s:
        s.execute(delete(Article).where(Article.id == aid))
    assert by_author("qureshi") == [new]


def test_author_index_follows_a_batch_inserted_in_one_statement(arch: Archive) -> None:
    """The store writer inserts many articles in one statement (PostgreSQL links their
    authors once per statement, from the inserted rows)."""
    authors: list[object] = [["Ayesha KHAN", "ayesha khan", "Bilal Shah"], ["Bilal Shah"], {"not": "a list"}, []]
    values = [
        article_values(f"https://batch.example/{i}", f"Batch story {i}", f"Batch body {i}.", authors=a)
        for i, a in enumerate(authors)
    ]
    raws = [{"url": v["url"], "content_type": "text/html", "compression": "gzip", "size": 1, "data": b"x"} for v in values]
    with transaction(arch.sessions) as s:
        ids = repo.insert_articles(s, values, raws)
    assert all(i is not None for i in ids)

    def by_author(name: str) -> list[int]:
        with arch.sessions() as s:
            return sorted(a.id for a in queries.list_articles(s, ArticleFilter(author=name), limit=50).items)

    assert by_author("ayesha khan") == [ids[0]]
    assert by_author("bilal") == sorted([ids[0], ids[1]])
    with arch.sessions() as s:  # one name row for the two spellings, one link per article and name
        names = s.scalars(select(author_names.c.name).where(author_names.c.name.like("%khan%"))).all()
        links = s.execute(
            select(article_authors.c.article_id).where(article_authors.c.article_id.in_([i for i in ids if i]))
        ).all()
    assert names == ["ayesha khan"]
    assert len(links) == 3  # article 0: ayesha khan, bilal shah; article 1: bilal shah


def test_core_rows_match_the_orm_listing(shared_arch: Archive) -> None:
    """The API's Core listing walks the same pages as :func:`queries.list_articles`."""
    from ingest.api import views

    for flt in (ArticleFilter(), ArticleFilter(source="geo"), ArticleFilter(has_duplicates=True), ArticleFilter(author="zoë")):
        after = None
        with shared_arch.sessions() as s:
            for _ in range(20):
                orm = queries.list_articles(s, flt, limit=2, after=after)
                core = queries.list_article_rows(s.connection(), flt, limit=2, after=after)
                assert all(tuple(r._fields) == queries.ROW_FIELDS for r in core.items)
                assert core.next_cursor == orm.next_cursor
                assert [views.row_dict(r) for r in core.items] == [
                    views.article_item(a).model_dump(mode="json") for a in orm.items
                ]
                assert [views.row_item(r) for r in core.items] == [views.article_item(a) for a in orm.items]
                after = orm.next_cursor
                if after is None:
                    break
