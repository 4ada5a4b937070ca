"""The text-dump cleaner: seeds, general rules, and properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers import DumpFormatError, clean_dump

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.exists() else []
    if not found:
        pytest.skip(f"seed {prefix} not found under {SEEDS}")
    return found[0].read_text(encoding="utf-8")


def test_seed_000_is_left_unchanged() -> None:
    raw = _seed("000")
    result = clean_dump(raw)
    body = raw.split("date 2025-09-11", 1)[1].strip()
    assert result.text == body
    assert result.removed == ()
    assert result.dump_date == datetime(2025, 9, 11, tzinfo=UTC)
    assert result.authors == ()


def test_seed_001_leaves_exactly_the_body() -> None:
    raw = _seed("001")
    result = clean_dump(raw)
    lines = raw.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("ISLAMABAD, (UrduPoint"))
    last = next(i for i, line in enumerate(lines) if line.endswith("Inspector General."))
    assert result.text == "\n".join(lines[first : last + 1])
    assert result.authors == ("Muhammad Irfan",)
    assert result.published_at == datetime(2025, 9, 10, 16, 40, tzinfo=UTC)
    assert result.title is not None and result.title.lower().startswith("pakistan, bahrain pledge")
    assert result.dump_date == datetime(2025, 9, 10, tzinfo=UTC)
    assert "Recent Stories" in result.removed


def test_site_time_zone_is_applied_when_given() -> None:
    raw = _seed("001")
    pkt = timezone(timedelta(hours=5))
    result = clean_dump(raw, default_tz=pkt)
    assert result.published_at == datetime(2025, 9, 10, 11, 40, tzinfo=UTC)


DUMP = """date 2024-03-01 - Home
- World
- Storm hits the northern coast overnight
Storm Hits The Northern Coast Overnight
By Jane Roe | Published March 1, 2024 09:05 AM
OSLO: A storm hit the northern coast overnight, cutting power to thousands of homes.
Crews worked through the morning to restore the lines.
Read more
Ferry services suspended
Schools closed in three towns
Wind warning extended to Sunday
"""


def test_general_rules_on_a_made_up_dump() -> None:
    result = clean_dump(DUMP)
    assert result.text == (
        "OSLO: A storm hit the northern coast overnight, cutting power to thousands of homes.\n"
        "Crews worked through the morning to restore the lines."
    )
    assert result.title == "Storm hits the northern coast overnight"
    assert result.authors == ("Jane Roe",)
    assert result.published_at == datetime(2024, 3, 1, 9, 5, tzinfo=UTC)


def test_relative_time_list_without_heading_is_dropped() -> None:
    raw = (
        "date 2024-01-02 The council approved the budget on Tuesday after a long debate.\n"
        "It takes effect in April.\n"
        "Bridge repairs start next week5 minutes ago\n"
        "Mayor opens new library12 minutes ago\n"
        "Bus fares frozen for a year1 hour ago\n"
    )
    assert clean_dump(raw).text == (
        "The council approved the budget on Tuesday after a long debate.\nIt takes effect in April."
    )


@pytest.mark.parametrize(
    "raw", ["", "hello", "date 2024-13-01 text", "Date: 2024-01-01 x", "date 24-01-01 x"]
)
def test_missing_or_bad_prefix_raises(raw: str) -> None:
    with pytest.raises(DumpFormatError):
        clean_dump(raw)


_line = st.one_of(
    st.text(max_size=120),
    st.sampled_from(
        ["- Home", "-", "Recent Stories", "Related", "Read more", "X Published May 1, 2024",
         "Short headline", "A full sentence that ends here.", "", "2 minutes ago"]
    ),
)  # fmt: skip
_body = st.lists(_line, max_size=30).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(_body)
def test_never_raises_after_a_valid_prefix(body: str) -> None:
    clean_dump("date 2024-05-06 " + body)


@settings(max_examples=150, deadline=None)
@given(_body)
def test_output_lines_are_a_subsequence_of_input_lines(body: str) -> None:
    # Only the text's outer whitespace is trimmed, so compare lines stripped.
    out = clean_dump("date 2024-05-06 " + body).text
    source = iter(body.split("\n"))
    for line in out.split("\n") if out else []:
        assert any(line.strip() == candidate.strip() for candidate in source)


@settings(max_examples=150, deadline=None)
@given(_body)
def test_cleaning_is_idempotent(body: str) -> None:
    once = clean_dump("date 2024-05-06 " + body).text
    twice = clean_dump("date 2024-05-06 " + once).text
    assert twice == once
