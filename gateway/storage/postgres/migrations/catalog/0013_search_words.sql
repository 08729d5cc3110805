-- The search vocabulary (docs/api.md, typo correction and suggestions): the
-- words of every product's title, brand and category, lower-cased, with about
-- how many products hold each. A misspelt query word is corrected to its
-- nearest words here, and suggestions complete a prefix from here: both cost
-- the same whatever the catalog's size, since the vocabulary grows with the
-- words a catalog uses (some 20,000-100,000), not with its products.
--
-- A word is kept as written, lower-cased but not accent-folded, because a
-- correction is searched for in products.search, which keeps accents
-- ("cafe" is corrected to "café"); the indexes fold, so "cafe" finds it.
CREATE TABLE search_words (
    word      text PRIMARY KEY,
    -- Products whose title, brand or category hold the word: exact after a
    -- recount (search_words.py recount, run in the background), and for a word
    -- learned since, the products of the write that brought it.
    products  integer NOT NULL
);
-- Correction: the words similar to a query word by trigrams.
CREATE INDEX search_words_fuzzy_idx ON search_words USING gin (search_fold(word) gin_trgm_ops);
-- Suggestions: the words starting with a prefix (LIKE 'wirel%').
CREATE INDEX search_words_prefix_idx ON search_words (search_fold(word) text_pattern_ops);

-- The words of a text as full-text search parses them (the 'simple'
-- configuration lower-cases and stems nothing), so a word found here is a
-- word products.search holds. Not a regular expression: in the C locale
-- (the embedded server's) its classes and lower() know only ASCII letters,
-- while the text search parser takes any other letter as one.
CREATE FUNCTION search_words_of(text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lexeme FROM unnest(to_tsvector('simple'::regconfig, $1)) $$;

-- Every write of products teaches the vocabulary its new words, in the
-- write's transaction and as one statement per write (a statement trigger
-- with a transition table, so an import's COPY of 5,000 rows costs one
-- INSERT). ON CONFLICT DO NOTHING never locks or updates a known word, so
-- concurrent writes of common words never wait on one another; only two
-- writes bringing the same new word wait, the second for the first's commit,
-- and sorting the words makes them take their index entries in one order, so
-- they cannot deadlock. The counts are refreshed by the background recount.
CREATE FUNCTION search_words_learn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_words (word, products)
        SELECT w, count(*)
        FROM learned, search_words_of(learned.title || ' ' || learned.brand || ' '
                                      || learned.category) AS w
        GROUP BY w ORDER BY w
        ON CONFLICT (word) DO NOTHING;
    ELSE
        -- Only rows whose text changed: a price update brings no words.
        INSERT INTO search_words (word, products)
        SELECT w, count(*)
        FROM learned
        JOIN forgotten USING (sku),
             search_words_of(learned.title || ' ' || learned.brand || ' '
                             || learned.category) AS w
        WHERE (learned.title, learned.brand, learned.category)
              IS DISTINCT FROM (forgotten.title, forgotten.brand, forgotten.category)
        GROUP BY w ORDER BY w
        ON CONFLICT (word) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_search_words_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS learned
    FOR EACH STATEMENT EXECUTE FUNCTION search_words_learn();
CREATE TRIGGER products_search_words_update AFTER UPDATE ON products
    REFERENCING OLD TABLE AS forgotten NEW TABLE AS learned
    FOR EACH STATEMENT EXECUTE FUNCTION search_words_learn();

-- The products that exist already (a migration of a large catalog reads it
-- once: about 10 s for 1,000,000 products).
INSERT INTO search_words (word, products)
SELECT w, count(*)
FROM products, search_words_of(title || ' ' || brand || ' ' || category) AS w
GROUP BY w;

-- Correcting query words through the vocabulary replaces the trigram search
-- over every product's title and brand (the search extensions migration),
-- whose cost grew with the catalog.
DROP INDEX products_fuzzy_idx;
