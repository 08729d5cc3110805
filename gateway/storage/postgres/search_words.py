"""SQL for the search vocabulary (the search_words migration): the words of
the catalog's titles, brands and categories, which correct a query's
misspelt words and complete a typed prefix.

Both look only at the vocabulary, whose size follows the words a catalog
uses, not its products, so their cost stays flat as the catalog grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

# A query word of at least CORRECT_MIN_CHARS letters may stand for any of its
# CORRECTIONS_PER_WORD nearest vocabulary words whose trigram similarity to it
# (accents folded) is at least CORRECTION_THRESHOLD. 0.45 lets one wrong,
# missing or extra letter through in a word of five letters or more
# ("hedphones" - "headphones" 0.62, "leathr" - "leather" 0.50, "expresso" -
# "espresso" 0.50) while words that merely share a few letters score below
# 0.3; shorter words have too few trigrams to tell a typo from another word.
CORRECT_MIN_CHARS = 4
CORRECTIONS_PER_WORD = 3
CORRECTION_THRESHOLD = 0.45


@dataclass(frozen=True)
class QueryWord:
    """A word of the query and the vocabulary's words near it (nearest
    first; the word itself among them when the vocabulary holds it)."""

    word: str
    near: tuple[str, ...]


@dataclass(frozen=True)
class QueryTerms:
    """What a search needs to know of its text before it is built: the
    catalog's search language (search_settings, what products.search is
    built with; its oid, which casts to regconfig without a lookup, so the
    planner sees a constant) and the text's words."""

    language: int
    words: list[QueryWord]


async def query_terms(conn: asyncpg.Connection, text: str, correct: bool,
                      also: Sequence[str] = ()) -> QueryTerms:
    """The language and the query's words (split as the vocabulary splits
    titles), each with its nearest words of the vocabulary and of `also`
    (the synonyms, which no product may hold) when `correct`; words too
    short to judge get none. One round trip. The caller sets
    pg_trgm.similarity_threshold (CORRECTION_THRESHOLD) for the index's %
    operator."""
    rows = await conn.fetch(
        """SELECT s.language::oid AS language, q.word, q.near
           FROM search_settings AS s LEFT JOIN LATERAL (
               SELECT w AS word, CASE WHEN NOT $4 OR length(w) < $2 THEN '{}'::text[] ELSE ARRAY(
                   SELECT c.word FROM (
                       SELECT v.word, v.products FROM search_words AS v
                       WHERE search_fold(v.word) % search_fold(w)
                       UNION
                       SELECT a, 0 FROM unnest($5::text[]) AS a
                       WHERE search_fold(a) % search_fold(w)) AS c
                   ORDER BY similarity(search_fold(c.word), search_fold(w)) DESC,
                            c.products DESC, c.word
                   LIMIT $3) END AS near
               FROM search_words_of($1) AS w) AS q ON true""",
        text, CORRECT_MIN_CHARS, CORRECTIONS_PER_WORD, correct, list(also))
    return QueryTerms(rows[0]["language"], [QueryWord(r["word"], tuple(r["near"]))
                                            for r in rows if r["word"] is not None])


async def completions(conn: asyncpg.Connection, prefix: str,
                      limit: int) -> list[tuple[str, int]]:
    """The vocabulary's words starting with `prefix` (accents folded, any
    case), the most used first, with their product counts. The prefix index
    finds them; the sort reads every word with the prefix, a few thousand at
    most for one letter."""
    # A range in the index's byte order rather than LIKE, whose pattern a
    # generic plan could not turn into an index range: every word from the
    # prefix up to the prefix followed by the highest character.
    rows = await conn.fetch(
        """SELECT word, products FROM search_words, search_fold(lower($1)) AS p (fixed)
           WHERE search_fold(word) ~>=~ p.fixed AND search_fold(word) ~<~ (p.fixed || chr(1114111))
             AND products > 0
           ORDER BY products DESC, word LIMIT $2""",
        prefix, limit)
    return [(r["word"], r["products"]) for r in rows]


# The recount updates this many words per transaction, so a write learning
# one of them waits at most for one short batch.
RECOUNT_BATCH = 1000


async def claim_recount(conn: asyncpg.Connection, interval_s: float) -> bool:
    """Whether this caller should recount now: no recount was claimed in
    the last `interval_s` (by any gateway). Claiming records the time, so
    of gateways asking at once one is told yes."""
    status = await conn.execute(
        """UPDATE search_settings SET recounted_at = now()
           WHERE recounted_at IS NULL
              OR recounted_at <= now() - make_interval(secs => $1)""", interval_s)
    return bool(status == "UPDATE 1")


async def recount(conn: asyncpg.Connection) -> tuple[int, int]:
    """Set every word's product count from the products (one read of the
    catalog's titles, brands and categories: seconds for a million
    products), drop the words no product holds any more; returns (words
    updated, words dropped). Runs outside a transaction: the counts are
    computed in one statement, then written in batches."""
    rows = await conn.fetch(
        """WITH counted AS (
               SELECT w AS word, count(*)::integer AS n
               FROM products, search_words_of(title || ' ' || brand || ' ' || category) AS w
               GROUP BY w)
           SELECT coalesce(c.word, s.word) AS word, coalesce(c.n, 0) AS n
           FROM counted AS c FULL JOIN search_words AS s USING (word)
           WHERE c.n IS DISTINCT FROM s.products
           ORDER BY 1""")
    changed = [(r["word"], r["n"]) for r in rows if r["n"] > 0]
    gone = [r["word"] for r in rows if r["n"] == 0]
    for start in range(0, len(changed), RECOUNT_BATCH):
        batch: Sequence[tuple[str, int]] = changed[start:start + RECOUNT_BATCH]
        # Inserts the counted words the vocabulary lacks too (one dropped
        # below while a write brought it back, in an earlier recount).
        await conn.execute(
            """INSERT INTO search_words (word, products)
               SELECT * FROM unnest($1::text[], $2::integer[])
               ON CONFLICT (word) DO UPDATE SET products = EXCLUDED.products""",
            [w for w, _ in batch], [n for _, n in batch])
    for start in range(0, len(gone), RECOUNT_BATCH):
        # A write that brings one back meanwhile finds it still there and
        # leaves it, so it may go: the next recount, which inserts every
        # counted word the vocabulary lacks, restores it.
        await conn.execute("DELETE FROM search_words WHERE word = ANY($1::text[])",
                           gone[start:start + RECOUNT_BATCH])
    return len(changed), len(gone)
