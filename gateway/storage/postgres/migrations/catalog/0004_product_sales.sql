-- The product_sales projection: sales per product from the order events of
-- every commerce shard, read by the catalog's "popular" sort
-- (docs/projections.md). Its bookkeeping tables come from 0003
-- (shared/projection_bookkeeping.sql): each source shard's checkpoint is
-- stored here, in the transaction that adds its batch to the counters.

-- Per sku, net of cancellations: units, orders holding it, and revenue in
-- minor units per order currency ({"EUR": 123450}).
CREATE TABLE product_sales_g0 (
    sku            text PRIMARY KEY,
    units          bigint NOT NULL,
    orders         bigint NOT NULL,
    revenue_minor  jsonb NOT NULL DEFAULT '{}'
);
-- The popular sort walks this backwards: most units first.
CREATE INDEX product_sales_g0_units_idx ON product_sales_g0 (units, sku);

-- The orders counted, with their lines [[sku, quantity, revenue_minor], ...]:
-- a cancellation subtracts exactly what its placement added, once.
CREATE TABLE product_sales_orders_g0 (
    order_id   text PRIMARY KEY,
    currency   text NOT NULL,
    lines      jsonb NOT NULL,
    cancelled  boolean NOT NULL DEFAULT false
);

CREATE VIEW product_sales AS SELECT * FROM product_sales_g0;
INSERT INTO projection_generations (projection, generation) VALUES ('product_sales', 0);
