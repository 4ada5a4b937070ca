"""Cheap checks run before parsing, so bad input costs bounded time and memory.

Lexbor parses most hostile input fast, but markup nested tens of thousands of
levels deep makes its tree builder quadratic (each block start tag scans the
open-element stack).  Pages with very many tags get a linear-time nesting
estimate first and are cut where the nesting gets absurd.
"""

from __future__ import annotations

import re

MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_NESTING = 1500
_DEPTH_SCAN_MIN_TAGS = 10_000

_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,30})[^<>]{0,2000}?(/?)>")
# Elements that are normally closed implicitly or never: they do not nest.
_NON_NESTING = frozenset(
    b"""area base br col embed hr img input link meta param source track wbr p li dt dd
    tr td th option optgroup rb rt rp tbody thead tfoot colgroup""".split()
)
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x1B)) + bytes(range(0x1C, 0x20))


def looks_binary(data: bytes) -> bool:
    """True for data that is not text at all (images, archives, random bytes)."""
    sample = data[:8192]
    if not sample:
        return False
    if b"\x00" in sample and not (
        sample.startswith((b"\xff\xfe", b"\xfe\xff")) or sample[1:2] == b"\x00"
    ):
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * 0.05


def nesting_cut(data: bytes) -> int | None:
    """Offset at which nesting exceeds ``MAX_NESTING``, or None if it never does.

    Only scans pages with very many tags; ordinary pages return at once.
    """
    if data.count(b"<") < _DEPTH_SCAN_MIN_TAGS:
        return None
    depth = 0
    for match in _TAG.finditer(data):
        closing, name, self_closing = match.groups()
        name = name.lower()
        if self_closing or name in _NON_NESTING:
            continue
        if closing:
            if depth:
                depth -= 1
        else:
            depth += 1
            if depth > MAX_NESTING:
                return match.start()
    return None


def looks_truncated(data: bytes) -> bool:
    """A whole page (it opens ``<html>``/``<body>``) that never closes them was cut off.

    Fragments (no ``<html>`` or ``<body>`` at all) are not judged.
    """
    head = data[:4096].lower()
    if b"<html" not in head and b"<body" not in head:
        return False
    tail = data[-4096:].lower()
    return b"</html" not in tail and b"</body" not in tail
