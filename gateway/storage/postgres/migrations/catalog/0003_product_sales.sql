-- The product_sales projection: sales per product from the order events of
-- every commerce shard, read by the catalog's "popular" sort
-- (docs/projections.md). Generations and checkpoints work as on the commerce
-- shards (commerce/0005_projections.sql): each source shard's checkpoint is
-- stored here, in the transaction that adds its batch to the counters.

CREATE TABLE projection_generations (
    projection  text PRIMARY KEY,
    generation  bigint NOT NULL,
    swapped_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projection_checkpoints (
    projection      text NOT NULL,
    generation      bigint NOT NULL,
    source_keyspace text NOT NULL,
    shard           integer NOT NULL,
    commit          bigint NOT NULL DEFAULT 0,
    position        bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_batch_at   timestamptz,
    last_error      text NOT NULL DEFAULT '',
    PRIMARY KEY (projection, generation, source_keyspace, shard)
);

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
