-- The product catalog. The search vector is a stored generated column so that
-- it can never drift from the row, and a GIN index serves full-text search.
CREATE TABLE products (
    sku          text PRIMARY KEY,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    category     text NOT NULL DEFAULT '',
    brand        text NOT NULL DEFAULT '',
    price_minor  bigint NOT NULL CHECK (price_minor >= 0),
    currency     char(3) NOT NULL,
    attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
    active       boolean NOT NULL DEFAULT true,
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    search       tsvector GENERATED ALWAYS AS (
                     setweight(to_tsvector('english'::regconfig, title), 'A')
                  || setweight(to_tsvector('english'::regconfig, brand), 'B')
                  || setweight(to_tsvector('english'::regconfig, description), 'C')
                 ) STORED
);

CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_category_idx ON products (category, price_minor, sku);
CREATE INDEX products_brand_idx ON products (brand, price_minor, sku);
CREATE INDEX products_price_idx ON products (price_minor, sku);
CREATE INDEX products_newest_idx ON products (created_at, sku);

-- Results of writes by request_id, so a retried write returns the first answer.
CREATE TABLE idempotency_keys (
    request_id    text PRIMARY KEY,
    method        text NOT NULL,
    request_hash  bytea NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
