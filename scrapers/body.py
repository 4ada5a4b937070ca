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
from itertools import compress

from scrapers.blocks import Doc
from scrapers.patterns import (
    BYLINE_LINE,
    CAPTION_LINE,
    COPYRIGHT_LINE,
    DIGIT,
    HEADING_TAGS,
    RELATIVE_TIME,
    is_chrome_heading,
    is_chrome_line,
    is_meta_line,
    looks_like_date_line,
)

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


def _ends_sentence(text: str) -> bool:
    """Ends with sentence punctuation (trailing whitespace aside)."""
    return text.rstrip()[-1:] in _SENTENCE_CHARS


def _weights(doc: Doc) -> list[float]:
    """Each block's weight, before chrome marks are taken into account."""
    out: list[float] = []
    add = out.append
    for text, link_chars, tag in zip(doc.texts, doc.links, doc.btag, strict=True):
        n = len(text)
        ld = link_chars / n
        if ld > 0.5:
            if tag == "p" and n >= 100 and ld < 0.9 and _ends_sentence(text):
                add(0.0)  # a linked sentence in running text: neither prose nor chrome
            else:
                add(-1.0 * n)
        elif n < 25 and (is_chrome_line(text) or is_chrome_heading(text)):
            add(-2.0 * n)
        elif n >= CONTENT_MIN_CHARS or (n >= 40 and text[-1] in _SENTENCE_CHARS):
            add(n * (1.0 - ld) * (1.0 - ld))
        elif tag in HEADING_TAGS:
            add(-0.1 * n)
        else:
            add(-0.35 * n)
    return out


def _subtree_ends(parent: list[int]) -> list[int]:
    """``last[e]``: the highest element index in ``e``'s subtree.

    Elements are numbered in document order (children after parents), so a
    subtree is the index range ``[e, last[e]]``.
    """
    last = list(range(len(parent)))
    for i in range(len(parent) - 1, 0, -1):
        p = parent[i]
        if last[i] > last[p]:
            last[p] = last[i]
    return last


def _mark(n_elem: int, roots: list[int], last: list[int]) -> list[bool]:
    """Per element: inside the subtree of one of ``roots``."""
    marked = [False] * n_elem
    for e in roots:
        end = last[e]
        if not marked[e]:
            marked[e : end + 1] = [True] * (end + 1 - e)
    return marked


def find_body(doc: Doc, title: str | None = None) -> BodyResult:
    """Pick the container and return its cleaned text."""
    texts = doc.texts
    if not texts:
        return BodyResult("", 0, 0.0, 0)
    parent = doc.parent
    owner = doc.owner
    n_elem = len(parent)
    last = _subtree_ends(parent)
    plain = _weights(doc)
    honored = _honored_chrome(doc, plain, last)
    weights = plain
    if honored:
        # Chrome status is inherited: a chrome ancestor taints a block.
        tainted = _mark(n_elem, honored, last)
        weights = [
            -float(len(text)) if tainted[e] else w
            for text, e, w in zip(texts, owner, plain, strict=True)
        ]
    score = [0.0] * n_elem
    for e, w in zip(owner, weights, strict=True):
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
    chosen = [i for i, e in enumerate(owner) if best <= e <= end]
    chosen = _add_split_parts(doc, best, end, chosen, weights, last)
    # Split parts may lie after the container: every mark below it counts.
    inner = [e for e in honored if e > best]
    blocked = _mark(n_elem, inner, last) if inner else None
    selected = _select_blocks(doc, chosen, blocked, weights, title, last, best)
    text = "\n\n".join(selected)
    return BodyResult(text, best, score[best], len(text))


_PARA_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr"})
SPLIT_SEARCH_LEVELS = 5


def _add_split_parts(
    doc: Doc, best: int, end: int, chosen: list[int], weights: list[float], last: list[int]
) -> list[int]:
    """Add parts of the article that sit beside the container.

    Articles interrupted by figures or ads are often split into sibling
    sections built the same way (same tag and class around the paragraphs).
    The class of the element holding most of the container's text is looked
    for a few levels up; blocks held by an element of the same kind join.
    """
    owner = doc.owner
    parent = doc.parent
    tags = doc.tag
    classes = doc.cls
    mass: dict[tuple[str, str], float] = {}
    for i in chosen:
        if weights[i] > 0:
            h = owner[i]
            if h > 0 and tags[h] in _PARA_TAGS:
                h = parent[h]  # the element holding the paragraphs
            cls = classes[h]
            if cls:
                key = (tags[h], cls)
                mass[key] = mass.get(key, 0.0) + weights[i]
    if not mass:
        return chosen
    primary_tag, primary_cls = max(mass, key=mass.__getitem__)
    top = best
    for _ in range(SPLIT_SEARCH_LEVELS):
        if top <= 0:
            break
        top = parent[top]
    if top == best:
        return chosen
    first, top_end = top, last[top]
    extra: list[int] = []
    extra_mass = 0.0
    for i, e in enumerate(owner):
        if e < first or e > top_end or best <= e <= end:
            continue
        h = parent[e] if e > 0 and tags[e] in _PARA_TAGS else e
        if classes[h] == primary_cls and tags[h] == primary_tag:
            extra.append(i)
            if weights[i] > 0:
                extra_mass += weights[i]
    if not extra or extra_mass <= 0:
        return chosen
    return sorted(chosen + extra)


def _honored_chrome(doc: Doc, plain: list[float], last: list[int]) -> list[int]:
    """Chrome marks to believe (element indices, in document order).

    A class like ``has-sidebar`` or ``slider-box`` on a wrapper of the whole
    article is layout, not chrome: a mark is ignored when the element holds
    nearly all of the page's good text, when most of its good text sits in a
    descendant that calls itself the article (``article-body``, ``<article>``),
    when it holds most of the text of such an ancestor, or when it holds the
    page's headline (``<h1>``).
    """
    marked = [e for e in compress(range(len(doc.chrome)), doc.chrome)]
    if not marked:
        return []
    parent = doc.parent
    mass = [0.0] * len(parent)
    for e, w in zip(doc.owner, plain, strict=True):
        if w > 0:
            mass[e] += w
    for i in range(len(parent) - 1, 0, -1):
        mass[parent[i]] += mass[i]
    total = mass[0]
    hint = doc.content_hint
    hinted = [e for e in compress(range(len(hint)), hint)]
    h1 = doc.h1
    honored: list[int] = []
    for e in marked:
        m = mass[e]
        if m > 0.85 * total:
            continue
        if m > 0 and hinted:
            # Mass of the nearest ancestor that calls itself the article.
            p = parent[e]
            while p > 0 and not hint[p]:
                p = parent[p]
            above = mass[p] if hint[p] else 0.0
            if m > 0.5 * above > 0:
                continue  # most of the article's own text: an inner wrapper
            # Largest mass of a descendant (or itself) that calls itself the article.
            end = last[e]
            inner = max((mass[x] for x in hinted if e <= x <= end), default=0.0)
            if inner > 0.5 * m and inner > 0.2 * total:
                continue
        if 0 < e < h1 <= last[e]:
            continue  # holds the headline and much text: the article's wrapper
        honored.append(e)
    return honored


def _best_container(doc: Doc, score: list[float]) -> int:
    boosted = score
    hint = doc.content_hint
    for e in compress(range(len(hint)), hint):
        s = score[e]
        if s > 0:
            if boosted is score:
                boosted = score[:]
            boosted[e] = s * HINT_BONUS
    return boosted.index(max(boosted))  # the first of equals, as a scan would


def _norm_title(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _select_blocks(
    doc: Doc,
    chosen: list[int],
    blocked: list[bool] | None,
    weights: list[float],
    title: str | None,
    last: list[int] | None = None,
    container: int = 0,
) -> list[str]:
    """Texts of the chosen blocks, minus chrome inside the container.

    ``blocked`` marks the elements under chrome inside the container.  A
    chrome heading ("Related", "Read more" ...) that opens a section of its
    own drops that whole section; one standing among the article's own
    paragraphs drops what follows until real prose resumes.
    """
    title_key = _norm_title(title) if title else None
    out: list[str] = []
    in_list_after_heading = False
    skip_until = -1
    good_in: set[int] = set()  # sections that already gave positive text
    parent = doc.parent
    texts = doc.texts
    owner = doc.owner
    links = doc.links
    btag = doc.btag
    for i in chosen:
        e = owner[i]
        if e <= skip_until:
            continue
        if blocked is not None and blocked[e]:
            continue
        text = texts[i]
        n = len(text)
        ld = links[i] / n
        w = weights[i]
        if in_list_after_heading:
            if w > 0 and n >= CONTENT_MIN_CHARS and ld < 0.1:
                in_list_after_heading = False
            else:
                continue
        if "\n" in text:  # lines joined by <br>: judge each line on its own
            text = _clean_lines(text)
            if not text:
                continue
            n = len(text)
        if n < 60 and is_chrome_heading(text):
            section = parent[e] if e > 0 else e
            if last is not None and section > container and section not in good_in:
                skip_until = last[section]
            elif out:
                in_list_after_heading = True
            continue
        if w > 0:
            x = parent[e] if e > 0 else e
            good_in.add(x)
            if x > 0:
                good_in.add(parent[x])
        if ld > 0.5 and not (btag[i] == "p" and n >= 100 and ld < 0.9 and _ends_sentence(text)):
            continue
        if n < 200 and _chrome_line(text):
            continue
        if n < 120:
            if btag[i] == "h1":
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
    n = len(line)
    if n >= 200:
        return False
    if is_meta_line(line):
        return True
    if n >= 120:
        return False
    if is_chrome_line(line) or BYLINE_LINE.match(line) or COPYRIGHT_LINE.match(line):
        return True
    if DIGIT.search(line) is None:  # what follows all need a digit
        return False
    return bool(
        (line[-3:].lower() == "ago" and RELATIVE_TIME.search(line))
        or _DATE_ONLY.match(line)
        or looks_like_date_line(line)
    )


def _clean_lines(text: str) -> str:
    """A multi-line block without its chrome lines; empty when it opens with a
    chrome heading (a "DON'T MISS" list set with <br>)."""
    lines = text.split("\n")
    if len(lines[0]) < 60 and is_chrome_heading(lines[0]):
        return ""
    return "\n".join(line for line in lines if not _chrome_line(line))


def select_all(doc: Doc, title: str | None = None) -> list[str]:
    """Blocks of a whole (rule-chosen) body, minus generic chrome lines."""
    weights = _weights(doc)
    all_blocks = list(range(len(doc.texts)))
    marked = [e for e in compress(range(len(doc.chrome)), doc.chrome) if e > 0]
    blocked = _mark(len(doc.parent), marked, _subtree_ends(doc.parent)) if marked else None
    return _select_blocks(doc, all_blocks, blocked, weights, title)
