"""A labelled near-duplicate corpus generated from real article bodies.

Reads the article bodies of ``../shared/eval/aeb/ground-truth.json`` at run
time (they are never copied into the project).  About two thirds of them are
*originals*; the rest only train a word-level Markov chain that writes new
text (ledes, added paragraphs, related-story titles), so no generated text is
a verbatim copy of another story.

Each original is published by one outlet and reprinted by others, one reprint
per kind of edit:

* ``verbatim``: the same text
* ``new_lede``: the first paragraph replaced by a new one with a dateline
* ``added_paragraphs``: one to three new paragraphs inserted
* ``dropped_paragraphs``: about a quarter of the paragraphs left out
* ``cut_ending``: only the first 40-70 % of the text
* ``rewording``: about one word in fifteen replaced, dropped or swapped
* ``combined``: new lede, cut ending and rewording together

Every document exists twice: as extracted text, and with its outlet's chrome
(navigation, byline, share buttons, a 'Recent Stories' list, copyright)
left in.  Pairs of documents from different originals are the negatives; the
AEB set itself holds a few same-topic pairs (two outlets quoting one press
release), which makes them hard negatives.

Run ``python bench/dedup_corpus.py --out corpus.jsonl`` to look at it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

AEB = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "aeb" / "ground-truth.json"
KINDS = (
    "verbatim",
    "new_lede",
    "added_paragraphs",
    "dropped_paragraphs",
    "cut_ending",
    "rewording",
    "combined",
)
OUTLETS = (
    "dailyledger.example", "metrowire.example", "thecourier.example", "gazette24.example",
    "northpost.example", "pointnews.example", "eveningherald.example", "capitaltimes.example",
    "islandobserver.example", "frontierdaily.example",
)
CITIES = ("ISLAMABAD", "LONDON", "NEW YORK", "NEW DELHI", "PARIS", "BERLIN", "TOKYO", "NAIROBI")
SYNONYMS = {
    "said": "stated", "says": "states", "also": "additionally", "however": "but",
    "after": "following", "before": "prior to", "about": "around", "big": "large",
    "help": "assist", "show": "demonstrate", "start": "begin", "buy": "purchase",
    "people": "individuals", "use": "utilise", "many": "numerous", "important": "significant",
    "very": "highly", "new": "fresh", "told": "informed", "get": "obtain", "make": "create",
    "but": "yet", "because": "as", "while": "whereas", "first": "initial",
    "try": "attempt", "need": "require", "think": "believe", "end": "finish", "like": "such as",
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Doc:
    id: int
    story: int
    kind: str
    outlet: str
    url: str
    title: str
    published_at: str
    text: str
    chrome_text: str
    extra: dict[str, str] = field(default_factory=dict)


class Markov:
    """An order-2 word chain: writes plausible news-like text that is in no original."""

    def __init__(self, texts: list[str], rng: random.Random) -> None:
        self.rng = rng
        self.next: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.starts: list[tuple[str, str]] = []
        for text in texts:
            for sentence in _SENTENCE.split(text.replace("\n", " ")):
                words = sentence.split()
                if len(words) < 6:
                    continue
                self.starts.append((words[0], words[1]))
                for a, b, c in zip(words, words[1:], words[2:], strict=False):
                    self.next[(a, b)].append(c)

    def sentence(self, max_words: int = 30) -> str:
        a, b = self.rng.choice(self.starts)
        out = [a, b]
        while len(out) < max_words:
            options = self.next.get((a, b))
            if not options:
                break
            c = self.rng.choice(options)
            out.append(c)
            if c.endswith((".", "!", "?")) and len(out) > 8:
                break
            a, b = b, c
        text = " ".join(out)
        return text if text.endswith((".", "!", "?")) else text + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def title(self) -> str:
        words = self.sentence(12).rstrip(".!?").split()
        return " ".join(w.capitalize() if i == 0 else w for i, w in enumerate(words[:10]))


def load_bodies(path: Path = AEB) -> list[tuple[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(v["url"], v["articleBody"]) for _, v in sorted(data.items())]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def title_from_url(url: str) -> str:
    slug = [s for s in url.rstrip("/").split("/") if s][-1]
    slug = re.sub(r"\.\w+$", "", slug)
    words = [w for w in re.split(r"[-_]+", slug) if w and not w.isdigit() and len(w) < 20]
    return " ".join(words[:12]).capitalize() or "Untitled"


def edit(kind: str, paras: list[str], rng: random.Random, chain: Markov) -> list[str]:
    out = list(paras)
    if kind in ("new_lede", "combined"):
        lede = f"{rng.choice(CITIES)}: {chain.paragraph(rng.randint(2, 3))}"
        out = [lede, *out[1:]]
    if kind == "added_paragraphs":
        for _ in range(rng.randint(1, 3)):
            out.insert(rng.randint(1, len(out)), chain.paragraph(rng.randint(2, 4)))
    if kind == "dropped_paragraphs":
        drop = max(1, len(out) // 4)
        keep = sorted(rng.sample(range(len(out)), len(out) - drop))
        out = [out[i] for i in keep]
    if kind in ("cut_ending", "combined"):
        words = sum(len(p.split()) for p in out)
        budget, kept = words * rng.uniform(0.4, 0.7), []
        for p in out:
            kept.append(p)
            budget -= len(p.split())
            if budget <= 0:
                break
        out = kept
    if kind in ("rewording", "combined"):
        out = [reword(p, rng, 1 / 15) for p in out]
    return out


def reword(paragraph: str, rng: random.Random, rate: float) -> str:
    words = paragraph.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if rng.random() < rate:
            roll = rng.random()
            core = w.strip(".,;:!?\"'").lower()
            if roll < 0.4 and core in SYNONYMS:
                out.append(w.lower().replace(core, SYNONYMS[core]))
            elif roll < 0.7:
                pass  # dropped
            elif i + 1 < len(words):
                out.extend([words[i + 1], w])
                i += 1
            else:
                out.append(w)
        else:
            out.append(w)
        i += 1
    return " ".join(out)


def chrome(outlet: str, title: str, when: datetime, body: str, rng: random.Random, chain: Markov) -> str:
    """The body wrapped in the outlet's navigation, byline, share bar and footer."""
    site = outlet.split(".")[0].capitalize()
    header = ["- Home", f"- {site} News", "- World", "- Business", f"- {title}", title]
    byline = f"Staff Reporter Published {when:%B %d, %Y} | {when:%I:%M %p}"
    share = ["Share on Facebook", "Share on X", "Copy link"]
    related = ["Recent Stories", *(chain.title() for _ in range(rng.randint(6, 10)))]
    more = [f"More Stories From {site}"]
    for _ in range(rng.randint(4, 8)):
        more += ["-", f"{chain.title()}{rng.randint(2, 59)} minutes ago"]
    footer = [f"© {when.year} {site} Media Group. All rights reserved.", "Privacy Policy", "Contact Us"]
    return "\n".join([*header, byline, body, *share, *related, *more, *footer])


def generate(seed: int = 7, originals: int | None = None) -> Iterator[Doc]:
    """The corpus, documents grouped by story; ``originals`` limits the number of stories."""
    rng = random.Random(seed)
    bodies = [(u, b) for u, b in load_bodies() if len(b.split()) >= 150 and len(paragraphs(b)) >= 4]
    rng.shuffle(bodies)
    cut = len(bodies) * 2 // 3
    stories, pool = bodies[:cut], bodies[cut:]
    chain = Markov([b for _, b in pool], rng)
    start = datetime(2025, 1, 1, 8, tzinfo=UTC)
    doc_id = 0
    for story, (url, body) in enumerate(stories[:originals]):
        paras = paragraphs(body)
        title = title_from_url(url)
        day0 = start + timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 600))
        outlets = rng.sample(OUTLETS, len(KINDS) + 1)
        for kind, outlet in zip(("original", *KINDS), outlets, strict=True):
            when = day0 + timedelta(hours=0 if kind == "original" else rng.randint(1, 72))
            text_paras = paras if kind in ("original", "verbatim") else edit(kind, paras, rng, chain)
            text = "\n\n".join(text_paras)
            doc_title = title
            if kind != "original" and rng.random() < 0.5:
                doc_title = " ".join(title.split()[:-1]) or title
            doc_id += 1
            yield Doc(
                id=doc_id,
                story=story,
                kind=kind,
                outlet=outlet,
                url=f"https://{outlet}/{story}/{kind}/{doc_id}",
                title=doc_title,
                published_at=when.isoformat(),
                text=text,
                chrome_text=chrome(outlet, doc_title, when, "\n".join(text_paras), rng, chain),
            )


def stream(seed: int, size: int, reprint_share: float) -> list[Doc]:
    """``size`` documents in publication order, like a day of several outlets' feeds: about
    ``reprint_share`` of them reprint an earlier one (whole stories of the corpus, original
    and reprints), the rest are stories of their own (AEB originals, then Markov-written
    articles of 8-14 paragraphs, which share common phrases but no story)."""
    rng = random.Random(seed)
    docs = list(generate(seed))
    by_story: dict[int, list[Doc]] = defaultdict(list)
    for d in docs:
        by_story[d.story].append(d)
    stories = list(by_story.values())
    rng.shuffle(stories)
    chosen: list[Doc] = []
    reprints = 0
    for group in stories:
        if reprints + len(group) - 1 > size * reprint_share:
            chosen.append(group[0])  # the original alone: a story nobody reprinted
        else:
            chosen.extend(group)
            reprints += len(group) - 1
        if len(chosen) >= size:
            break
    chain = Markov([d.text for d in docs if d.kind == "original"], rng)
    start = datetime(2025, 1, 1, 8, tzinfo=UTC)
    next_id = max(d.id for d in docs) + 1
    while len(chosen) < size:
        outlet = rng.choice(OUTLETS)
        when = start + timedelta(days=rng.randint(0, 93), minutes=rng.randint(0, 1440))
        text = "\n\n".join(chain.paragraph(rng.randint(2, 4)) for _ in range(rng.randint(8, 14)))
        title = chain.title()
        chosen.append(Doc(next_id, -next_id, "unique", outlet, f"https://{outlet}/own/{next_id}", title,
                          when.isoformat(), text, chrome(outlet, title, when, text, rng, chain)))
        next_id += 1
    return sorted(chosen[:size], key=lambda d: d.published_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as fh:
        for doc in generate(args.seed):
            fh.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
