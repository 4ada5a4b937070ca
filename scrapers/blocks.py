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
    CHROME_ROLES,
    HEADING_TAGS,
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
class Block:
    """A run of text owned by one block-level element."""

    text: str
    elem: int
    link_chars: int
    tag: str

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0

    @property
    def is_heading(self) -> bool:
        return self.tag in HEADING_TAGS


@dataclass(slots=True)
class Doc:
    """Blocks in document order and the elements that own them.

    Element 0 is the root (``<body>``); ``parent[i] < i`` for every other element.
    """

    blocks: list[Block] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    chrome: list[bool] = field(default_factory=list)
    content_hint: list[bool] = field(default_factory=list)
    cls: list[str | None] = field(default_factory=list)
    too_deep: bool = False
    h1: int = -1  # element index of the first <h1>, -1 if none


def _norm(raw: str) -> str:
    if _BR in raw:
        lines = (" ".join(part.split()) for part in raw.split(_BR))
        text = "\n".join(line for line in lines if line)
    else:
        text = " ".join(raw.split())
    if "\u200b" in text or "\ufeff" in text:
        text = _WS.sub(" ", text).strip()
    return text


def _is_hidden(attrs: dict[str, Any]) -> bool:
    if "hidden" in attrs:
        return True
    if attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


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


def collect(
    root: Any, max_depth: int = 400, drop: set[int] | None = None, found: Found | None = None
) -> Doc:
    """Walk ``root`` (a selectolax node) into a :class:`Doc`.

    ``drop`` is an optional set of ``mem_id`` values of elements to leave out
    (site rules' chrome selectors).  ``found`` collects JSON-LD scripts, meta
    and time elements and the first ``<h1>`` met on the way, for metadata.

    This loop is the hot path of extraction, hence one flat function with
    its helpers inlined.
    """
    doc = Doc()
    blocks = doc.blocks
    parent = doc.parent
    tags = doc.tag
    chrome = doc.chrome
    hint = doc.content_hint
    classes = doc.cls
    parent.append(-1)
    tags.append(root.tag or "body")
    chrome.append(False)
    hint.append(False)
    classes.append(None)

    buf: list[str] = []
    link_chars = 0
    link_depth = 0
    cur = 0
    # Open ancestors between root and the current node: (node, kind) where kind
    # is the element index of a block element, _LINK_EXIT for <a>, or -2 for
    # another inline element.
    open_stack: list[tuple[Any, int]] = []
    skip_ids = _SKIP_IDS
    inline_ids = _INLINE_IDS
    attr_ids = _ATTR_IDS
    text_id = _TEXT_ID
    new_block = Block
    tag_names = _TAG_NAMES

    node = root.child
    while node is not None:
        tid = node.tag_id
        kind = -3  # -3: do not descend
        if tid == text_id:
            if node.is_empty_text_node:
                if buf:
                    buf.append(" ")
            else:
                text = node.text_content
                buf.append(text)
                if link_depth:
                    link_chars += len(text.strip())
        elif tid in skip_ids:
            if found is not None and tid in _NOTE_IDS:
                _note(node, tid, found)
        elif tid in inline_ids:
            if tid == _SPAN_ID:
                cls = node.attrs.get("class")
                if cls and is_inline_chrome(cls):
                    tid = -1  # leave the subtree out
            if tid >= 0 and (drop is None or node.mem_id not in drop):
                kind = -2
                if tid == _A_ID:
                    link_depth += 1
                    kind = _LINK_EXIT
                elif tid == _TIME_ID and found is not None:
                    found.times.append(node)
        elif tid == _BR_ID:
            buf.append(_BR)
        elif tid == _HR_ID or (drop is not None and node.mem_id in drop):
            pass
        elif len(open_stack) >= max_depth:
            doc.too_deep = True
        else:
            is_chrome = False
            is_hint = False
            hidden = False
            cls = None
            if tid in attr_ids or tid > _MAX_STD_ID:
                attrs = node.attributes
                if attrs:
                    if _is_hidden(attrs):
                        hidden = True
                    else:
                        role = attrs.get("role")
                        if role and role in CHROME_ROLES:
                            is_chrome = True
                        cls = attrs.get("class")
                        ident = attrs.get("id")
                        if cls or ident:
                            k = attr_kind(cls, ident)
                            if k == KIND_CHROME:
                                is_chrome = True
                            elif k == KIND_WIDGET:
                                is_chrome = hidden = True
                            elif k == KIND_CONTENT:
                                is_hint = True
                        if attrs.get("itemprop") == "articleBody":
                            is_hint = True
                            is_chrome = hidden = False
            if is_chrome and tid in _LIST_IDS:
                hidden = True  # a chrome-classed list (menu, share bar, links): skip it
            if not hidden:
                tag = tag_names.get(tid)
                if tag is None:
                    tag = node.tag
                    if tid <= _MAX_STD_ID:
                        tag_names[tid] = tag
                if tid == _H1_ID and doc.h1 < 0:
                    doc.h1 = len(parent)
                    if found is not None:
                        found.h1 = node.text(separator=" ")
                elif tag == "article" or tag == "main":
                    is_hint = is_hint or not is_chrome
                if buf:  # text before this block belongs to the enclosing one
                    text = _norm("".join(buf))
                    buf.clear()
                    if text:
                        blocks.append(new_block(text, cur, min(link_chars, len(text)), tags[cur]))
                link_chars = 0
                idx = len(parent)
                parent.append(cur)
                tags.append(tag)
                chrome.append(is_chrome)
                classes.append(cls)
                hint.append(is_hint)
                cur = idx
                kind = idx
        if kind != -3:
            child = node.child
            if child is not None:
                open_stack.append((node, kind))
                node = child
                continue
            # An element without children closes at once: fall through with
            # it pushed so the loop below closes it.
            open_stack.append((node, kind))
            nxt = None
        else:
            nxt = node.next
        # Next sibling, closing finished ancestors on the way up.
        while nxt is None and open_stack:
            anc, akind = open_stack.pop()
            if akind >= 0:
                if buf:
                    text = _norm("".join(buf))
                    buf.clear()
                    if text:
                        blocks.append(
                            new_block(text, akind, min(link_chars, len(text)), tags[akind])
                        )
                link_chars = 0
                cur = parent[akind]
            elif akind == _LINK_EXIT:
                link_depth -= 1
            nxt = anc.next
        node = nxt
    if buf:
        text = _norm("".join(buf))
        if text:
            blocks.append(new_block(text, cur, min(link_chars, len(text)), tags[cur]))
    return doc


def _note(node: Any, tid: int, found: Found) -> None:
    attrs = node.attributes
    if tid == _META_ID:
        found.metas.append(attrs)
    elif (attrs.get("type") or "").strip().lower() == "application/ld+json":
        found.jsonld.append(node.text())
