-- Projections whose read models live on each commerce shard (docs/projections.md).
-- A read model is a set of tables per generation (<name>_g<N>); readers go
-- through a view named after the projection, which a rebuild repoints at the
-- next generation in one transaction. The checkpoint of each source shard
-- sits next to the read model, so a batch and its checkpoint commit together.
-- (catalog/0003_product_sales.sql holds the same two bookkeeping tables.)

-- The generation readers see, per projection.
CREATE TABLE projection_generations (
    projection  text PRIMARY KEY,
    generation  bigint NOT NULL,
    swapped_at  timestamptz NOT NULL DEFAULT now()
);

-- Where each generation of a projection stands on each source shard: after
-- event (commit, position) in that shard's commit order (log.Cursor).
CREATE TABLE projection_checkpoints (
    projection      text NOT NULL,
    generation      bigint NOT NULL,
    source_keyspace text NOT NULL,
    shard           integer NOT NULL,
    commit          bigint NOT NULL DEFAULT 0,
    position        bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_batch_at   timestamptz,                 -- the last batch applied
    last_error      text NOT NULL DEFAULT '',    -- '' once a batch succeeds again
    PRIMARY KEY (projection, generation, source_keyspace, shard)
);

-- user_order_summary, generation 0: per user and currency, orders placed net
-- of cancellations, cancellations, the amount spent and the newest order.
CREATE TABLE user_order_summary_g0 (
    user_id          text NOT NULL,
    currency         text NOT NULL,
    order_count      bigint NOT NULL,
    cancelled_count  bigint NOT NULL,
    spent_minor      bigint NOT NULL,
    last_order_id    text,
    last_order_at    timestamptz,
    PRIMARY KEY (user_id, currency)
);

-- The orders the projection has counted: OrderCancelled names only the order,
-- and a replayed event finds its order here already (applying is idempotent).
CREATE TABLE user_order_summary_orders_g0 (
    order_id     text PRIMARY KEY,
    user_id      text NOT NULL,
    currency     text NOT NULL,
    total_minor  bigint NOT NULL,
    cancelled    boolean NOT NULL DEFAULT false
);
CREATE INDEX user_order_summary_orders_g0_user_idx ON user_order_summary_orders_g0 (user_id);

-- Erased users: their summary is gone and their later events are ignored.
CREATE TABLE user_order_summary_erased_g0 (
    user_id    text PRIMARY KEY,
    erased_at  timestamptz NOT NULL
);

CREATE VIEW user_order_summary AS SELECT * FROM user_order_summary_g0;
INSERT INTO projection_generations (projection, generation) VALUES ('user_order_summary', 0);
