-- Relevance's title window (search_relevance.py) reads products whose title
-- itself matches the query. The expression index of search_title_index
-- computed to_tsvector('english', title) again for every row a scan looked
-- at (28 ms for a common word's 7,000 rows on 1,000,000 products: the
-- planner scans rather than reading the index when a word is common) and
-- named English whatever the catalog's search.language. The title's vector
-- is now stored, in the catalog's language, by the trigger that builds
-- products.search (whose weight-A part it is), and indexed.
ALTER TABLE products ADD COLUMN title_search tsvector;

CREATE OR REPLACE FUNCTION products_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig := (SELECT language FROM search_settings);
BEGIN
    NEW.title_search := to_tsvector(cfg, NEW.title);
    NEW.search := setweight(NEW.title_search, 'A')
               || setweight(to_tsvector(cfg, NEW.brand), 'B')
               || setweight(to_tsvector(cfg, NEW.description), 'C');
    RETURN NEW;
END $$;

-- Both text indexes hold the category and the brand next to the words
-- (btree_gin, PostgreSQL contrib like pg_trgm), so a search for a word in
-- a category reads the products having both from one index, rather than
-- ANDing a bitmap of every product with the word (186,000 on 1,000,000
-- products, 16-23 ms to build) with the category's: "smart" in Gaming
-- 73 ms -> 21 ms (docs/BENCHMARKS.md, search quality). A search without
-- a category or brand reads the words' entries alone, as before.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX products_search_idx;
CREATE INDEX products_search_idx ON products USING gin (search, category, brand);
DROP INDEX products_title_search_idx;
CREATE INDEX products_title_search_idx ON products USING gin (title_search, category, brand);

-- Existing products get their title vector from the search maintenance job's
-- re-index (search_index.reindex_batch), in batches; until it reaches a
-- product, the title window does not see it (its other matches still rank).
UPDATE search_settings SET reindex_after = '' WHERE EXISTS (SELECT 1 FROM products);
