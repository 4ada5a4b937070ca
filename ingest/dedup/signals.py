"""Signals beyond the text: links a page declares to its original, and wire credits.

* a cross-domain ``rel=canonical`` (kept by :mod:`ingest.normalize` in
  ``provenance["declared_canonical"]``) names the original of a syndicated copy;
* JSON-LD ``isBasedOn`` (``provenance["is_based_on"]`` when the extractor keeps it)
  does the same;
* a wire credit ("(Reuters)", "according to the state-run APP") says the text
  came from an agency, so a lower text overlap is enough to call it a reprint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ingest.urls import try_canonicalize

LINK_KEYS = {"declared_canonical": "canonical", "is_based_on": "based-on", "isBasedOn": "based-on"}

_AGENCIES: dict[str, tuple[str, str]] = {
    # name: (a word that must occur, the pattern that confirms a credit)
    "reuters": ("reuters", r"reuters"),
    "ap": ("ap", r"\(ap\)|\bap\b\s*(?:reported|said|—|-)|associated press"),
    "ap-name": ("associated", r"associated press(?! of pakistan)"),
    "afp": ("afp", r"\bafp\b"),
    "afp-name": ("agence", r"agence france[- ]presse"),
    "app": ("app", r"\(app\)|state[- ]run app\b|\bapp\b\s*reported"),
    "app-name": ("associated", r"associated press of pakistan"),
    "pti": ("pti", r"\(pti\)|\bpti\b\s*reported"),
    "pti-name": ("trust", r"press trust of india"),
    "ians": ("ians", r"\(ians\)|\bians\b\s*reported"),
    "ani": ("ani", r"\(ani\)|\bani\b\s*reported"),
    "xinhua": ("xinhua", r"xinhua"),
    "dpa": ("dpa", r"\(dpa\)"),
    "anadolu": ("anadolu", r"anadolu agency"),
    "bloomberg": ("bloomberg", r"\(bloomberg\)"),
    "efe": ("efe", r"\(efe\)|agencia efe"),
    "ansa": ("ansa", r"\(ansa\)"),
    "kyodo": ("kyodo", r"kyodo"),
    "yonhap": ("yonhap", r"yonhap"),
    "tass": ("tass", r"\(tass\)|\btass\b\s*reported"),
    "upi": ("upi", r"\(upi\)|united press international"),
    "aap": ("aap", r"\(aap\)"),
}
_TRIGGERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _name, (_word, _pattern) in _AGENCIES.items():
    _TRIGGERS.setdefault(_word, []).append((_name.split("-")[0], re.compile(_pattern)))
_LETTERS = re.compile(r"[a-z]+")


def wire_agencies(text: str) -> frozenset[str]:
    """Agencies credited in the dateline/lede (first 400 chars), the last 300 chars, or right
    after an 'according to' / 'reported by'.  A cheap word check gates each agency's pattern."""
    lowered = text.lower()
    windows = [lowered[:400], lowered[-300:]]
    for marker in ("according to", "reported by"):
        start = lowered.find(marker, 400)
        while start != -1 and len(windows) < 24:
            windows.append(lowered[start : start + 80])
            start = lowered.find(marker, start + 1)
    found: set[str] = set()
    for window in windows:
        for word in set(_LETTERS.findall(window)) & _TRIGGERS.keys():
            for name, pattern in _TRIGGERS[word]:
                if pattern.search(window):
                    found.add(name)
    return frozenset(found)


def link_targets(provenance: Mapping[str, Any] | None, own_url: str) -> dict[str, str]:
    """Canonical URLs this article declares as its original, by kind ('canonical', 'based-on')."""
    out: dict[str, str] = {}
    for key, kind in LINK_KEYS.items():
        value = (provenance or {}).get(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        if not isinstance(value, str):
            continue
        target = try_canonicalize(value)
        if target and target != own_url:
            out.setdefault(kind, target)
    return out
