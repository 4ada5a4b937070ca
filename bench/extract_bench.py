"""Article-extraction benchmark on the AEB dev set (not a test; see --help).

Runs ``scrapers.extract`` (the logic behind ``ingest extract``) over every page
of ``../shared/eval/aeb``, scores it with the data set's own metric and prints
F1, precision, recall, the share of pages under F1 0.5 and ms per page.
``--compare trafilatura`` runs trafilatura on the same pages in the same run.

The metric (as the data set's README publishes it): tokens are ``\\w+``
matches; units are overlapping 4-token windows counted as a multiset (a text
of 1-3 tokens is one unit, an empty text none); per page precision and recall
come from the multiset overlap; P is the mean precision over pages with a
prediction, R the mean recall over pages with truth, F1 = 2PR/(P+R).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "aeb"
_TOKEN = re.compile(r"\w+")


def units(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def page_scores(predicted: str, truth: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where undefined (no prediction / truth)."""
    pred, true = units(predicted), units(truth)
    tp = sum((pred & true).values())
    fp = sum(pred.values()) - tp
    fn = sum(true.values()) - tp
    precision = (1.0 if fp == 0 else tp / (tp + fp)) if pred else None
    recall = (1.0 if fn == 0 else tp / (tp + fn)) if true else None
    return precision, recall


@dataclass
class Row:
    name: str
    f1: float
    precision: float
    recall: float
    under_half: float
    median_ms: float
    mean_ms: float
    per_page: dict[str, float]


def score(name: str, predictions: dict[str, str], truth: dict[str, str], times: list[float]) -> Row:
    precisions: list[float] = []
    recalls: list[float] = []
    per_page: dict[str, float] = {}
    for key, true_text in truth.items():
        p, r = page_scores(predictions.get(key, ""), true_text)
        if p is not None:
            precisions.append(p)
        if r is not None:
            recalls.append(r)
        pp, rr = p or 0.0, r or 0.0
        per_page[key] = 2 * pp * rr / (pp + rr) if pp + rr else 0.0
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    under = sum(1 for v in per_page.values() if v < 0.5) / max(len(per_page), 1)
    return Row(
        name, f1, precision, recall, under,
        statistics.median(times) * 1000, statistics.fmean(times) * 1000, per_page,
    )  # fmt: skip


def load(data_dir: Path) -> tuple[dict[str, bytes], dict[str, str], dict[str, str]]:
    truth_raw = json.loads((data_dir / "ground-truth.json").read_text(encoding="utf-8"))
    pages, truth, urls = {}, {}, {}
    for key, item in sorted(truth_raw.items()):
        path = data_dir / "html" / f"{key}.html.gz"
        if path.exists():
            pages[key] = gzip.decompress(path.read_bytes())
            truth[key] = item.get("articleBody") or ""
            urls[key] = item.get("url") or ""
    return pages, truth, urls


def ours(html: bytes, url: str) -> str:
    from scrapers import extract

    return extract(html, url).text


def trafilatura_fn(html: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


def print_row(row: Row) -> None:
    print(
        f"{row.name:<12} F1 {row.f1:.4f}  P {row.precision:.4f}  R {row.recall:.4f}  "
        f"<0.5 {row.under_half:.3f}  ms/page median {row.median_ms:.2f} mean {row.mean_ms:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="AEB folder")
    parser.add_argument("--compare", choices=["trafilatura"], help="also run this extractor")
    parser.add_argument("--min-f1", type=float, help="exit 1 if our F1 is below this")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages")
    parser.add_argument("--repeat", type=int, default=1, help="runs per page (fastest kept)")
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: this thread's CPU time (steady on a shared, busy machine); wall: elapsed",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if not (args.data / "ground-truth.json").exists():
        print(f"data set not found at {args.data}", file=sys.stderr)
        return 2
    pages, truth, urls = load(args.data)
    print(f"{len(pages)} pages from {args.data}")

    ours(b"<p>warm up</p>", "https://example.com/")
    fns: dict[str, Callable[[bytes, str], str]] = {"news-ingest": ours}
    if args.compare == "trafilatura":
        trafilatura_fn(b"<html><body><p>warm up</p></body></html>", "https://example.com/")
        fns["trafilatura"] = trafilatura_fn
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    print(f"timing: {args.clock} clock, fastest of {max(args.repeat, 1)} run(s) per page")
    # Each extractor runs over all pages in turn (as a service would run one
    # of them), warm in its own code; --repeat keeps the fastest run per page.
    predictions: dict[str, dict[str, str]] = {name: {} for name in fns}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for name, fn in fns.items():
        for key, html in pages.items():
            best = float("inf")
            for _ in range(max(args.repeat, 1)):
                start = clock()
                predictions[name][key] = fn(html, urls[key]) or ""
                best = min(best, clock() - start)
            times[name].append(best)
    rows = {name: score(name, predictions[name], truth, times[name]) for name in fns}
    for row in rows.values():
        print_row(row)
    row = rows["news-ingest"]
    if "trafilatura" in rows:
        t_row = rows["trafilatura"]
        print(
            f"speed ratio (trafilatura / ours): median {t_row.median_ms / row.median_ms:.1f}x, "
            f"mean {t_row.mean_ms / row.mean_ms:.1f}x"
        )
    if args.worst:
        for key, f1 in sorted(row.per_page.items(), key=lambda kv: kv[1])[: args.worst]:
            print(f"  {f1:.3f} {key[:16]} {urls[key]}")
    if args.min_f1 is not None and row.f1 < args.min_f1:
        print(f"FAIL: F1 {row.f1:.4f} < gate {args.min_f1:.4f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
