-- Typo tolerance for search (docs/api.md, SearchProducts): when full-text
-- search finds too little, products whose title and brand are similar to the
-- query by trigrams are found too. pg_trgm and unaccent ship with PostgreSQL
-- (contrib) and are trusted extensions: the owner of the database may create
-- them without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Folds accents ("Café" is found by "cafe"). unaccent() itself is only
-- STABLE (its dictionary could be reloaded), so an index cannot use it; this
-- wrapper names its dictionary, and its SQL-standard body binds that
-- dictionary when created, so it is immutable in fact whatever the caller's
-- search_path.
CREATE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN unaccent('unaccent'::regdictionary, $1);

-- Serves the trigram operators (strict_word_similarity's <<%) on the same
-- expression the search query folds, so the fallback never scans the table.
CREATE INDEX products_fuzzy_idx ON products
    USING gin (search_fold(title || ' ' || brand) gin_trgm_ops);
