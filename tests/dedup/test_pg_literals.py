"""The index passes rows to PostgreSQL as array literals it writes itself: they must round-trip."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from db import dedup_index


@pytest.mark.postgres
def test_array_literals_round_trip(pg_url: str) -> None:
    texts = ['plain', '', 'quote " inside', "back\\slash \\\" both", "{braces}, commas", "NULL", "ünïcode “quotes” 東京"]
    blobs = [b"", b"\x00\x01\xff", bytes(range(256))]
    ints = [0, -1, 2**63 - 1, -(2**63)]
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT CAST(:t AS text[]), CAST(:b AS bytea[]), CAST(:i AS bigint[])"),
                {"t": dedup_index._texts(texts), "b": dedup_index._bytes(blobs), "i": dedup_index._ints(ints)},
            ).one()
    finally:
        engine.dispose()
    assert list(got[0]) == texts
    assert [bytes(b) for b in got[1]] == blobs
    assert list(got[2]) == ints
