"""Bad input never raises: it gives an empty or partial body and flags saying why."""

from __future__ import annotations

import os
import random

import pytest

from scrapers import ExtractionFlag, decode_html, extract

PARAGRAPH = "<p>" + "A sentence of real article prose that goes on for a while. " * 5 + "</p>"


@pytest.mark.parametrize("data", [b"", "", b"   \n\t ", "   "])
def test_empty_input(data: bytes | str) -> None:
    article = extract(data, "https://x.test/")
    assert article.text == ""
    assert ExtractionFlag.EMPTY_INPUT in article.flags


def test_binary_junk() -> None:
    junk = random.Random(7).randbytes(50_000)
    article = extract(junk)
    assert article.text == ""
    assert ExtractionFlag.NOT_HTML in article.flags


def test_png_bytes() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000)
    assert ExtractionFlag.NOT_HTML in extract(data).flags


def test_plain_text_is_flagged_not_html() -> None:
    article = extract(b"just some words, no markup at all")
    assert ExtractionFlag.NOT_HTML in article.flags


def test_truncated_html_gives_partial_text() -> None:
    html = ("<html><body><article>" + PARAGRAPH * 6 + "<p>cut in the mid").encode()
    article = extract(html[: len(html) - 3])
    assert ExtractionFlag.TRUNCATED in article.flags
    assert article.text.startswith("A sentence of real article prose")


def test_deep_nesting_is_bounded() -> None:
    html = "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>"
    article = extract(html)
    assert ExtractionFlag.TOO_DEEP in article.flags


def test_deep_nesting_keeps_text_before_it() -> None:
    html = "<html><body><article>" + PARAGRAPH * 3 + "</article>" + "<section>" * 50_000
    article = extract(html.encode())
    assert ExtractionFlag.TOO_DEEP in article.flags
    assert "real article prose" in article.text


def test_twenty_megabyte_page_is_cut_and_flagged() -> None:
    filler = "<div><a href='/x'>link</a> " + "x" * 200 + "</div>\n"
    html = "<html><body><article>" + PARAGRAPH * 3 + "</article>"
    html += filler * (20 * 1024 * 1024 // len(filler))
    article = extract(html.encode())
    assert ExtractionFlag.TOO_LARGE in article.flags
    assert "real article prose" in article.text


def test_wrong_charset_declaration_is_not_trusted() -> None:
    text = "<html><head><meta charset='iso-8859-1'></head><body>" + PARAGRAPH
    text += "<p>Ünïcödé “quotes” – the São Paulo office said on Monday that it would stay open.</p>"
    text += "</body></html>"
    article = extract(text.encode("utf-8"), content_type="text/html; charset=iso-8859-1")
    assert "São Paulo" in article.text


def test_missing_charset_cp1252_is_detected() -> None:
    body = "Le café était très animé ce soir-là, et les élèves répétaient leurs leçons. " * 4
    html = f"<html><body><p>{body}</p></body></html>".encode("cp1252")
    article = extract(html)
    assert "café était très" in article.text


def test_undecodable_bytes_flag_decode_errors() -> None:
    html = b"<html><body><p>" + b"caf\xe9 \x81\x8d\x8f\x90\x9d " * 30 + b"</p></body></html>"
    article = extract(html, content_type="text/html; charset=utf-8")
    assert isinstance(article.text, str)


def test_decode_html_order_of_evidence() -> None:
    utf8 = "<p>naïve</p>".encode()
    assert decode_html(utf8) == ("<p>naïve</p>", "utf-8")
    latin = "<meta charset='windows-1252'><p>naïve</p>".encode("cp1252")
    assert decode_html(latin)[0].endswith("<p>naïve</p>")
    assert decode_html(latin)[1] == "cp1252"
    bom = "<p>x</p>".encode("utf-16")
    assert decode_html(bom) == ("<p>x</p>", "utf-16-le")
    text, encoding = decode_html(b"\xff\xfe\xfd junk", "text/html; charset=nonsense")
    assert isinstance(text, str) and encoding


def test_404_page_has_no_article() -> None:
    html = """<html><head><title>Page not found</title></head><body>
    <nav><a href="/">Home</a><a href="/news">News</a></nav>
    <h1>404</h1><p>Sorry, we couldn't find that page.</p>
    <ul><li><a href="/a">Top story one</a></li><li><a href="/b">Top story two</a></li></ul>
    </body></html>"""
    article = extract(html, "https://x.test/missing")
    assert len(article.text) < 100
    assert {ExtractionFlag.NO_ARTICLE, ExtractionFlag.SHORT_BODY} & set(article.flags)


def test_home_page_has_no_article() -> None:
    items = "".join(
        f'<li><a href="/story/{i}">Headline number {i} about the day\'s events</a></li>'
        for i in range(40)
    )
    html = f"<html><body><header><a href='/'>Site</a></header><ul>{items}</ul></body></html>"
    article = extract(html, "https://x.test/")
    assert article.text == ""
    assert ExtractionFlag.NO_ARTICLE in article.flags


def test_odd_markup_does_not_raise() -> None:
    for html in [
        "<",
        "<<<>>>",
        "<html><body><p>" + "<b>" * 5000 + "text",
        "<table>" * 3000 + "x",
        "<svg><p>inside svg</p></svg>",
        "<p>\x00\x01 nul in text</p>",
        "<!--" * 1000,
        "<script>" + "x" * 100_000,
        "\ud800 lone surrogate <p>text</p>",
    ]:
        extract(html)


def test_fragments_are_not_flagged_truncated() -> None:
    article = extract("<p>" + "Plain fragment prose that is long enough to count. " * 6 + "</p>")
    assert ExtractionFlag.TRUNCATED not in article.flags
    assert article.text.startswith("Plain fragment prose")


def test_no_bad_input_reaches_the_last_resort_handler() -> None:
    for html in [
        "<",
        "<svg><p>x</p></svg>",
        "\ud800 <p>lone surrogate</p>",
        b"\xef\xbb\xbf<p>x</p>",
    ]:
        assert ExtractionFlag.EXTRACTOR_ERROR not in extract(html).flags


def test_page_declared_utf8_but_in_cp1252_is_read_right() -> None:
    body = "Le café était très animé, et les élèves répétaient leurs leçons à voix haute. " * 3
    html = f"<html><head><meta charset='utf-8'></head><body><p>{body}</p></body></html>"
    article = extract(html.encode("cp1252"))
    assert "café était très" in article.text
    assert "\ufffd" not in article.text


def test_declared_utf8_with_a_few_bad_bytes_is_flagged() -> None:
    good = "Une phrase correcte en français avec des accents: été, à, où. ".encode() * 4
    html = b"<html><body><p>" + good + b"\xff\xfe bad</p></body></html>"
    article = extract(html, content_type="text/html; charset=utf-8")
    assert ExtractionFlag.DECODE_ERRORS in article.flags
    assert "été" in article.text
