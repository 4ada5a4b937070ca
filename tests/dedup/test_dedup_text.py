"""Pure parts of the detector: text preparation, MinHash, signals, the decision rule."""

from __future__ import annotations

import random
import subprocess
import sys

from dedup_helpers import reprint, story, text

from ingest.dedup import minhash
from ingest.dedup.prepared import prepare
from ingest.dedup.settings import DedupSettings
from ingest.dedup.signals import link_targets, wire_agencies
from ingest.dedup.text import analyze, block_key, blocks, shingles, tokens, without_blocks
from ingest.dedup.verify import decide, score

SETTINGS = DedupSettings()


def test_tokens_fold_width_case_and_apostrophes() -> None:
    assert tokens("ＰＡＫＩＳＴＡＮ’s Minister, said:") == tokens("pakistan's minister said")
    assert tokens("Straße") == ["strasse"]


def test_block_key_masks_digits_and_spacing() -> None:
    assert block_key("Updated  10:42 PM") == block_key("updated 09:15 pm")
    assert block_key("Share on X") != block_key("Share on Facebook")
    body = "Lede here.\nShare on X\nBody there."
    assert without_blocks(body, [block_key("share on x")]) == "Lede here.\nBody there."


def test_signature_is_the_same_in_another_process() -> None:
    """Signatures are stored and compared across daemons: no per-process hash salt may leak in."""
    code = (
        "from ingest.dedup.prepared import prepare;from ingest.dedup.settings import DedupSettings;"
        "p=prepare('the quick brown fox jumps over the lazy dog again and again', None, DedupSettings());"
        "print(p.bands[:3])"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    here = prepare("the quick brown fox jumps over the lazy dog again and again", None, SETTINGS)
    assert outputs == {f"{here.bands[:3]}\n"}


def test_minhash_estimates_jaccard() -> None:
    rng = random.Random(3)
    universe = [rng.getrandbits(32) for _ in range(3000)]
    for share in (0.1, 0.3, 0.6):
        common = universe[: int(1000 * share)]
        a = set(common) | set(universe[1000:2000][: 1000 - len(common)])
        b = set(common) | set(universe[2000:3000][: 1000 - len(common)])
        true = len(a & b) / len(a | b)
        est = minhash.estimate_jaccard(minhash.signature(a, 128), minhash.signature(b, 128))
        assert abs(est - true) < 0.1, (share, true, est)


def test_densified_signature_of_a_short_text_fills_every_bin() -> None:
    sig = minhash.signature({1, 2, 3}, 128)
    own = {int(minhash.signature({x}, 128)[0]) for x in (1, 2, 3)}  # a one-shingle set fills every bin alike
    assert len(sig) == 128 and set(sig.tolist()) <= own and len(set(sig.tolist())) >= 2
    assert len(minhash.signature(set(), 128)) == 0


def test_a_low_similarity_reprint_shares_a_band_and_passes_verification() -> None:
    original = story(1)
    copy = reprint(original, 2)
    a, b = prepare(text(original), None, SETTINGS), prepare(text(copy), None, SETTINGS)
    scores = score(a, b)
    assert scores.jaccard < 0.6 < scores.containment
    assert set(a.bands) & set(b.bands)
    assert decide(scores, a, b, SETTINGS) == "containment"


def test_unrelated_stories_fail_verification() -> None:
    a, b = prepare(text(story(1)), None, SETTINGS), prepare(text(story(2)), None, SETTINGS)
    assert decide(score(a, b), a, b, SETTINGS) is None


def test_wire_credits() -> None:
    assert wire_agencies("LONDON (Reuters) - Shares fell.") == {"reuters"}
    assert "app" in wire_agencies("x " * 300 + "counterterrorism, according to the state-run APP.")
    assert wire_agencies("Download the app from the store; happy users said so.") == frozenset()


def test_link_targets_are_canonicalized_and_skip_self() -> None:
    prov = {"declared_canonical": "https://Orig.example/a?utm_source=x", "is_based_on": "https://wire.example/b"}
    assert link_targets(prov, "https://copy.example/a") == {
        "canonical": "https://orig.example/a", "based-on": "https://wire.example/b"
    }
    assert link_targets({"declared_canonical": "https://copy.example/a"}, "https://copy.example/a") == {}


def test_shingles_of_a_short_text() -> None:
    assert len(shingles(analyze("a b").word_hashes, 5)) == 1
    assert len(shingles(analyze("").word_hashes, 5)) == 0
    six = shingles(analyze("one two three four five six").word_hashes, 5)
    assert len(six) == 2 and list(six) == sorted(six)


def test_word_hashes_are_the_words_wherever_they_stand() -> None:
    """The vectorized tokenizer gives the regex's words, and a word's hash does not depend on
    where it stands (prefix-sum hashing), in any script, with astral-plane characters."""
    body = "Ｔｈｅ minister’s 2025 plan—approved.\n\nМинистр 😀 said: “déjà vu” 東京 x_y\n" + "long " * 3000
    analysis = analyze(body)
    words = tokens("\n".join(blocks(body)))
    assert len(analysis.word_hashes) == len(words)
    singles = [int(analyze(w).word_hashes[0]) for w in words[:12]]
    assert analysis.word_hashes[:12].tolist() == singles
    assert len(set(analysis.word_hashes.tolist())) == len(set(words))


def test_line_keys_ignore_digits_spacing_and_punctuation_but_not_words() -> None:
    analysis = analyze("Updated 10:42, Monday\nBody text here.\n***\nUpdated 09:15 - monday")
    first, body, stars, last = analysis.line_keys
    assert first == last and first not in (0, body) and stars == 0
    assert analysis.blocks(400) == {first: "Updated 10:42, Monday", body: "Body text here."}
    assert analysis.text_without(frozenset({first})) == "Body text here.\n***"
    assert len(analysis.words_without(frozenset({first}))) == 3


def test_key_filter_never_forgets_a_key_and_rarely_invents_one() -> None:
    from ingest.dedup.keyfilter import KeyFilter

    rng = random.Random(9)
    added = [rng.getrandbits(64) - 2**63 for _ in range(20_000)]
    others = [rng.getrandbits(64) - 2**63 for _ in range(20_000)]
    keys = KeyFilter(len(added))
    keys.add(added[:10_000])
    keys.add(added[10_000:])
    assert sorted(keys.maybe(added)) == sorted(added)
    assert len(keys.maybe(others)) < 0.02 * len(others)
    assert keys.maybe([]) == []


def test_count_cache_takes_a_batch_at_once_and_the_database_correction_later() -> None:
    from db.dedup_index import BlockCount
    from ingest.dedup.boilerplate import BlockSighting, CountCache, Sightings

    cache = CountCache()
    first = Sightings.of([BlockSighting("h", 1, 10, {7: "Share on X"})])
    cache.update(first.after(cache.known(first.added)))  # prepared: counted as written
    second = Sightings.of([BlockSighting("h", 1, 12, {7: "Share on X"})])
    guess = cache.known(second.added)
    assert guess == {(1, 7): BlockCount(1, 10, 10)}
    cache.update(second.after(guess))
    # the database had seen the line on four earlier articles (another daemon): shift by that
    cache.correct({}, {(1, 7): BlockCount(4, 3, 9)})
    assert cache.known([(1, 7)]) == {(1, 7): BlockCount(6, 3, 12)}


def test_a_reading_survives_the_trip_from_a_worker_process() -> None:
    """Workers return readings pickled (by position, see ``Prepared.__reduce__``): every field
    must come back, arrays and sets included."""
    import pickle

    from ingest.dedup.prepared import read

    body = text(story(3)) + "\n(Reuters) reported"
    first = read(body, "A title of words", DedupSettings())
    back = pickle.loads(pickle.dumps(first))
    assert back.scheme == first.scheme
    assert back.analysis.lines == first.analysis.lines and back.analysis.line_keys == first.analysis.line_keys
    assert (back.analysis.word_hashes == first.analysis.word_hashes).all()
    assert (back.analysis.word_lines == first.analysis.word_lines).all()
    assert (back.plain.shingles == first.plain.shingles).all() and (back.plain.signature == first.plain.signature).all()
    assert back.plain.bands == first.plain.bands and back.plain.title == first.plain.title
    assert back.plain.wires == first.plain.wires == frozenset({"reuters"})
