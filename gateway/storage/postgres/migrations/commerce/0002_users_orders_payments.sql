-- Everything of one user lives on the shard owning the user's keyspace id:
-- the user, the user's orders, items, payments and sagas. Every table stores
-- that id (8 big-endian bytes, indexed) so moving a range is a range scan.

CREATE TABLE users (
    user_id       text PRIMARY KEY,
    keyspace_id   bytea NOT NULL,
    email         text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_keyspace_id_idx ON users (keyspace_id);

-- The email -> user lookup, sharded by the email's own keyspace id (a
-- lookup vindex): GetUserByEmail reads one shard, never all of them. A row
-- is written before its user and verified against the user on read, so a
-- crash between the two leaves an orphan that the next claim takes over.
CREATE TABLE user_emails (
    email         text PRIMARY KEY,
    keyspace_id   bytea NOT NULL,                -- of the email
    user_id       text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_emails_keyspace_id_idx ON user_emails (keyspace_id);

CREATE TABLE orders (
    order_id      text PRIMARY KEY,
    keyspace_id   bytea NOT NULL,
    user_id       text NOT NULL,
    status        text NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'delivered',
                                                  'cancelled')),
    currency      text NOT NULL,
    total_minor   bigint NOT NULL CHECK (total_minor >= 0),
    shipping      jsonb NOT NULL,
    payment_id    text NOT NULL,
    saga_id       text NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, order_id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, order_id DESC);
CREATE INDEX orders_status_created_idx ON orders (status, created_at DESC, order_id DESC);
CREATE INDEX orders_keyspace_id_idx ON orders (keyspace_id);

CREATE TABLE order_items (
    order_id          text NOT NULL REFERENCES orders (order_id),
    line              integer NOT NULL,
    keyspace_id       bytea NOT NULL,
    sku               text NOT NULL,
    title             text NOT NULL,
    quantity          bigint NOT NULL CHECK (quantity > 0),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line)
);
CREATE INDEX order_items_keyspace_id_idx ON order_items (keyspace_id);

CREATE TABLE payments (
    payment_id      text PRIMARY KEY,
    keyspace_id     bytea NOT NULL,
    order_id        text NOT NULL REFERENCES orders (order_id),
    user_id         text NOT NULL,
    status          text NOT NULL CHECK (status IN ('authorized', 'captured',
                        'partially_refunded', 'refunded', 'voided')),
    currency        text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
    captured_minor  bigint NOT NULL DEFAULT 0 CHECK (captured_minor BETWEEN 0 AND amount_minor),
    refunded_minor  bigint NOT NULL DEFAULT 0 CHECK (refunded_minor BETWEEN 0 AND captured_minor),
    provider_ref    text NOT NULL,
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON payments (order_id, created_at);
CREATE INDEX payments_keyspace_id_idx ON payments (keyspace_id);

-- The saga log: written before a saga's first step, updated after each.
-- lease_until keeps the recovery loop away while the request that started
-- the saga is still driving it.
CREATE TABLE sagas (
    saga_id         text PRIMARY KEY,
    keyspace_id     bytea NOT NULL,
    kind            text NOT NULL,
    state           text NOT NULL CHECK (state IN ('running', 'compensating', 'completed',
                                                   'compensated')),
    user_id         text NOT NULL,
    order_id        text NOT NULL,
    request_id      text NOT NULL,
    data            jsonb NOT NULL,
    steps           jsonb NOT NULL DEFAULT '[]',
    failure_reason  text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    lease_until     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sagas_unfinished_idx ON sagas (lease_until)
    WHERE state IN ('running', 'compensating');
CREATE INDEX sagas_order_idx ON sagas (order_id);
CREATE INDEX sagas_keyspace_id_idx ON sagas (keyspace_id);
