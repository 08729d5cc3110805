-- The catalog's text search language comes from its policy (search.language,
-- docs/policies.md), so a change must re-index without a migration:
-- products.search stops being a generated column (whose expression names
-- 'english' and could change only by rewriting the table in a migration)
-- and is set by a trigger with the language of search_settings. The search
-- maintenance job (gateway/domain/catalog/search_maintenance.py) writes the policy's
-- language there and re-indexes the products in batches from
-- reindex_after (NULL: none pending) to the end. Searches read the language
-- from here too, so they match what the index holds (during a re-index,
-- the products not reached yet hold the old language's words).
CREATE TABLE search_settings (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),
    language       regconfig NOT NULL DEFAULT 'english',
    -- The last sku re-indexed with `language`; '' starts at the first.
    reindex_after  text
);
INSERT INTO search_settings DEFAULT VALUES;

-- Keeps the stored vectors: no rewrite, no re-index of what exists.
ALTER TABLE products ALTER COLUMN search DROP EXPRESSION;

CREATE FUNCTION products_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig := (SELECT language FROM search_settings);
BEGIN
    NEW.search := setweight(to_tsvector(cfg, NEW.title), 'A')
               || setweight(to_tsvector(cfg, NEW.brand), 'B')
               || setweight(to_tsvector(cfg, NEW.description), 'C');
    RETURN NEW;
END $$;

-- Only writes that set the text (every upsert and import does; a re-index
-- sets title to itself).
CREATE TRIGGER products_search_vector BEFORE INSERT OR UPDATE OF title, brand, description
    ON products FOR EACH ROW EXECUTE FUNCTION products_search_vector();
