-- Relevance over all matches (search_relevance.py): for a query too common
-- to rank every match, the products whose title itself matches are found
-- through this index and ranked with the newest matches. The expression is
-- the title's part of products.search, without its weight.
CREATE INDEX products_title_search_idx ON products
    USING gin (to_tsvector('english'::regconfig, title));
