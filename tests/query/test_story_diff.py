"""Paragraph comparison behind the story view."""

from __future__ import annotations

from ingest.api.story_diff import compare, reference_column


def test_shared_edited_added_and_dropped() -> None:
    reference = "First paragraph about the talks.\n\nSecond one on immigration rules.\n\nThird, the visa deal."
    other = (
        "FIRST paragraph about the talks!\n\n"
        "Second one on the immigration rules.\n\n"
        "A local angle nobody else ran."
    )
    column = compare(reference, other)
    assert [p.status for p in column.paragraphs] == ["shared", "edited", "added"]
    assert column.dropped == ["Third, the visa deal."]
    assert column.added == 1
    assert [p.status for p in reference_column(reference).paragraphs] == ["original"] * 3


def test_identical_bodies_have_no_changes() -> None:
    column = compare("a b c\n\nd e f", "a b c\n\nd e f")
    assert column.added == 0 and column.dropped == []
