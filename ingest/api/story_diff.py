"""What each outlet added to or dropped from a story, paragraph by paragraph.

The earliest member is the reference.  A paragraph of another member is
``shared`` when it matches a reference paragraph (same words after
normalising case, punctuation and spacing, or a close edit of one), else
``added``; reference paragraphs no match points to are that member's
``dropped`` ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

SIMILAR = 0.8
MAX_PARAGRAPHS = 300

_SPLIT = re.compile(r"\n\s*\n|\n")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str
    status: str
    """``original`` (reference column), ``shared``, ``edited`` or ``added``."""


@dataclass(frozen=True, slots=True)
class Column:
    """One outlet's version: its paragraphs in order, and the reference paragraphs it left out."""

    paragraphs: list[Paragraph]
    dropped: list[str]

    @property
    def added(self) -> int:
        return sum(p.status == "added" for p in self.paragraphs)


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(body) if p.strip()][:MAX_PARAGRAPHS]


def _norm(text: str) -> str:
    return _NON_WORD.sub(" ", text.casefold()).strip()


def _match(par: str, reference: Sequence[str]) -> tuple[int, bool] | None:
    """Index of the matching reference paragraph and whether it matched exactly."""
    for i, ref in enumerate(reference):
        if par == ref:
            return i, True
    best, best_ratio = None, SIMILAR
    for i, ref in enumerate(reference):
        matcher = SequenceMatcher(None, par, ref, autojunk=False)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = i, ratio
    return None if best is None else (best, False)


def reference_column(body: str) -> Column:
    return Column([Paragraph(p, "original") for p in paragraphs(body)], [])


def compare(reference_body: str, body: str) -> Column:
    """``body``'s paragraphs marked against ``reference_body``, and what it dropped from it."""
    ref_pars = paragraphs(reference_body)
    ref_norm = [_norm(p) for p in ref_pars]
    used: set[int] = set()
    out = []
    for par in paragraphs(body):
        found = _match(_norm(par), ref_norm)
        if found is None:
            out.append(Paragraph(par, "added"))
        else:
            used.add(found[0])
            out.append(Paragraph(par, "shared" if found[1] else "edited"))
    dropped = [p for i, p in enumerate(ref_pars) if i not in used]
    return Column(out, dropped)
