"""near-duplicate index: PostgreSQL functions for a stored batch's lock, reads and writes

Revision ID: 0005_dedup_function
Revises: 0004_search

``dedup_index_batch`` (PostgreSQL only; SQLite runs the same steps in-process)
takes the index's advisory lock, then, in one statement with a snapshot taken
after the lock: reads the block counts of the batch's chrome candidates as
they were, the exact copies, declared originals and band-bucket neighbours of
the batch among the articles indexed before it, and writes the batch's
signature, band, link and block-count rows (its own rows are invisible to the
reads).  One round trip per stored batch instead of two: a plain statement
cannot both wait for the lock and read what the lock's previous holder
committed, since its snapshot predates the wait; a PL/pgSQL statement after
``pg_advisory_xact_lock`` gets a new one.

``dedup_write_pairs`` stores verified pairs and applies story merges (moves
members, sets the target story's earliest member and size, drops the merged
stories) in one statement.

Both plan once per session (generic plans: their statements have one shape
whatever the values) with sequential scans off: a plan made while a table is
still empty would otherwise scan it for ever after; every part has an index.

Band rows come as keys and the position of their article among the signature rows.
Rows returned: ``tag`` 9 is a block count (``url_key`` host key, ``keys[1]``
block key, ``day`` seen, ``shingle_count`` first day, ``story_id`` last day);
0 an exact copy (``label`` content hash), 1 an article at a declared URL
(``label`` URL), 2 an article declaring a batch URL its original (``label``
kind, ``url_key``), 4 a band neighbour (``keys`` the shared band keys); tags
0-4 carry the neighbour's signature columns.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_dedup_function"
down_revision: str | None = "0004_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIG = "s.day, s.shingle_count, s.minhash, s.chrome, s.story_id"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION dedup_index_batch(
    p_lock_key bigint, p_scheme text,
    p_sig_id int[], p_sig_day int[], p_sig_host bigint[], p_sig_count int[], p_sig_minhash bytea[], p_sig_chrome text[],
    p_sig_wires text[],
    p_band_key bigint[], p_band_owner int[],
    p_link_key bigint[], p_link_id int[], p_link_kind text[],
    p_block_host bigint[], p_block_key bigint[], p_block_hostname text[], p_block_seen int[], p_block_first int[],
    p_block_last int[], p_block_text text[],
    p_want_hashes text[], p_want_urls text[], p_want_url_keys bigint[], p_want_bands bigint[],
    p_first_day int, p_last_day int, p_bucket_cap int)
RETURNS TABLE (tag int, article_id int, label text, url_key bigint, day int, shingle_count int,
               minhash bytea, chrome json, story_id int, keys bigint[])
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    RETURN QUERY
    WITH w_sig AS (
        INSERT INTO dedup_signatures AS d (article_id, day, scheme, host_key, shingle_count, minhash, chrome, wires)
        SELECT t.a, t.d, p_scheme, t.h, t.n, t.m, t.c::json, t.w::json
        FROM unnest(p_sig_id, p_sig_day, p_sig_host, p_sig_count, p_sig_minhash, p_sig_chrome, p_sig_wires)
             AS t(a, d, h, n, m, c, w)
    ), w_band AS (
        INSERT INTO dedup_bands AS d (key, day, article_id)
        SELECT t.k, a.d, a.id FROM unnest(p_band_key, p_band_owner) AS t(k, o)
        JOIN unnest(p_sig_id, p_sig_day) WITH ORDINALITY AS a(id, d, n) ON a.n = t.o
    ), w_link AS (
        INSERT INTO dedup_links AS d (url_key, article_id, kind) SELECT * FROM unnest(p_link_key, p_link_id, p_link_kind)
        ON CONFLICT ON CONSTRAINT pk_dedup_links DO NOTHING
    ), w_block AS (
        INSERT INTO dedup_host_blocks AS d (host_key, block_key, host, seen, first_day, last_day, text)
        SELECT * FROM unnest(p_block_host, p_block_key, p_block_hostname, p_block_seen, p_block_first,
                             p_block_last, p_block_text)
        ON CONFLICT ON CONSTRAINT pk_dedup_host_blocks DO UPDATE SET seen = d.seen + excluded.seen,
            first_day = LEAST(d.first_day, excluded.first_day), last_day = GREATEST(d.last_day, excluded.last_day),
            host = CASE WHEN d.host = '' THEN excluded.host ELSE d.host END,
            text = CASE WHEN d.text = '' THEN excluded.text ELSE d.text END
    )
    (SELECT 9, NULL::int, NULL::text, b.host_key, b.seen, b.first_day, NULL::bytea, NULL::json, b.last_day,
            ARRAY[b.block_key]
     FROM unnest(p_block_host, p_block_key) AS k(h, bk)
     -- one primary-key probe per block (LIMIT keeps the generic plan from hashing the whole table)
     CROSS JOIN LATERAL (SELECT * FROM dedup_host_blocks x WHERE x.host_key = k.h AND x.block_key = k.bk
                         LIMIT 1) AS b)
    UNION ALL
    -- every part probes an index once per wanted value: LATERAL (...) OFFSET 0 leaves the planner
    -- no other way, whatever its row estimates (with a parameter array, "= ANY" would compare every
    -- row met against the whole array; a hash join would read a whole table once per value)
    (SELECT 0, a.id, a.content_hash::text, NULL::bigint, {SIG}, NULL::bigint[]
     FROM unnest(p_want_hashes) AS w(v)
     CROSS JOIN LATERAL (SELECT x.id, x.content_hash FROM articles x WHERE x.content_hash = w.v OFFSET 0) AS a
     CROSS JOIN LATERAL (SELECT * FROM dedup_signatures y WHERE y.article_id = a.id OFFSET 0) AS s)
    UNION ALL
    (SELECT 1, a.id, a.url::text, NULL::bigint, {SIG}, NULL::bigint[]
     FROM unnest(p_want_urls) AS w(v)
     CROSS JOIN LATERAL (SELECT x.id, x.url FROM articles x WHERE x.url = w.v OFFSET 0) AS a
     CROSS JOIN LATERAL (SELECT * FROM dedup_signatures y WHERE y.article_id = a.id OFFSET 0) AS s)
    UNION ALL
    (SELECT 2, l.article_id, l.kind::text, l.url_key, {SIG}, NULL::bigint[]
     FROM unnest(p_want_url_keys) AS w(v)
     CROSS JOIN LATERAL (SELECT x.article_id, x.kind, x.url_key FROM dedup_links x WHERE x.url_key = w.v OFFSET 0) AS l
     CROSS JOIN LATERAL (SELECT * FROM dedup_signatures y WHERE y.article_id = l.article_id OFFSET 0) AS s)
    UNION ALL
    (SELECT 4, s.article_id, NULL::text, NULL::bigint, {SIG}, h.keys
     FROM (SELECT b.article_id, array_agg(b.key) AS keys
           FROM unnest(p_want_bands) AS k(key)
           CROSS JOIN LATERAL (SELECT x.key, x.article_id FROM dedup_bands x
                               WHERE x.key = k.key AND x.day BETWEEN p_first_day AND p_last_day
                               ORDER BY x.day DESC, x.article_id DESC LIMIT p_bucket_cap) AS b
           GROUP BY b.article_id) AS h
     CROSS JOIN LATERAL (SELECT * FROM dedup_signatures y WHERE y.article_id = h.article_id AND y.scheme = p_scheme
                         OFFSET 0) AS s);
END
$fn$
"""


PAIRS_FUNCTION = """
CREATE OR REPLACE FUNCTION dedup_write_pairs(
    p_now timestamptz,
    p_a int[], p_b int[], p_cab float8[], p_cba float8[], p_jaccard float8[], p_title float8[], p_rule text[],
    p_story int[], p_story_target int[], p_loose int[], p_loose_target int[], p_moved int[])
RETURNS TABLE (done int)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $fn$
#variable_conflict use_column
BEGIN
    -- p_story: every story of each merge (the target's own too), with its target; p_loose: the
    -- articles in no story yet, with theirs; p_moved: the stories that merge into another.
    -- Reads see the snapshot from before the statement: a size counts the members of the
    -- stories as they were plus the loose articles; the earliest member is chosen among the
    -- loose ones and each story's earliest.  Every lookup is an index probe (see above).
    RETURN QUERY
    WITH w_pair AS (
        INSERT INTO dedup_pairs AS d (a_id, b_id, containment_ab, containment_ba, jaccard, title_similarity, rule,
                                      created_at)
        SELECT p.a, p.b, p.cab, p.cba, p.j, p.t, p.r, p_now
        FROM unnest(p_a, p_b, p_cab, p_cba, p_jaccard, p_title, p_rule) AS p(a, b, cab, cba, j, t, r)
        ON CONFLICT ON CONSTRAINT uq_dedup_pairs_a_id_b_id DO NOTHING
    ), m_story AS (
        SELECT * FROM unnest(p_story, p_story_target) AS m(story, target)
    ), m_loose AS (
        SELECT * FROM unnest(p_loose, p_loose_target) AS m(article, target)
    ), w_moved AS (
        UPDATE dedup_signatures s SET story_id = (SELECT m.target FROM m_story m WHERE m.story = s.story_id LIMIT 1)
        WHERE s.story_id = ANY(p_moved)
    ), w_loose AS (
        UPDATE dedup_signatures s SET story_id = (SELECT m.target FROM m_loose m WHERE m.article = s.article_id LIMIT 1)
        WHERE s.article_id = ANY(p_loose)
    ), contender AS (
        SELECT m.target, m.article AS id FROM m_loose m
        UNION ALL
        SELECT m.target, st.earliest_article_id FROM m_story m
        CROSS JOIN LATERAL (SELECT x.earliest_article_id FROM dedup_stories x WHERE x.id = m.story OFFSET 0) AS st
    ), earliest AS (
        SELECT DISTINCT ON (c.target) c.target, a.id FROM contender c
        CROSS JOIN LATERAL (SELECT x.id, x.published_at, x.fetched_at FROM articles x WHERE x.id = c.id OFFSET 0) AS a
        ORDER BY c.target, COALESCE(a.published_at, a.fetched_at), a.fetched_at, a.id
    ), size AS (
        SELECT c.target, sum(c.n) AS n FROM (
            SELECT m.target, z.n FROM m_story m
            CROSS JOIN LATERAL (SELECT count(*) AS n FROM dedup_signatures y WHERE y.story_id = m.story) AS z
            UNION ALL SELECT m.target, count(*) FROM m_loose m GROUP BY m.target) AS c
        GROUP BY c.target
    ), w_story AS (
        INSERT INTO dedup_stories AS d (id, earliest_article_id, size, updated_at)
        SELECT e.target, e.id, z.n, p_now FROM earliest e JOIN size z ON z.target = e.target
        ON CONFLICT ON CONSTRAINT pk_dedup_stories DO UPDATE SET earliest_article_id = excluded.earliest_article_id,
            size = excluded.size, updated_at = excluded.updated_at
    ), w_drop AS (
        DELETE FROM dedup_stories st WHERE st.id = ANY(p_moved)
    )
    SELECT 1;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(PAIRS_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS dedup_write_pairs")
        op.execute("DROP FUNCTION IF EXISTS dedup_index_batch")
