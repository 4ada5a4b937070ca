"""Vocabulary of site chrome: tag sets, class/id patterns and headings.

Kept apart from the algorithms so the lists can grow without touching logic.
Everything here is general (seen on many sites), never a single page's quirk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

# Subtrees never holding article text.
SKIP_TAGS = frozenset(
    {
        "head", "script", "style", "noscript", "template", "svg", "math", "iframe",
        "object", "embed", "canvas", "video", "audio", "button", "select", "option",
        "input", "textarea", "nav", "footer", "aside", "figure", "figcaption",
        "dialog", "menu", "picture", "map", "title", "link", "meta", "img", "source",
        "label", "form-control", "-comment", "!doctype", "frameset", "frame",
    }
)  # fmt: skip

# Phrasing elements: their text joins the enclosing block.
INLINE_TAGS = frozenset(
    {
        "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data",
        "del", "dfn", "em", "font", "i", "ins", "kbd", "mark", "q", "s", "samp",
        "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
        "wbr", "nobr", "o:p", "ruby", "rt", "rp",
    }
)  # fmt: skip

HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# Landmarks / ARIA roles of chrome.
CHROME_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "menu", "menubar",
     "search", "dialog", "alert", "toolbar", "tablist"}
)  # fmt: skip


# Class/id words of chrome.  A class or id is split into words (on anything
# not a letter or digit, and at camelCase humps; trailing digits dropped), and
# hits when a word, or two or three adjacent words joined, is listed here, or
# when a word starts with one of the unambiguous stems.  So "related-posts",
# "relatedPosts" and "read-more" hit; "unrelated" and "header" do not.
def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


CHROME_WORDS = _wordset(
    """ad ads adv advert advertisement advertising adslot adunit adsense dfp gptad
    sponsor sponsored promo banner billboard leaderboard skyscraper mpu outbrain taboola
    related recommend recommended recirc morestories morefrom mostpopular mostread
    popular trending readmore readnext nextarticle furtherreading alsoread seealso
    youmay suggested teaserlist latest headlines
    share sharing social sociable follow sharebar addthis sharethis
    comment comments disqus discuss respond reply replies reactions
    newsletter subscribe subscription signup register login paywallprompt
    breadcrumb breadcrumbs sidebar widget rail rightcol leftcol
    cookie cookies consent gdpr popup modal overlay lightbox toast
    masthead navbar nav navigation menu topbar toolbar footer siteheader
    byline author authors contributor dateline timestamp publishdate postmeta
    entrymeta articlemeta metainfo articleinfo
    caption credit copyright photocredit wpcaption imagecaption
    tags taglist tagcloud keywords topics categories categorylist
    pagination pager paging print email rss jump skip sronly screenreader
    visuallyhidden hidden hide offscreen invisible noprint
    gallery slideshow carousel slider videoplayer player playlist
    poll rating rate vote bio aboutauthor disclaimer
    inlinead nativead affiliate shop store donate donation membership
    tooltip dropdown search account usertools"""
)
CHROME_STEMS = (
    "related", "recommend", "comment", "newsletter", "breadcrumb", "sidebar", "share",
    "social", "subscribe", "advert", "sponsor", "promo", "outbrain", "taboola",
    "trending", "caption", "byline", "pagination", "cookie", "footer", "masthead",
    "navbar",
)  # fmt: skip
# Words that mean "this is the article", protecting an element from the above.
CONTENT_WORDS = _wordset(
    """articlebody articlecontent articletext storybody storycontent storytext postbody
    postcontent posttext entrycontent entrybody bodytext contentbody maincontent
    newsbody newscontent newstext textbody articlemain richtext prose contentarticle
    singlecontent tdpostcontent fieldbody fieldnamebody articlecopy storycopy"""
)
_CAMEL = re.compile(r"([a-z])([A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
_DIGITS = "0123456789"


def attr_words(class_: str | None, id_: str | None) -> list[str]:
    """Class and id as lowercase words (camelCase split, trailing digits dropped)."""
    joined = f"{class_ or ''} {id_ or ''}"
    if joined.lower() != joined:
        joined = _CAMEL.sub(r"\1 \2", joined).lower()
    return [w for w in (p.rstrip(_DIGITS) for p in _SPLIT.split(joined)) if w]


def classify_words(words: list[str]) -> tuple[bool, bool]:
    """(is chrome, is content) for class/id words."""
    chrome = content = False
    prev = prev2 = ""
    for w in words:
        if w in CHROME_WORDS or w.startswith(CHROME_STEMS):
            chrome = True
        elif w in CONTENT_WORDS:
            content = True
        if prev:
            pair = prev + w
            if pair in CHROME_WORDS:
                chrome = True
            elif pair in CONTENT_WORDS:
                content = True
            if prev2 and prev2 + pair in CONTENT_WORDS:
                content = True
        prev2, prev = prev, w
    return chrome, content


def is_chrome_attr(class_: str | None, id_: str | None = None) -> bool:
    """True when class/id name site chrome and not the article itself."""
    chrome, content = classify_words(attr_words(class_, id_))
    return chrome and not content


# Inline elements (``<span>``) are only dropped for these: hover cards and
# tooltips set inside sentences, text for screen readers, share buttons.
INLINE_CHROME_WORDS = _wordset(
    """tooltip popup popover rollover hovercard hover sronly screenreader visuallyhidden
    share sharing social hidden hide invisible offscreen"""
)
_INLINE_CACHE: dict[str, bool] = {}


def is_inline_chrome(class_: str) -> bool:
    """True for a ``<span>`` class of inline chrome (cached)."""
    hit = _INLINE_CACHE.get(class_)
    if hit is None:
        words = attr_words(class_, None)
        hit = any(w in INLINE_CHROME_WORDS for w in words) or any(
            a + b in INLINE_CHROME_WORDS for a, b in pairwise(words)
        )
        if len(_INLINE_CACHE) >= _CACHE_MAX:
            _INLINE_CACHE.clear()
        _INLINE_CACHE[class_] = hit
    return hit


_TOKEN_CACHE: dict[str, int] = {}
_CACHE_MAX = 200_000
KIND_PLAIN, KIND_CHROME, KIND_CONTENT, KIND_WIDGET = 0, 1, 2, 3
# Chrome words that name a self-contained widget, never a page layout box:
# such an element is left out without walking it.
WIDGET_WORDS = _wordset(
    """disqus newsletter breadcrumb breadcrumbs cookie cookies consent gdpr outbrain
    taboola sharethis addthis sharebar footer navbar nav menu masthead topbar toolbar"""
)
# State and layout words ("menu-open", "has-footer", "container") mark an
# element that may wrap the page: it is never skipped as a widget.
_STATE_WORDS = _wordset(
    """open opened closed close active inactive fixed sticky has with no without is show
    shown visible collapsed expanded enabled disabled on off page layout wrap wrapper
    container body main content row col column grid site inner outer section region
    area template single post entry article"""
)


_LAYOUT_BIT = 8


def _token_kind(token: str) -> int:
    """Kind of one class token, plus ``_LAYOUT_BIT`` when it names a state or layout."""
    kind = _TOKEN_CACHE.get(token)
    if kind is None:
        words = attr_words(token, None)
        chrome, content = classify_words(words)
        kind = KIND_CONTENT if content else KIND_CHROME if chrome else KIND_PLAIN
        if kind == KIND_CHROME and any(w in WIDGET_WORDS for w in words):
            kind = KIND_WIDGET
        if any(w in _STATE_WORDS for w in words):
            kind |= _LAYOUT_BIT
        if len(_TOKEN_CACHE) >= _CACHE_MAX:
            _TOKEN_CACHE.clear()
        _TOKEN_CACHE[token] = kind
    return kind


_PAIR_CACHE: dict[tuple[str | None, str | None], int] = {}


def attr_kind(class_: str | None, id_: str | None) -> int:
    """Classify an element by its class and id: plain, chrome or content.

    Each class token (and the id) is classified once and cached, and so is
    each (class, id) pair: pages and sites repeat the same class names over
    and over.  Content wins over chrome ("article-body share" is the article).
    """
    key = (class_, id_)
    kind = _PAIR_CACHE.get(key)
    if kind is None:
        kind = _classify_pair(class_, id_)
        if len(_PAIR_CACHE) >= _CACHE_MAX:
            _PAIR_CACHE.clear()
        _PAIR_CACHE[key] = kind
    return kind


def _classify_pair(class_: str | None, id_: str | None) -> int:
    found = KIND_PLAIN
    layout = False
    tokens = class_.split() if class_ else []
    if id_:
        tokens.append(id_)
    for token in tokens:
        kind = _token_kind(token)
        if kind & _LAYOUT_BIT:
            layout = True
            kind &= ~_LAYOUT_BIT
        if kind == KIND_CONTENT:
            return KIND_CONTENT
        if kind > found:
            found = kind
    # An element that also names a layout role ("container", "has-sidebar",
    # "menu-open") may wrap the page: chrome, but walked, never skipped.
    if found == KIND_WIDGET and layout:
        return KIND_CHROME
    return found


# Headings of link lists and other chrome, matched against a whole short block.
# English plus the cheap other languages of news sites (de, fr, es, pt, it, nl,
# id/ms, ru, pl, tr).
CHROME_HEADING = re.compile(
    r"^\W*(?:"
    r"recent (?:stories|posts|news|articles)|more (?:stories|news|articles|videos|from\b.*)"
    r"|more (?:\w+ ){1,3}(?:stories|news|articles|videos)"
    r"|related(?: (?:stories|articles|posts|news|content|coverage|topics|links|reading|video|videos))?"
    r"|read (?:more|next|also)|also read|see also|further reading|more on this(?: story| topic)?"
    r"|most (?:popular|read|viewed|shared|commented)|trending(?: now| stories| news)?"
    r"|top stories|latest (?:news|stories|articles|posts|headlines)|editor'?s picks?"
    r"|you (?:may|might) (?:also )?(?:like|enjoy|be interested in)|recommended(?: for you| stories| articles)?"
    r"|don'?t miss|popular (?:stories|posts|articles|now)|what to read next|up next"
    r"|share this(?: article| story| post)?|share on \w+|follow us(?: on \w+)?"
    r"|sign up for .*|subscribe to .*|get the .*newsletter.*|newsletter|advertisement|advertising"
    r"|sponsored(?: content| stories)?|comments?|leave a (?:comment|reply)|tags?|topics"
    r"|lesen sie auch|mehr zum thema|auch interessant|weitere artikel|das könnte sie auch interessieren"
    r"|à lire aussi|lire aussi|sur le même sujet|les plus lus|articles liés"
    r"|lee también|leer más|te puede interesar|noticias relacionadas|más leídas"
    r"|leia também|leia mais|veja também|mais lidas|notícias relacionadas|você (?:pode|também pode) gostar"
    r"|breaking news|latest news|news ?feed|in other news|more news|most recent|recent posts"
    r"|leggi anche|articoli correlati|potrebbe interessarti"
    r"|lees ook|meer nieuws|gerelateerde artikelen"
    r"|baca juga|berita terkait|artikel terkait|terpopuler|baca selengkapnya"
    r"|читайте также|похожие новости|по теме|czytaj także|zobacz też|ilgili haberler"
    r")\W*$",
    re.IGNORECASE,
)

# Short blocks that are chrome wherever they stand.
CHROME_LINE = re.compile(
    r"^\W*(?:advertisements?|advertising|adverts?|ads?|sponsored|story continues below(?: advertisement)?"
    r"|tell us what you think.*|what do you think\?|leave a comment.*|join the conversation.*"
    r"|continue reading(?: below)?|scroll (?:down )?to continue(?: reading)?"
    r"|click (?:here )?to (?:read|see|view|watch|share|subscribe).*|read more|read full story"
    r"|share(?: this)?(?: article| story)?|tweet|email|print|facebook|twitter|linkedin"
    r"|whatsapp|pinterest|reddit|copy link|copied|image|photo|video|listen(?: to this article)?"
    r"|like this (?:story|article)\?.*|(?:image|photo|slide|picture) \d+ (?:of|/) \d+"
    r"|\d+ min(?:ute)?s? read|skip to (?:main )?content|back to top|close|menu|loading\.*"
    r"|subscribe(?: now)?|sign up(?: now)?|log ?in|register|follow us.*|all rights reserved.*"
    r"|anzeige|werbung|publicidad|publicité|pubblicità|iklan|реклама)\W*$",
    re.IGNORECASE,
)


def _alternatives(inner: str) -> list[str]:
    """Top-level alternatives of a regex source (``a|b(?:c|d)`` -> ``a``, ``b(?:c|d)``)."""
    out: list[str] = []
    depth = 0
    start = i = 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = inner.index("]", i + 2) + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(inner[start:i])
            start = i + 1
        i += 1
    out.append(inner[start:])
    return out


_LEAD = re.compile(r"\W*")
_OPEN, _CLOSE = r"^\W*(?:", r")\W*$"


def _phrase_matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    r"""A fast equivalent of ``bool(pattern.match(text))`` for a pattern of the form
    ``^\W*(?:phrase|phrase...)\W*$`` (case-insensitive).

    The regex engine tries the phrases one after another; here only those
    that can start with the text's first (ASCII) letter or digit are tried.
    Phrases that do not begin with a plain letter or ``\d`` are tried always,
    and text opening with another character is matched by ``pattern`` itself.
    """
    source = pattern.pattern
    assert source.startswith(_OPEN) and source.endswith(_CLOSE), source[:20]
    phrases = _alternatives(source[len(_OPEN) : -len(_CLOSE)])
    keyed: dict[str, list[str]] = {}
    always: list[str] = []
    for phrase in phrases:
        first, rest = phrase[:1], phrase[1:2]
        if first.isascii() and first.isalpha() and rest not in ("?", "*", "{"):
            keyed.setdefault(first.lower(), []).append(phrase)
        elif phrase.startswith("\\d") and phrase[2:3] not in ("?", "*", "{"):
            keyed.setdefault("0", []).append(phrase)
        elif first.isalpha() and rest not in ("?", "*", "{"):
            pass  # opens with a non-ASCII letter: left to ``pattern`` (see below)
        else:  # opens with a group, a class ...: tried always
            always.append(phrase)
    flags = pattern.flags
    by_key = {
        key: re.compile(f"(?:{'|'.join(group + always)}){_CLOSE[1:]}", flags).match
        for key, group in keyed.items()
    }
    other = re.compile(f"(?:{'|'.join(always)}){_CLOSE[1:]}", flags).match if always else None
    full = pattern.match
    lead = _LEAD.match

    def matches(text: str) -> bool:
        start = 0
        c = text[:1]
        if not c.isalnum():
            if not c:
                return False
            skipped = lead(text)
            start = skipped.end() if skipped is not None else 0
            c = text[start : start + 1]
            if not c:
                return False
        if not c.isascii():
            return full(text) is not None
        if c.isalpha():
            match = by_key.get(c.lower(), other)
        elif c.isdigit():
            match = by_key.get("0", other)
        else:
            match = other
        return match is not None and match(text, start) is not None

    return matches


is_chrome_heading = _phrase_matcher(CHROME_HEADING)
"""``bool(CHROME_HEADING.match(text))``, faster."""
is_chrome_line = _phrase_matcher(CHROME_LINE)
"""``bool(CHROME_LINE.match(text))``, faster."""


# Post meta lines: "05/10/2018 - Posted by: X - Category: Y - Tags: z".
META_LINE_START = re.compile(
    r"^\W*(?:[\d/.-]{6,10}\s*[-|–]?\s*)?"
    r"(?:posted|published|publicado|publicada|publié|veröffentlicht|pubblicato|written)\s+"
    r"(?:by|por|par|von|da)\b",
    re.IGNORECASE,
)
META_LABEL = re.compile(
    r"(?:^\W*|[-|–•]\s*)(?:categor(?:y|ies|ia|ie)|tags?|filed under)\s*:", re.IGNORECASE
)


def is_meta_line(line: str) -> bool:
    """Post meta lines: "05/10/2018 - Posted by: X - Category: Y - Tags: z"."""
    if META_LINE_START.match(line):
        return True
    return ":" in line and META_LABEL.search(line) is not None


BYLINE_LINE = re.compile(
    r"^(?:by|written by|words by|von|par|por|di|oleh|door|автор)\s+\S.{0,80}$", re.IGNORECASE
)
RELATIVE_TIME = re.compile(
    r"\b\d+\s*(?:sec|secs|seconds?|min|mins|minutes?|hours?|hrs?|days?|weeks?|months?)\s+ago\s*$",
    re.IGNORECASE,
)
COPYRIGHT_LINE = re.compile(r"^(?:©|\(c\)|copyright\b)", re.IGNORECASE)

# Image captions that escaped <figure>: "... (Image: GETTY)", "Photo: Reuters".
CAPTION_LINE = re.compile(
    r"(?:\((?:image|photo|picture|pic|credit|source|foto|bild|imagem|imagen)s?\s*:[^)]*\)\s*$)"
    r"|^(?:image|photo|picture|credit|foto|bild|imagem|imagen)s?\s*(?:credit)?\s*:\s*\S.{0,60}$",
    re.IGNORECASE,
)
# Words of a written date in the cheap languages (months, weekdays, fillers):
# a short line made only of these, numbers and punctuation is a date line.
DATE_WORDS = _wordset(
    """jan january feb february mar march apr april may jun june jul july aug august sep
    sept september oct october nov november dec december mon monday tue tuesday wed
    wednesday thu thursday fri friday sat saturday sun sunday am pm at on of the gmt utc
    est edt pst pdt bst cet cest ist pkt updated published posted last modified
    janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro
    dezembro segunda terça quarta quinta sexta sábado domingo feira de às as em
    enero febrero marzo mayo junio julio septiembre octubre noviembre diciembre lunes
    martes miércoles jueves viernes del el a las actualizado publicado
    janvier février mars avril mai juin juillet août septembre octobre novembre décembre
    lundi mardi mercredi jeudi vendredi samedi dimanche le à h mis jour publié
    januar februar märz juni juli oktober dezember montag dienstag mittwoch donnerstag
    freitag samstag sonntag um uhr am aktualisiert veröffentlicht
    gennaio febbraio aprile maggio giugno luglio agosto settembre ottobre dicembre
    lunedì martedì mercoledì giovedì venerdì sabato alle ore
    januari februari maret mei juni juli agustus oktober desember senin selasa rabu kamis
    jumat sabtu minggu wib pukul p m"""
)
_MONTH_STEMS = _wordset(
    """jan feb mar apr may jun jul aug sep oct nov dec fev abr mai ago set out dez ene dic
    fév avr aoû déc mär okt gen giu lug ott mei agu des"""
)
_MONTH_WORDS = frozenset(w for w in DATE_WORDS if len(w) >= 3 and w[:3] in _MONTH_STEMS)


DIGIT = re.compile(r"\d")
_LETTERS = re.compile(r"[^\W\d_]+")
_YEAR_OR_TIME = re.compile(r"\d{4}|\d[:.]\d\d")


def looks_like_date_line(text: str) -> bool:
    """A short line that only states a date/time ("segunda-feira, 22 de janeiro de 2018")."""
    if len(text) > 80 or not DIGIT.search(text):
        return False
    words = _LETTERS.findall(text.lower())
    if any(w not in DATE_WORDS for w in words):
        return False
    return bool(_YEAR_OR_TIME.search(text)) or any(w in _MONTH_WORDS for w in words)
