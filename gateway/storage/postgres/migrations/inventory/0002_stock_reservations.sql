-- Stock per sku. available = on_hand - reserved; the checks make overselling
-- impossible whatever the callers do, the conditional updates make it fail
-- cleanly instead of erroring.
CREATE TABLE stock (
    sku         text PRIMARY KEY,
    on_hand     bigint NOT NULL CHECK (on_hand >= 0),
    reserved    bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    version     bigint NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
    reservation_id  text PRIMARY KEY,
    state           text NOT NULL CHECK (state IN ('held', 'committed', 'released', 'returned')),
    items           jsonb NOT NULL,              -- [{"sku":..., "quantity":...}]
    -- The saga that holds it (empty for direct InventoryService callers): the
    -- expiry sweep asks it before giving units back.
    saga_id         text NOT NULL DEFAULT '',
    saga_shard_key  text NOT NULL DEFAULT '',
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_held_expiry_idx ON reservations (expires_at) WHERE state = 'held';
