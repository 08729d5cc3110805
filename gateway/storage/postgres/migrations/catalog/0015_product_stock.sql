-- The product_stock projection: whether each product is in stock, from the
-- inventory keyspace's stock events, for search's in-stock facet and filter
-- (docs/api.md, facets; docs/projections.md). Like product_sales it lives in
-- the catalog keyspace, next to the products it filters, its checkpoints in
-- the bookkeeping tables of the projection_bookkeeping migration.

-- Per sku with a stock row: the units available (on hand, not reserved) when
-- the projection last read it, and whether that is any.
CREATE TABLE product_stock_g0 (
    sku        text PRIMARY KEY,
    available  bigint NOT NULL,
    in_stock   boolean NOT NULL
);

CREATE VIEW product_stock AS SELECT * FROM product_stock_g0;
INSERT INTO projection_generations (projection, generation) VALUES ('product_stock', 0);
