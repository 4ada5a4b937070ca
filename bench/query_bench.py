"""Query benchmark: ranked full-text search, filtered lists and ``GET /articles`` on a large archive.

Generates N synthetic articles (Zipf-distributed vocabulary, 50 sources, three
languages, 2 % undated, 5 % in near-duplicate pairs) into a dedicated database,
bulk-loaded (PostgreSQL ``COPY``; SQLite ``executemany``) through the real
migrations, then prints timings.  Nothing is asserted; targets are printed
next to the numbers::

    python bench/query_bench.py --articles 1000000 --backend both
    python bench/query_bench.py --articles 20000 --backend sqlite --http

A database that already holds N articles is reused (``--fresh`` rebuilds it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from machine import MachineWatch
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from db import queries
from db.migrate import upgrade
from db.models import Article
from db.session import make_engine, normalize_url

TARGET_SEARCH_MS = 50.0
TARGET_LIST_MS = 10.0
TARGET_RPS = 500.0
SOURCES = [f"outlet-{n:02d}" for n in range(50)]
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 3 * 365 * 86400
NEWS_WORDS = ["pakistan", "government", "minister", "election", "court", "police", "budget", "economy", "flood", "cricket", "islamabad", "karachi", "lahore", "parliament", "president", "trade", "inflation", "energy", "oil", "prices", "talks", "agreement", "security", "border", "rains", "health", "hospital", "school", "students", "protest", "bank", "market", "exports", "imports", "taxes", "fuel", "electricity", "water", "climate", "storm", "army"]


# --- synthetic data -----------------------------------------------------------------


class Corpus:
    """Deterministic pseudo-news text: a Zipf vocabulary of made-up words plus news words."""

    def __init__(self, seed: int = 7, vocabulary: int = 30_000) -> None:
        self.rng = random.Random(seed)
        syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
        words: list[str] = []
        seen: set[str] = set(NEWS_WORDS)
        while len(words) < vocabulary:
            word = "".join(self.rng.choice(syllables) for _ in range(self.rng.randint(2, 4)))
            if word not in seen:
                seen.add(word)
                words.append(word)
        # news words sit at ranks 20..60: frequent, but not stop-word frequent
        self.words = words[:20] + NEWS_WORDS + words[20:]
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.authors = [
            f"{self.rng.choice(self.words[100:3000]).title()} {self.rng.choice(self.words[100:3000]).title()}"
            for _ in range(2000)
        ]

    def text(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=n))

    def body(self) -> str:
        paragraphs = [self.text(self.rng.randint(20, 45)).capitalize() + "." for _ in range(self.rng.randint(2, 5))]
        return "\n\n".join(paragraphs)


def _rows(n: int, corpus: Corpus) -> Iterator[dict[str, Any]]:
    rng = corpus.rng
    for i in range(1, n + 1):
        body = corpus.body()
        undated = rng.random() < 0.02
        published = None if undated else EPOCH + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        language = "en" if rng.random() < 0.85 else ("ur" if rng.random() < 0.67 else "fr")
        yield {
            "id": i,
            "source_id": rng.randrange(len(SOURCES)) + 1,
            "url": f"https://news{i % 50}.example/a/{i}",
            "title": corpus.text(rng.randint(6, 12)).capitalize(),
            "authors": json.dumps([rng.choice(corpus.authors)]),
            "published_at": published,
            "fetched_at": (published or EPOCH) + timedelta(hours=1),
            "language": language,
            "body": body,
            "content_hash": f"{i:064x}",
            "word_count": len(body.split()),
            "provenance": '{"title":"json-ld"}',
            "flags": "[]",
        }


COLUMNS = [
    "id", "source_id", "url", "title", "authors", "published_at", "fetched_at",
    "language", "body", "content_hash", "word_count", "provenance", "flags",
]


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _load_postgres(engine: Engine, n: int, corpus: Corpus) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("DROP INDEX IF EXISTS ix_articles_search_vector")  # rebuilt once after COPY
        cur.executemany(
            "INSERT INTO sources (id, name, created_at, consecutive_failures, healthy) VALUES (%s, %s, now(), 0, true)",
            [(i + 1, name) for i, name in enumerate(SOURCES)],
        )
        columns = ", ".join(COLUMNS)
        with cur.copy(f"COPY articles ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for row in _rows(n, corpus):
                buffer.write("\t".join(_copy_value(row[c]) for c in COLUMNS) + "\n")
                if buffer.tell() > 8_000_000:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
                    print(f"  copied {row['id']:,}", file=sys.stderr, flush=True)
            copy.write(buffer.getvalue())
        cur.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
        cur.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)", (n,))
        _add_pairs_sql(cur, n, corpus, "%s")
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # visibility map and statistics, as a settled table has


def _load_sqlite(engine: Engine, n: int, corpus: Corpus, *, optimize: bool = True) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(
            "INSERT INTO sources (id, name, created_at, consecutive_failures, healthy) VALUES (?, ?, datetime('now'), 0, 1)",
            [(i + 1, name) for i, name in enumerate(SOURCES)],
        )
        placeholders = ", ".join("?" for _ in COLUMNS)
        sql = f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        batch: list[tuple[Any, ...]] = []
        for row in _rows(n, corpus):
            values = tuple(
                row[c].astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
                if isinstance(row[c], datetime) else row[c]
                for c in COLUMNS
            )
            batch.append(values)
            if len(batch) >= 20_000:
                cur.executemany(sql, batch)
                raw.commit()
                batch = []
                print(f"  inserted {row['id']:,}", file=sys.stderr, flush=True)
        cur.executemany(sql, batch)
        _add_pairs_sql(cur, n, corpus, "?")
        raw.commit()
        if optimize:  # one FTS5 segment; a live archive's index has several
            cur.execute("INSERT INTO articles_fts(articles_fts) VALUES ('optimize')")
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _add_pairs_sql(cur: Any, n: int, corpus: Corpus, mark: str) -> None:
    """5 % of articles get a near-duplicate partner (``has_duplicates`` has something to find)."""
    rng = corpus.rng
    pairs = sorted({tuple(sorted(rng.sample(range(1, n + 1), 2))) for _ in range(max(1, n // 40))})
    values = ", ".join([mark] * 8)
    cur.executemany(
        "INSERT INTO dedup_pairs (a_id, b_id, containment_ab, containment_ba, jaccard, title_similarity, rule, created_at) "
        f"VALUES ({values})",
        [(a, b, 0.9, 0.9, 0.8, 0.9, "bench", datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")) for a, b in pairs],
    )


def prepare(url: str, n: int, fresh: bool, *, fts_optimize: bool = True) -> Engine:
    """A migrated database at ``url`` holding exactly ``n`` synthetic articles."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count()).select_from(Article)) or 0
    if have == n and not fresh:
        print(f"reusing {n:,} articles at {engine.url.render_as_string()}", file=sys.stderr)
        return engine
    engine.dispose()
    _drop(url)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    corpus = Corpus()
    if engine.dialect.name == "sqlite":
        _load_sqlite(engine, n, corpus, optimize=fts_optimize)
    else:
        _load_postgres(engine, n, corpus)
    print(f"loaded {n:,} articles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return engine


def _drop(url: str) -> None:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def ensure_pg_database(url: str) -> None:
    parsed = make_url(normalize_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}):
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


# --- timing ---------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _time(name: str, fn: Callable[[], Any], repeat: int) -> Timing:
    fn()  # warm the caches and the statement cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(name, samples)


def run_queries(engine: Engine, repeat: int) -> tuple[list[Timing], list[Timing], list[Timing]]:
    from db.session import session_factory
    from ingest.api.app import read_engine_for

    # What the API does: autocommit, no pre-ping, statement timeout set at connect.
    reads = read_engine_for(engine)
    sessions = session_factory(reads)
    flt = queries.ArticleFilter
    since = EPOCH + timedelta(days=400)
    author = Corpus().authors[0].split()[0]  # ~500 articles over the whole archive
    searches: list[tuple[str, str, queries.ArticleFilter]] = [
        ("search 'pakistan' (frequent word)", "pakistan", flt()),
        ("search 'cricket karachi' (two words)", "cricket karachi", flt()),
        ("search 'flood OR storm' (OR)", "flood OR storm", flt()),
        ("search a phrase that occurs", "", flt()),
        ("search rare made-up word", "", flt()),
        ("search 'election' + source", "election", flt(source=SOURCES[3])),
        ("search 'election' + language ur", "election", flt(language="ur")),
        ("search 'minister' + date range", "minister", flt(since=since, until=since + timedelta(days=30))),
    ]
    # Beyond the list, for regressions: filters whose plans went wrong (two frequent
    # words in a source: a GIN bitmap on PostgreSQL; an open-ended date range: most of the
    # archive) and filters of a few hundred articles spread over the whole archive.
    further: list[tuple[str, str, queries.ArticleFilter]] = [
        ("search 'cricket karachi' + source", "cricket karachi", flt(source=SOURCES[3])),
        ("search 'election' + since (open-ended)", "election", flt(since=since)),
        ("search 'election' + source + date range", "election",
         flt(source=SOURCES[3], since=since, until=since + timedelta(days=30))),
        ("search 'election' + author", "election", flt(author=author)),
    ]
    corpus = Corpus()
    rare = corpus.words[5000]
    first_body = next(_rows(1, Corpus()))["body"].lower().replace(".", "").split()
    phrase = f'"{first_body[3]} {first_body[4]}"'  # two adjacent words of article 1
    search_timings = []
    for name, q, f in searches + further:
        query = q or (phrase if "phrase" in name else rare)

        def one(query: str = query, f: queries.ArticleFilter = f) -> None:
            with sessions() as s:
                try:
                    queries.search_articles(s, query, f, limit=20)
                except queries.SearchTimeout:
                    print(f"  {query!r} hit the search timeout", file=sys.stderr)

        search_timings.append(_time(name, one, repeat))

    lists: list[tuple[str, queries.ArticleFilter]] = [
        ("list newest", flt()),
        ("list source", flt(source=SOURCES[7])),
        ("list source + language", flt(source=SOURCES[7], language="en")),
        ("list language ur", flt(language="ur")),
        ("list date range", flt(since=since, until=since + timedelta(days=7))),
        ("list source + date range", flt(source=SOURCES[9], since=since, until=since + timedelta(days=30))),
        ("list has duplicates", flt(has_duplicates=True)),
        ("list author", flt(author=corpus.authors[0].split()[0])),
    ]
    list_timings = []
    for name, f in lists:

        def page(f: queries.ArticleFilter = f) -> None:
            with reads.connect() as conn:  # GET /articles' path: Core rows
                queries.list_article_rows(conn, f, limit=20)

        list_timings.append(_time(name, page, repeat))

    with reads.connect() as conn:
        token = None
        for _ in range(50):
            token = queries.list_article_rows(conn, flt(), limit=20, after=token).next_cursor

    def deep(token: str | None = token) -> None:
        with reads.connect() as conn:
            queries.list_article_rows(conn, flt(), limit=20, after=token)

    list_timings.append(_time("list page 51 (keyset cursor)", deep, repeat))

    # the CLI's and the web page's path: the same rows, in a session (a transaction) on the
    # default engine, whose pool pre-pings each checkout
    cli = session_factory(engine)
    for name, f in lists[:1] + lists[-2:]:

        def cli_page(f: queries.ArticleFilter = f) -> None:
            with cli() as s:
                queries.list_article_rows(s.connection(), f, limit=20)

        list_timings.append(_time(f"{name} (CLI path)", cli_page, repeat))
    reads.dispose()
    return search_timings[: len(searches)], search_timings[len(searches) :], list_timings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- CPU accounting (Linux /proc) -------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.extend(_descendants(int(proc.name)))
    return found


def _pg_backends(url: str) -> list[int]:
    """PIDs of the server backends connected to the bench database (none on SQLite)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return []
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                {"d": parsed.database},
            )
            return [int(r[0]) for r in rows]
    finally:
        engine.dispose()


class CpuMeter:
    """CPU seconds used by the API's processes and its PostgreSQL backends over a window."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server_pid = server_pid
        self.url = url
        self.start: dict[int, float] = {}

    def _sample(self) -> tuple[dict[int, float], dict[int, float]]:
        server = {p: _cpu_seconds(p) for p in _descendants(self.server_pid)}
        database = {p: _cpu_seconds(p) for p in _pg_backends(self.url)}
        return server, database

    def __enter__(self) -> CpuMeter:
        self._server0, self._db0 = self._sample()
        self.total0 = _machine_cpu()
        return self

    def __exit__(self, *_: object) -> None:
        server1, db1 = self._sample()
        self.server = sum(v - self._server0.get(p, 0.0) for p, v in server1.items())
        self.database = sum(v - self._db0.get(p, 0.0) for p, v in db1.items())
        self.machine = _machine_cpu() - self.total0


def _machine_cpu() -> float:
    """Busy CPU seconds of the whole machine (every process, the load generator included)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / _TICK


@dataclass
class LoadResult:
    generator: str
    requests: int
    seconds: float
    errors: int
    cpu: CpuMeter

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        per = 1000 / max(1, self.requests)
        return (
            f"{self.generator:28s} {self.rps:7.0f} req/s  ({self.requests:,} in {self.seconds:.1f} s, "
            f"{self.errors} errors)  CPU/request: API {self.cpu.server * per:.2f} ms, "
            f"database {self.cpu.database * per:.2f} ms, whole machine {self.cpu.machine * per:.2f} ms"
        )


def _python_load(base: str, seconds: float, concurrency: int, meter: CpuMeter) -> LoadResult:
    """``concurrency`` threads, each a keep-alive httpx client looping until the deadline."""
    count = 0
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        nonlocal count, errors
        with httpx.Client(base_url=base, timeout=10) as c:
            while time.perf_counter() < deadline:
                r = c.get("/articles", params={"limit": 20})
                with lock:
                    count += 1
                    errors += r.status_code != 200

    with meter:
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    return LoadResult(f"python client ({concurrency} thr)", count, elapsed, errors, meter)


def _wrk_load(base: str, seconds: float, connections: int, meter: CpuMeter) -> LoadResult | None:
    """``wrk`` (a C client, so the load generator does not cap the server), if installed."""
    duration = max(1, int(seconds))
    try:
        with meter:
            done = subprocess.run(
                ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", f"{base}/articles?limit=20"],
                capture_output=True, text=True, timeout=seconds + 30, check=False,
            )
    except (OSError, subprocess.TimeoutExpired):
        return None
    requests = errors = 0
    for line in done.stdout.splitlines():
        words = line.split()
        if "requests in" in line:
            requests = int(words[0])
        elif line.strip().startswith("Non-2xx"):
            errors += int(words[-1])
        elif line.strip().startswith("Socket errors"):
            errors += sum(int(w.strip(",")) for w in words if w.strip(",").isdigit())
    if not requests:
        return None
    return LoadResult(f"wrk -t2 -c{connections}", requests, float(duration), errors, meter)


def run_http(url: str, seconds: float, concurrency: int, workers: int) -> list[LoadResult]:
    """Start ``ingest serve`` on loopback and load ``GET /articles?limit=20`` for ``seconds``:
    first with the bounded Python client, then with ``wrk`` when it is installed."""
    port = _free_port()
    env = {**os.environ, "INGEST_DATABASE_URL": url, "INGEST_CONFIG": os.devnull}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base) as warm:  # every worker's pool and statement cache
            for _ in range(200):
                warm.get("/articles", params={"limit": 20})
        results = [_python_load(base, seconds, concurrency, CpuMeter(proc.pid, url))]
        wrk = _wrk_load(base, seconds, concurrency, CpuMeter(proc.pid, url))
        if wrk is not None:
            results.append(wrk)
        return results
    finally:
        proc.terminate()
        proc.wait(10)


def report(title: str, timings: list[Timing], target: float) -> None:
    print(f"\n{title} (target: median < {target:.0f} ms)")
    for t in timings:
        flag = "ok " if t.median < target else "SLOW"
        print(f"  {flag} {t.name:45s} median {t.median:8.2f} ms   p95 {t.p95:8.2f} ms")
    overall = statistics.median(s for t in timings for s in t.samples_ms)
    print(f"  overall median {overall:.2f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--pg-url", default=os.environ.get("INGEST_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/ingest_bench")
    )
    parser.add_argument("--sqlite-path", default="/tmp/ingest_bench.db")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--fresh", action="store_true", help="Rebuild the data set.")
    parser.add_argument(
        "--no-fts-optimize", dest="fts_optimize", action="store_false",
        help="SQLite: keep the FTS5 index as the insert triggers leave it (several segments, like a "
        "live archive's) instead of merging it into one after loading.",
    )
    parser.add_argument("--http", action="store_true", help="Also measure GET /articles requests/s.")
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--http-only", action="store_true", help="Skip the query timings (implies --http).")
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    watch = MachineWatch()
    for backend in backends:
        if backend == "sqlite":
            url = f"sqlite:///{args.sqlite_path}"
        else:
            url = args.pg_url
            ensure_pg_database(url)
        engine = prepare(url, args.articles, args.fresh, fts_optimize=args.fts_optimize)
        print(f"\n=== {backend}: {args.articles:,} articles ===")
        if args.load_only:
            engine.dispose()
            continue
        if not args.http_only:
            search_timings, further_timings, list_timings = run_queries(engine, args.repeat)
            report("ranked full-text search, first page of 20", search_timings, TARGET_SEARCH_MS)
            report("further search shapes (not in the issue's list), first page of 20", further_timings, TARGET_SEARCH_MS)
            report("filtered list, page of 20", list_timings, TARGET_LIST_MS)
        engine.dispose()
        if args.http or args.http_only:
            print(f"\nGET /articles?limit=20, {args.workers} uvicorn worker(s), {args.http_seconds:g} s each "
                  f"(target >= {TARGET_RPS:.0f} req/s)")
            for result in run_http(url, args.http_seconds, args.concurrency, args.workers):
                flag = "ok " if result.rps >= TARGET_RPS and not result.errors else "SLOW"
                print(f"  {flag} {result.describe()}")
    print(watch.line())


if __name__ == "__main__":
    main()
