"""One pass over the DOM turning it into text blocks plus a light element table.

The body extractor scores containers from these blocks instead of walking the
tree again.  The walk is iterative (no recursion limit on deep markup), skips
subtrees that never hold article text, and stops descending past ``max_depth``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from scrapers.metadata import Found
from scrapers.patterns import (
    _PAIR_CACHE,
    CHROME_ROLES,
    INLINE_TAGS,
    KIND_CHROME,
    KIND_CONTENT,
    KIND_WIDGET,
    SKIP_TAGS,
    attr_kind,
    is_inline_chrome,
)

_WS = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
_BR = "\ue000"  # stands for <br> while text is gathered; becomes a newline

_LINK_EXIT = -1
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass(slots=True)
class Doc:
    """Text blocks in document order and the elements that own them.

    A block is a run of text owned by one block-level element: block ``i``
    has text ``texts[i]``, owner element ``owner[i]``, ``links[i]`` characters
    inside links and its owner's tag ``btag[i]``.  Elements: element 0 is the
    root (``<body>``); ``parent[i] < i`` for every other element.  Elements
    holding no text at all (and not the first ``<h1>``) are left out.
    """

    texts: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    btag: list[str] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    chrome: list[bool] = field(default_factory=list)
    content_hint: list[bool] = field(default_factory=list)
    cls: list[str | None] = field(default_factory=list)
    too_deep: bool = False
    h1: int = -1  # element index of the first <h1>, -1 if none


def _norm(raw: str) -> str:
    """Whitespace runs to one space (lines kept where ``<br>`` stood), trimmed."""
    if _BR in raw:
        lines = (" ".join(part.split()) for part in raw.split(_BR))
        text = "\n".join(line for line in lines if line)
    else:
        text = raw.strip()
        # Most runs of text are already clean: a printable string has no
        # whitespace but plain spaces (nor zero-width characters).
        if text.isprintable() and "  " not in text:
            return text
        text = " ".join(text.split())
    if "\u200b" in text or "\ufeff" in text:
        text = _WS.sub(" ", text).strip()
    return text


def _tag_ids(names: frozenset[str]) -> frozenset[int]:
    """Lexbor's numeric ids of known tag names (cheaper to read than names)."""
    probe = LexborHTMLParser("")
    ids = set()
    for name in names:
        if name.startswith(("-", "!")):
            continue
        node = probe.create_node(name)
        ids.add(node.tag_id)
    return frozenset(ids)


_TEXT_ID = LexborHTMLParser("<p>x</p>").css_first("p").child.tag_id  # type: ignore[union-attr]
_COMMENT_ID = LexborHTMLParser("<p><!--x--></p>").css_first("p").child.tag_id  # type: ignore[union-attr]
_SKIP_IDS = _tag_ids(SKIP_TAGS) | {_COMMENT_ID}
_INLINE_IDS = _tag_ids(INLINE_TAGS)
_A_ID = next(iter(_tag_ids(frozenset({"a"}))))
_BR_ID = next(iter(_tag_ids(frozenset({"br"}))))
_HR_ID = next(iter(_tag_ids(frozenset({"hr"}))))
_SCRIPT_ID = next(iter(_tag_ids(frozenset({"script"}))))
_META_ID = next(iter(_tag_ids(frozenset({"meta"}))))
_TIME_ID = next(iter(_tag_ids(frozenset({"time"}))))
_H1_ID = next(iter(_tag_ids(frozenset({"h1"}))))
_NOTE_IDS = frozenset({_SCRIPT_ID, _META_ID})
_SPAN_ID = next(iter(_tag_ids(frozenset({"span"}))))
_LIST_IDS = _tag_ids(frozenset({"ul", "ol", "dl"}))
# Elements whose class/id is worth reading: containers and paragraphs.  List
# items, cells and headings inherit their container's verdict (reading
# attributes is the costliest step of the walk).
_MAX_STD_ID = 0xFFFF
_TAG_NAMES: dict[int, str] = {}  # tag id -> name, filled as met  # custom elements get huge ids
_ATTR_IDS = _tag_ids(
    frozenset(
        {"div", "section", "article", "main", "header", "ul", "ol", "dl", "table", "p",
         "blockquote", "center", "details", "summary", "address", "hgroup"}
    )
)  # fmt: skip


# What the walk does with an element, by tag id (anything not listed is a
# block-level element, custom elements included).
_CAT_BLOCK, _CAT_INLINE, _CAT_SKIP, _CAT_NOTE, _CAT_BR, _CAT_NONE = 0, 1, 2, 3, 4, 5
_CATEGORY: dict[int, int] = {tid: _CAT_SKIP for tid in _SKIP_IDS}
_CATEGORY.update({tid: _CAT_NOTE for tid in _NOTE_IDS})
_CATEGORY.update({tid: _CAT_INLINE for tid in _INLINE_IDS})
_CATEGORY[_BR_ID] = _CAT_BR
_CATEGORY[_HR_ID] = _CAT_NONE


def collect(
    root: Any, max_depth: int = 400, drop: set[int] | None = None, found: Found | None = None
) -> Doc:
    """Walk ``root`` (a selectolax node) into a :class:`Doc`.

    ``drop`` is an optional set of ``mem_id`` values of elements to leave out
    (site rules' chrome selectors).  ``found`` collects JSON-LD scripts, meta
    and time elements and the first ``<h1>`` met on the way, for metadata.

    This loop is the hot path of extraction, hence one flat function with
    its helpers inlined.  Most visited nodes are whitespace between tags and
    inline elements holding a single text node: both are dealt with without
    a trip through the stack of open elements.
    """
    doc = Doc()
    root_tag = root.tag or "body"
    # Per element: (parent, tag, chrome, class, content hint).
    elems: list[tuple[int, str, bool, str | None, bool]] = [(-1, root_tag, False, None, False)]
    add_elem = elems.append
    # Per block: (text, owner element, link characters, owner's tag).
    blocks: list[tuple[str, int, int, str]] = []
    add_block = blocks.append
    last_owner = -1  # owner of the last block
    h1 = -1
    buf: list[str] = []
    push_text = buf.append
    link_chars = 0
    link_depth = 0
    cur = 0
    cur_tag = root_tag
    # Open ancestors between root and the current node: (node, kind) where kind
    # is the element index of a block element, _LINK_EXIT for <a>, or -2 for
    # another inline element.
    open_stack: list[tuple[Any, int]] = []
    push = open_stack.append
    pop = open_stack.pop
    depth = 0  # len(open_stack)
    category = _CATEGORY.get
    attr_ids = _ATTR_IDS
    text_id = _TEXT_ID
    a_id = _A_ID
    span_id = _SPAN_ID
    time_id = _TIME_ID
    h1_id = _H1_ID
    tag_names = _TAG_NAMES
    chrome_roles = CHROME_ROLES
    hidden_style = _HIDDEN_STYLE.search
    pair_kind = _PAIR_CACHE.get
    norm = _norm
    no_drop = drop is None
    drop_ids: set[int] = drop if drop is not None else set()
    times = found.times if found is not None else None

    node = root.first_child
    while node is not None:
        tid = node.tag_id
        if tid == text_id:
            if node.is_empty_text_node:
                if buf:
                    push_text(" ")
            else:
                text = node.text_content
                push_text(text)
                if link_depth:
                    link_chars += len(text.strip())
        else:
            cat = category(tid, _CAT_BLOCK)
            if cat == _CAT_BLOCK:
                if not no_drop and node.mem_id in drop_ids:
                    pass
                elif depth >= max_depth:
                    doc.too_deep = True
                else:
                    is_chrome = is_hint = hidden = False
                    cls = None
                    if tid in attr_ids or tid > _MAX_STD_ID:
                        attrs = node.attributes
                        if attrs:
                            cls = attrs.get("class")
                            ident = attrs.get("id")
                            body_prop = False
                            if len(attrs) > (cls is not None) + (ident is not None):
                                # Attributes other than class and id: rarer, checked apart.
                                if (
                                    "hidden" in attrs
                                    or attrs.get("aria-hidden") == "true"
                                    or ((style := attrs.get("style")) and hidden_style(style))
                                ):
                                    hidden = True
                                else:
                                    role = attrs.get("role")
                                    if role and role in chrome_roles:
                                        is_chrome = True
                                    body_prop = attrs.get("itemprop") == "articleBody"
                            if not hidden:
                                if cls or ident:
                                    k = pair_kind((cls, ident))
                                    if k is None:
                                        k = attr_kind(cls, ident)
                                    if k == KIND_CHROME:
                                        is_chrome = True
                                    elif k == KIND_WIDGET:
                                        is_chrome = hidden = True
                                    elif k == KIND_CONTENT:
                                        is_hint = True
                                if body_prop:
                                    is_hint = True
                                    is_chrome = hidden = False
                                if is_chrome and tid in _LIST_IDS:
                                    hidden = True  # a chrome-classed list (menu, share bar ...)
                    if not hidden:
                        tag = tag_names.get(tid)
                        if tag is None:
                            tag = node.tag
                            if tid <= _MAX_STD_ID:
                                tag_names[tid] = tag
                        if tid == h1_id:
                            if h1 < 0:
                                h1 = len(elems)
                                if found is not None:
                                    found.h1 = node.text(separator=" ")
                        elif tag == "article" or tag == "main":
                            is_hint = is_hint or not is_chrome
                        if buf:  # text before this block belongs to the enclosing one
                            text = norm("".join(buf))
                            buf.clear()
                            if text:
                                n = len(text)
                                add_block((text, cur, link_chars if link_chars < n else n, cur_tag))
                                last_owner = cur
                        link_chars = 0
                        child = node.first_child
                        if child is not None:
                            idx = len(elems)
                            add_elem((cur, tag, is_chrome, cls, is_hint))
                            push((node, idx))
                            depth += 1
                            cur = idx
                            cur_tag = tag
                            node = child
                            continue
                        if h1 == len(elems):  # other empty elements need no entry
                            add_elem((cur, tag, is_chrome, cls, is_hint))
            elif cat == _CAT_INLINE:
                if (
                    tid != span_id
                    or not (cls := node.attributes.get("class"))
                    or not is_inline_chrome(cls)
                ) and (no_drop or node.mem_id not in drop_ids):
                    if tid == time_id and times is not None:
                        times.append(node)
                    child = node.first_child
                    if child is not None:
                        if child.tag_id == text_id and child.next is None:
                            # Holds one text node: read it here.
                            if child.is_empty_text_node:
                                if buf:
                                    push_text(" ")
                            else:
                                text = child.text_content
                                push_text(text)
                                if link_depth or tid == a_id:
                                    link_chars += len(text.strip())
                        else:
                            if tid == a_id:
                                link_depth += 1
                                push((node, _LINK_EXIT))
                            else:
                                push((node, -2))
                            depth += 1
                            node = child
                            continue
            elif cat == _CAT_BR:
                push_text(_BR)
            elif cat == _CAT_NOTE and found is not None:
                attrs = node.attributes
                if tid == _META_ID:
                    found.metas.append(attrs)
                elif (attrs.get("type") or "").strip().lower() == "application/ld+json":
                    found.jsonld.append(node.text())
        # Next sibling, closing finished ancestors on the way up.
        nxt = node.next
        while nxt is None and depth:
            anc, akind = pop()
            depth -= 1
            if akind >= 0:
                if buf:
                    text = norm("".join(buf))
                    buf.clear()
                    if text:
                        n = len(text)
                        add_block((text, akind, link_chars if link_chars < n else n, cur_tag))
                        last_owner = akind
                link_chars = 0
                cur = elems[akind][0]
                cur_tag = elems[cur][1]
                if akind == len(elems) - 1 and last_owner != akind and akind != h1:
                    # It holds no text at all: an entry would only cost time later.
                    elems.pop()
            elif akind == _LINK_EXIT:
                link_depth -= 1
            nxt = anc.next
        node = nxt
    if buf:
        text = norm("".join(buf))
        if text:
            n = len(text)
            add_block((text, cur, link_chars if link_chars < n else n, cur_tag))
    doc.h1 = h1
    if blocks:
        texts, owners, links, btags = zip(*blocks, strict=True)
        doc.texts = list(texts)
        doc.owner = list(owners)
        doc.links = list(links)
        doc.btag = list(btags)
    parents, tags, chrome, classes, hints = zip(*elems, strict=True)
    doc.parent = list(parents)
    doc.tag = list(tags)
    doc.chrome = list(chrome)
    doc.cls = list(classes)
    doc.content_hint = list(hints)
    return doc
