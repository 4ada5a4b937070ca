"""Generic article-body finder: choose the container, then keep its good blocks.

How it works (general rules only, no site knowledge):

* Every block gets a weight: long, sentence-like, link-poor text is positive;
  link lists, blocks under chrome-classed elements (``related``, ``share``,
  ``comments``...) and chrome phrases are negative; short lines cost a little.
* Chrome marks are believed unless the marked element is evidently a layout
  wrapper of the article (it holds the headline, nearly all good text, or
  most of an element that calls itself the article).
* The container is the element with the largest subtree score, where a
  child's score counts ``DECAY`` times in its parent: a container close to
  its paragraphs beats a far ancestor that also holds a feed of teasers.
  Elements that say they are the article (``<article>``, ``articleBody``,
  ``article-body`` ...) get a small bonus.
* Parts of the article split off by figures or ads (sibling sections built
  the same way: same tag and class around the paragraphs) are joined back.
* Inside, chrome-marked sub-regions, link lists, bylines, date lines, image
  credits and chrome lines are dropped; a chrome heading ("Related", "Read
  more", "Most popular" ...) drops its section, or what follows it until
  prose resumes.  Paragraphs and subheadings keep their order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scrapers.blocks import Block, Doc
from scrapers.patterns import (
    BYLINE_LINE,
    CAPTION_LINE,
    CHROME_HEADING,
    CHROME_LINE,
    COPYRIGHT_LINE,
    RELATIVE_TIME,
    is_meta_line,
    looks_like_date_line,
)

_SENTENCE_END = re.compile(r"[.!?…:;\"”’»)\]]\s*$")
_SENTENCE_CHARS = frozenset('.!?…:;"”’»)]')
_WORD = re.compile(r"\w+")
_DATE_ONLY = re.compile(
    r"^\W*(?:(?:updated|published|posted|last updated|modified)\s*:?\s*)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?"
    r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\w+\.? \d{1,2},? \d{4}|\d{1,2}\.? \w+\.? \d{4})"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?\W*$",
    re.IGNORECASE,
)

CONTENT_MIN_CHARS = 80
HINT_BONUS = 1.15
DECAY = 0.9


@dataclass(slots=True)
class BodyResult:
    text: str
    container: int
    score: float
    content_chars: int


def _weight(block: Block, chrome: bool) -> float:
    text = block.text
    n = len(text)
    ld = block.link_chars / n
    if chrome:
        return -1.0 * n
    if ld > 0.5:
        if block.tag == "p" and n >= 100 and ld < 0.9 and _SENTENCE_END.search(text):
            return 0.0  # a linked sentence in running text: neither prose nor chrome
        return -1.0 * n
    if n < 25 and (CHROME_LINE.match(text) or CHROME_HEADING.match(text)):
        return -2.0 * n
    body_chars = n * (1.0 - ld)
    if n >= CONTENT_MIN_CHARS or (n >= 40 and text[-1] in _SENTENCE_CHARS):
        return body_chars * (1.0 - ld)
    if block.is_heading:
        return -0.1 * n
    return -0.35 * n


def _in_chrome(doc: Doc, elem: int, stop: int, honored: list[bool]) -> bool:
    """True when ``elem`` or an ancestor strictly below ``stop`` is (believed) chrome."""
    parent = doc.parent
    e = elem
    while e > stop:
        if honored[e]:
            return True
        e = parent[e]
    return False


def find_body(doc: Doc, title: str | None = None) -> BodyResult:
    """Pick the container and return its cleaned text."""
    n_elem = len(doc.parent)
    if not doc.blocks:
        return BodyResult("", 0, 0.0, 0)
    parent = doc.parent
    # Elements are numbered in document order (children after parents), so
    # a subtree is the index range [e, last[e]] and one backward pass sums it.
    last = list(range(n_elem))
    for i in range(n_elem - 1, 0, -1):
        p = parent[i]
        if last[i] > last[p]:
            last[p] = last[i]
    plain = [_weight(block, False) for block in doc.blocks]
    honored = _honored_chrome(doc, plain, last)
    # Chrome status per element, inherited: a chrome ancestor taints a block.
    tainted = honored[:]
    for i in range(1, n_elem):
        if tainted[parent[i]]:
            tainted[i] = True
    score = [0.0] * n_elem
    weights: list[float] = []
    for block, w in zip(doc.blocks, plain, strict=True):
        e = block.elem
        if tainted[e]:
            w = -float(len(block.text))
        weights.append(w)
        score[e] += w
    # The decay makes a container close to its paragraphs beat a far
    # ancestor that also holds unrelated text.
    for i in range(n_elem - 1, 0, -1):
        score[parent[i]] += DECAY * score[i]
    best = _best_container(doc, score)
    if doc.tag[best] in _PARA_TAGS and best > 0:
        best = parent[best]  # a paragraph alone is never the whole article
    if score[best] <= 0:
        return BodyResult("", best, score[best], 0)
    end = last[best]
    chosen = [i for i, b in enumerate(doc.blocks) if best <= b.elem <= end]
    chosen = _add_split_parts(doc, best, end, chosen, weights, last)
    selected = _select_blocks(doc, chosen, best, honored, weights, title, last)
    text = "\n\n".join(selected)
    return BodyResult(text, best, score[best], len(text))


_PARA_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr"})
SPLIT_SEARCH_LEVELS = 5


def _home(doc: Doc, elem: int) -> int:
    """The element holding a block's paragraphs: the block's own one, or its parent."""
    return doc.parent[elem] if doc.tag[elem] in _PARA_TAGS and elem > 0 else elem


def _add_split_parts(
    doc: Doc, best: int, end: int, chosen: list[int], weights: list[float], last: list[int]
) -> list[int]:
    """Add parts of the article that sit beside the container.

    Articles interrupted by figures or ads are often split into sibling
    sections built the same way (same tag and class around the paragraphs).
    The class of the element holding most of the container's text is looked
    for a few levels up; blocks held by an element of the same kind join.
    """
    blocks = doc.blocks
    mass: dict[tuple[str, str], float] = {}
    for i in chosen:
        if weights[i] > 0:
            h = _home(doc, blocks[i].elem)
            cls = doc.cls[h]
            if cls:
                key = (doc.tag[h], cls)
                mass[key] = mass.get(key, 0.0) + weights[i]
    if not mass:
        return chosen
    primary = max(mass, key=mass.__getitem__)
    top = best
    for _ in range(SPLIT_SEARCH_LEVELS):
        if top <= 0:
            break
        top = doc.parent[top]
    if top == best:
        return chosen
    first, top_end = top, last[top]
    extra: list[int] = []
    extra_mass = 0.0
    for i, b in enumerate(blocks):
        e = b.elem
        if e < first or e > top_end or best <= e <= end:
            continue
        h = _home(doc, e)
        if doc.cls[h] == primary[1] and doc.tag[h] == primary[0]:
            extra.append(i)
            extra_mass += max(weights[i], 0.0)
    if not extra or extra_mass <= 0:
        return chosen
    return sorted(chosen + extra)


def _honored_chrome(doc: Doc, plain: list[float], last: list[int]) -> list[bool]:
    """Chrome marks to believe.

    A class like ``has-sidebar`` or ``slider-box`` on a wrapper of the whole
    article is layout, not chrome: a mark is ignored when the element holds
    nearly all of the page's good text, when most of its good text sits in a
    descendant that calls itself the article (``article-body``, ``<article>``),
    when it holds most of the text of such an ancestor, or when it holds the
    page's headline (``<h1>``).
    """
    n_elem = len(doc.parent)
    parent = doc.parent
    mass = [0.0] * n_elem
    for block, w in zip(doc.blocks, plain, strict=True):
        if w > 0:
            mass[block.elem] += w
    hint_mass = [0.0] * n_elem
    hint = doc.content_hint
    for i in range(n_elem - 1, 0, -1):
        if hint[i] and mass[i] > hint_mass[i]:
            hint_mass[i] = mass[i]
        p = parent[i]
        mass[p] += mass[i]
        if hint_mass[i] > hint_mass[p]:
            hint_mass[p] = hint_mass[i]
    total = mass[0]
    h1 = doc.h1
    # Mass of the nearest ancestor that calls itself the article (0: none).
    hinted_above = [0.0] * n_elem
    for i in range(1, n_elem):
        p = parent[i]
        hinted_above[i] = mass[p] if hint[p] else hinted_above[p]
    honored = [False] * n_elem
    for e, is_chrome in enumerate(doc.chrome):
        if not is_chrome:
            continue
        m = mass[e]
        if m > 0 and m > 0.5 * hinted_above[e] > 0:
            continue  # most of the article's own text: an inner wrapper
        if m > 0.85 * total:
            continue
        if m > 0 and hint_mass[e] > 0.5 * m and hint_mass[e] > 0.2 * total:
            continue
        if 0 < e < h1 <= last[e]:
            continue  # holds the headline and much text: the article's wrapper
        honored[e] = True
    return honored


def _best_container(doc: Doc, score: list[float]) -> int:
    best = 0
    best_score = float("-inf")
    hint = doc.content_hint
    for e, s in enumerate(score):
        if s > 0 and hint[e]:
            s *= HINT_BONUS
        if s > best_score:
            best, best_score = e, s
    return best


def _norm_title(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _select_blocks(
    doc: Doc,
    chosen: list[int],
    container: int,
    honored: list[bool],
    weights: list[float],
    title: str | None,
    last: list[int] | None = None,
) -> list[str]:
    """Texts of the chosen blocks, minus chrome inside the container.

    A chrome heading ("Related", "Read more" ...) that opens a section of its
    own drops that whole section; one standing among the article's own
    paragraphs drops what follows until real prose resumes.
    """
    title_key = _norm_title(title) if title else None
    out: list[str] = []
    in_list_after_heading = False
    skip_until = -1
    good_in: set[int] = set()  # sections that already gave positive text
    parent = doc.parent
    for i in chosen:
        block = doc.blocks[i]
        e = block.elem
        if e <= skip_until:
            continue
        if _in_chrome(doc, e, container, honored):
            continue
        text = block.text
        n = len(text)
        ld = block.link_chars / n
        if in_list_after_heading:
            if weights[i] > 0 and n >= CONTENT_MIN_CHARS and ld < 0.1:
                in_list_after_heading = False
            else:
                continue
        if "\n" in text:  # lines joined by <br>: judge each line on its own
            text = _clean_lines(text)
            if not text:
                continue
            n = len(text)
        if n < 60 and CHROME_HEADING.match(text):
            section = parent[e] if e > 0 else e
            if last is not None and section > container and section not in good_in:
                skip_until = last[section]
            elif out:
                in_list_after_heading = True
            continue
        if weights[i] > 0:
            x = parent[e] if e > 0 else e
            good_in.add(x)
            if x > 0:
                good_in.add(parent[x])
        if ld > 0.5 and not (
            block.tag == "p" and n >= 100 and ld < 0.9 and _SENTENCE_END.search(text)
        ):
            continue
        if _chrome_line(text):
            continue
        if n < 120:
            if block.tag == "h1":
                continue
            if title_key and _norm_title(text) == title_key:
                continue
        if text[0] == "<" and text[-1] == ">":  # markup shown as text (noscript pixels)
            continue
        if n < 250 and ":" in text and CAPTION_LINE.search(text):
            continue
        out.append(text)
    return out


def _chrome_line(line: str) -> bool:
    """A short line that is chrome wherever it stands."""
    if len(line) >= 200:
        return False
    if is_meta_line(line):
        return True
    if len(line) >= 120:
        return False
    return bool(
        CHROME_LINE.match(line)
        or (line[-3:].lower() == "ago" and RELATIVE_TIME.search(line))
        or _DATE_ONLY.match(line)
        or BYLINE_LINE.match(line)
        or COPYRIGHT_LINE.match(line)
        or looks_like_date_line(line)
    )


def _clean_lines(text: str) -> str:
    """A multi-line block without its chrome lines; empty when it opens with a
    chrome heading (a "DON'T MISS" list set with <br>)."""
    lines = text.split("\n")
    if len(lines[0]) < 60 and CHROME_HEADING.match(lines[0]):
        return ""
    return "\n".join(line for line in lines if not _chrome_line(line))


def select_all(doc: Doc, title: str | None = None) -> list[str]:
    """Blocks of a whole (rule-chosen) body, minus generic chrome lines."""
    weights = [_weight(b, False) for b in doc.blocks]
    all_blocks = list(range(len(doc.blocks)))
    return _select_blocks(doc, all_blocks, 0, list(doc.chrome), weights, title)
