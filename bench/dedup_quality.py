"""Near-duplicate quality: pair precision and recall on a labelled corpus, per kind of edit.

The corpus comes from ``bench/dedup_corpus.py`` (real AEB article bodies,
reprinted with typical edits; never stored in the project).  Documents are
stored in publication order through the same indexer as the crawl hook, on a
fresh database, once as extracted text and once with outlet chrome left in.

* positives: (original, reprint) pairs; recall is reported per kind of edit
* precision counts every flagged pair: same story = right, different stories = wrong

Usage: ``python bench/dedup_quality.py [--articles N] [--mode extracted|chrome|both]
[--set min_containment=0.5 ...] [--database URL]``.  Prints numbers; not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_corpus import KINDS, Doc, generate
from sqlalchemy import select

from db import migrate
from db import repository as repo
from db.models import DedupPair
from db.session import make_engine, session_factory, transaction
from ingest.dedup.hook import article_text
from ingest.dedup.indexer import Indexer
from ingest.dedup.settings import DedupSettings
from ingest.normalize import content_hash
from ingest.pipeline import StoredArticle


def parse_overrides(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = float(value) if "." in value else int(value) if value.isdigit() else value
    return out


def run(docs: list[Doc], settings: DedupSettings, url: str, chrome: bool) -> dict[str, Any]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    indexer = Indexer(settings)
    ordered = sorted(docs, key=lambda d: (d.published_at, d.id))
    by_article: dict[int, Doc] = {}
    started = time.perf_counter()
    with transaction(sessions) as session:
        sources = {o: repo.get_or_create_source(session, o).id for o in {d.outlet for d in docs}}
    for doc in ordered:
        body = doc.chrome_text if chrome else doc.text
        when = datetime.fromisoformat(doc.published_at)
        values = {
            "source_id": sources[doc.outlet], "url": doc.url, "fetched_url": doc.url, "title": doc.title,
            "authors": [], "published_at": when, "fetched_at": when, "body": body,
            "content_hash": content_hash(body), "word_count": len(body.split()), "provenance": {}, "flags": [],
        }
        with transaction(sessions) as session:
            article_id = repo.insert_article(session, values, None)
            assert article_id is not None
            indexer.index(session, [article_text(StoredArticle(article_id, values))])
        by_article[article_id] = doc
    seconds = time.perf_counter() - started
    with sessions() as session:
        pairs = [(p.a_id, p.b_id, p.rule, max(p.containment_ab, p.containment_ba)) for p in session.scalars(select(DedupPair))]
    engine.dispose()

    flagged = {(min(by_article[a].id, by_article[b].id), max(by_article[a].id, by_article[b].id)) for a, b, _, _ in pairs}
    right = [p for p in pairs if by_article[p[0]].story == by_article[p[1]].story]
    wrong = [p for p in pairs if by_article[p[0]].story != by_article[p[1]].story]
    originals = {d.story: d for d in docs if d.kind == "original"}
    per_kind: dict[str, list[int]] = {k: [0, 0] for k in KINDS}
    for d in docs:
        if d.kind == "original":
            continue
        o = originals[d.story]
        per_kind[d.kind][1] += 1
        if (min(o.id, d.id), max(o.id, d.id)) in flagged:
            per_kind[d.kind][0] += 1
    found = sum(v[0] for v in per_kind.values())
    total = sum(v[1] for v in per_kind.values())
    return {
        "docs": len(docs),
        "seconds": seconds,
        "flagged": len(pairs),
        "precision": len(right) / len(pairs) if pairs else 1.0,
        "recall": found / total if total else 1.0,
        "per_kind": per_kind,
        "rules": Counter(p[2] for p in pairs),
        "wrong": [(by_article[a].url, by_article[b].url, rule, round(c, 3)) for a, b, rule, c in wrong],
    }


def report(name: str, result: dict[str, Any]) -> None:
    print(f"\n== {name}: {result['docs']} documents, {result['flagged']} pairs flagged "
          f"({result['seconds']:.1f}s, {1000 * result['seconds'] / result['docs']:.2f} ms/doc)")
    print(f"pair precision {result['precision']:.4f}   recall (original, reprint) {result['recall']:.4f}")
    for kind, (hit, total) in result["per_kind"].items():
        print(f"  recall {kind:20s} {hit:4d}/{total:<4d} = {hit / total if total else 1:.3f}")
    print("  rules: " + ", ".join(f"{k}={v}" for k, v in sorted(result["rules"].items())))
    for a, b, rule, c in result["wrong"][:15]:
        print(f"  WRONG {rule} c={c}: {a}  <->  {b}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=None, help="Originals to use (default: all).")
    parser.add_argument("--mode", choices=["extracted", "chrome", "both"], default="both")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="DedupSettings override.")
    parser.add_argument("--database", default=None, help="An empty database URL (default: a temporary SQLite file).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = DedupSettings(**parse_overrides(args.set))
    docs = list(generate(args.seed, args.articles))
    print(f"settings: {settings.model_dump()}")
    modes = ["extracted", "chrome"] if args.mode == "both" else [args.mode]
    for mode in modes:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database or f"sqlite:///{tmp}/quality.db"
            if args.database and len(modes) > 1:
                raise SystemExit("--database takes one --mode")
            report(mode, run(docs, settings, url, chrome=mode == "chrome"))


if __name__ == "__main__":
    main()
