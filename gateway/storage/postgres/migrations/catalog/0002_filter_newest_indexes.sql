-- Search pages filtered by category or brand in newest order (and relevance,
-- whose window is the newest matches) walk these instead of sorting every
-- product of a large category.
CREATE INDEX products_category_newest_idx ON products (category, created_at, sku);
CREATE INDEX products_brand_newest_idx ON products (brand, created_at, sku);
