"""Golden tests of the site rules: every rule needs a page and its expected JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scrapers import extract
from scrapers.rules import builtin_rules

GOLDEN = Path(__file__).parent / "golden"
RULE_NAMES = [rule.name for rule in builtin_rules()]


def test_every_rule_has_a_golden_pair() -> None:
    missing = [
        name
        for name in RULE_NAMES
        if not (GOLDEN / f"{name}.html").exists() or not (GOLDEN / f"{name}.json").exists()
    ]
    assert not missing, f"rules without golden page + JSON in {GOLDEN}: {missing}"


def test_every_golden_pair_has_a_rule() -> None:
    stray = sorted({p.stem for p in GOLDEN.glob("*.json")} - set(RULE_NAMES))
    assert not stray, f"golden files for no rule: {stray}"


@pytest.mark.parametrize("name", RULE_NAMES)
def test_rule_matches_golden(name: str) -> None:
    expected = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    article = extract((GOLDEN / f"{name}.html").read_bytes(), expected["url"])
    got = {
        "url": article.url,
        "rule": article.rule,
        "title": article.title,
        "authors": list(article.authors),
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "site_name": article.site_name,
        "canonical_url": article.canonical_url,
        "text": article.text,
    }
    assert got == expected
    assert article.flags == ()
