-- The user_order_summary projection on each commerce shard; its bookkeeping
-- tables come from 0005 (shared/projection_bookkeeping.sql).

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
