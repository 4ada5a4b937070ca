"""Metadata with provenance, on small pages written for the purpose."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapers import extract

BODY = (
    "<p>" + "The council voted on the new budget after a long debate in the chamber. " * 4 + "</p>"
)


def page(head: str, body: str = BODY, lang: str = "en") -> str:
    return f'<!doctype html><html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def test_json_ld_news_article_wins_over_og_and_meta() -> None:
    head = """
    <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
      {"@type":"WebSite","name":"Site"},
      {"@type":["NewsArticle"],"headline":"JSON-LD headline",
       "author":[{"@type":"Person","name":"Ann Lee"},{"@type":"Person","name":"Bo Chen"}],
       "datePublished":"2024-02-03T10:00:00+01:00","dateModified":"2024-02-03T12:30:00Z",
       "inLanguage":"de-DE","image":{"@type":"ImageObject","url":"https://x.test/lead.jpg"},
       "publisher":{"@type":"Organization","name":"Daily Test"}}]}</script>
    <meta property="og:title" content="OG title">
    <meta name="author" content="Meta Author">
    <meta property="article:published_time" content="2020-01-01T00:00:00Z">
    """
    article = extract(page(head), "https://x.test/a")
    assert article.title == "JSON-LD headline"
    assert article.authors == ("Ann Lee", "Bo Chen")
    assert article.published_at == datetime(2024, 2, 3, 9, 0, tzinfo=UTC)
    assert article.modified_at == datetime(2024, 2, 3, 12, 30, tzinfo=UTC)
    assert article.language == "de-DE"
    assert article.lead_image == "https://x.test/lead.jpg"
    assert article.site_name == "Daily Test"
    assert article.provenance["title"] == "json-ld"
    assert article.provenance["authors"] == "json-ld"
    assert article.provenance["published_at"] == "json-ld"
    assert article.provenance["site_name"] == "json-ld:publisher"


def test_open_graph_and_meta_tags() -> None:
    head = """
    <meta property="og:title" content="OG title">
    <meta property="og:site_name" content="The Test Times">
    <meta property="og:image" content="/img/lead.png">
    <meta property="article:published_time" content="2023-07-08T09:10:11-04:00">
    <meta property="article:modified_time" content="2023-07-09T00:00:00Z">
    <meta name="author" content="Carla Diaz and Dev Patel">
    <meta name="description" content="What happened.">
    <link rel="canonical" href="/news/a-story">
    """
    article = extract(page(head), "https://times.test/news/a-story?utm=x")
    assert article.title == "OG title"
    assert article.site_name == "The Test Times"
    assert article.lead_image == "https://times.test/img/lead.png"
    assert article.published_at == datetime(2023, 7, 8, 13, 10, 11, tzinfo=UTC)
    assert article.modified_at == datetime(2023, 7, 9, tzinfo=UTC)
    assert article.authors == ("Carla Diaz", "Dev Patel")
    assert article.canonical_url == "https://times.test/news/a-story"
    assert article.description == "What happened."
    assert article.language == "en"
    assert article.provenance == {
        "title": "og:title",
        "site_name": "og:site_name",
        "lead_image": "meta:og:image",
        "published_at": "meta:article:published_time",
        "modified_at": "meta:article:modified_time",
        "authors": "meta:author",
        "canonical_url": "link:canonical",
        "description": "meta:og:description" if False else "meta:description",
        "language": "html:lang",
    }


def test_time_element_byline_and_title_fallbacks() -> None:
    body = (
        '<article><h1>Visible headline</h1><p class="byline">By Erin Fox</p>'
        '<time datetime="2022-12-01T08:00:00Z">1 Dec 2022</time>' + BODY + "</article>"
    )
    article = extract(page("<title>Visible headline | Test Site</title>", body))
    assert article.title == "Visible headline"
    assert article.provenance["title"] == "h1"
    assert article.published_at == datetime(2022, 12, 1, 8, tzinfo=UTC)
    assert article.provenance["published_at"] == "time"
    assert article.authors == ("Erin Fox",)
    assert article.provenance["authors"] == "byline"
    assert "Erin Fox" not in article.text


def test_title_tag_suffix_is_cut_when_nothing_better() -> None:
    article = extract(page("<title>Markets rally on rate hopes | Test Site</title>"))
    assert article.title == "Markets rally on rate hopes"
    assert article.provenance["title"] == "title"


def test_naive_dates_are_read_as_utc_and_junk_dates_ignored() -> None:
    head = (
        '<meta name="pubdate" content="2021-05-06 07:08:09">'
        '<meta name="last-modified" content="not a date">'
    )
    article = extract(page(head))
    assert article.published_at == datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert article.published_at is not None and article.published_at.tzinfo is not None
    assert article.modified_at is None


def test_broken_json_ld_falls_back_to_meta() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
        '<meta property="og:title" content="Fallback title">'
    )
    article = extract(page(head))
    assert article.title == "Fallback title"


def test_json_ld_in_body_is_read() -> None:
    body = (
        '<script type="application/ld+json">{"@type":"BlogPosting","headline":"Body LD",'
        '"author":"Gil Ho","datePublished":"2019-11-19"}</script>' + BODY
    )
    article = extract(page("", body))
    assert article.title == "Body LD"
    assert article.authors == ("Gil Ho",)
    assert article.published_at == datetime(2019, 11, 19, tzinfo=UTC)


def test_author_credentials_and_outlets_are_not_authors() -> None:
    for value, expected in [
        ("Ilana Muhlstein, MS, RDN", ("Ilana Muhlstein",)),
        ("Sandee LaMotte, CNN", ("Sandee LaMotte",)),
        ("Troy L. Smith, Cleveland.com", ("Troy L. Smith",)),
        ("By Ann Lee and Bo Chen", ("Ann Lee", "Bo Chen")),
        ("Associated Press", ("Associated Press",)),
    ]:
        article = extract(page(f'<meta name="author" content="{value}">'))
        assert article.authors == expected, value


def test_entities_in_json_ld_are_decoded() -> None:
    head = (
        '<script type="application/ld+json">{"@type":"Article",'
        '"headline":"&#8216;Quoted&#8217; &amp; more"}</script>'
    )
    assert extract(page(head)).title == "‘Quoted’ & more"
