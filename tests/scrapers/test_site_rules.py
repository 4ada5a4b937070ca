"""Loading and validating site rules; choosing one by host."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapers import RuleError, extract
from scrapers.rules import load_rule, load_rules, parse_rule, rule_for_host


def test_builtin_rules_are_chosen_by_host() -> None:
    rule = rule_for_host("www.urdupoint.com")
    assert rule is not None and rule.name == "urdupoint"
    rule = rule_for_host("tribune.com.pk")
    assert rule is not None and rule.name == "express-tribune"
    assert rule_for_host("example.com") is None
    assert rule_for_host("noturdupoint.com") is None
    assert rule_for_host(None) is None


def test_most_specific_host_wins() -> None:
    general = parse_rule({"name": "a", "hosts": ["example.com"]})
    specific = parse_rule({"name": "b", "hosts": ["news.example.com"]})
    chosen = rule_for_host("news.example.com", [general, specific])
    assert chosen is specific
    assert rule_for_host("www.example.com", [general, specific]) is general


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hosts": ["a.com"]}, "name"),
        ({"name": "x"}, "hosts"),
        ({"name": "x", "hosts": []}, "hosts"),
        ({"name": "x", "hosts": ["a.com/path"]}, "hosts"),
        ({"name": "x", "hosts": ["a.com"], "body": "div[[["}, "selector"),
        ({"name": "x", "hosts": ["a.com"], "drop": "div"}, "drop"),
        ({"name": "x", "hosts": ["a.com"], "bodyy": "div"}, "unknown key"),
        ({"name": "x", "hosts": ["a.com"], "timezone": "Mars/Base"}, "timezone"),
        ({"name": "x", "hosts": ["a.com"], "hook": "no_such_hook"}, "hook"),
    ],
)
def test_bad_rules_raise_rule_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rule(data)


def test_unreadable_toml_raises_rule_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\nhosts = [', encoding="utf-8")
    with pytest.raises(RuleError):
        load_rule(path)


def test_duplicate_rule_names_are_refused(tmp_path: Path) -> None:
    for file in ("a.toml", "b.toml"):
        (tmp_path / file).write_text('name = "same"\nhosts = ["a.com"]\n', encoding="utf-8")
    with pytest.raises(RuleError, match="duplicate"):
        load_rules(tmp_path)


def test_rule_overrides_only_where_given() -> None:
    html = b"""<html><head><meta property="og:title" content="From OG">
    <meta name="author" content="Meta Author"></head><body>
    <div class="x"><p>Rule body paragraph that is long enough to be real prose, and more.</p></div>
    <div class="y"><p>Elsewhere.</p></div></body></html>"""
    rule = parse_rule({"name": "t", "hosts": ["t.example"], "body": "div.x"})
    import scrapers.rules as rules_mod

    original = rules_mod.builtin_rules
    rules_mod.builtin_rules.cache_clear()
    try:
        rules_mod.builtin_rules = lambda: (rule,)  # type: ignore[assignment]
        article = extract(html, "https://t.example/a")
    finally:
        rules_mod.builtin_rules = original
    assert article.rule == "t"
    assert article.text == "Rule body paragraph that is long enough to be real prose, and more."
    assert article.title == "From OG"  # no title selector: generic metadata stays
    assert article.authors == ("Meta Author",)
    assert article.provenance["text"] == "rule:t"
