-- Erasure (UserService.EraseUser) and the event retention job (docs/erasure.md).

-- Set once a user is erased: the row stays (orders point at it) with its
-- email and name replaced by non-identifying values; reads answer
-- NOT_FOUND/USER_ERASED and writes FAILED_PRECONDITION/USER_ERASED.
ALTER TABLE users ADD COLUMN erased_at timestamptz;

-- An erasure drops every email lookup row of the user, on whichever shard
-- the email hashed to, including orphans of earlier emails.
CREATE INDEX user_emails_user_idx ON user_emails (user_id);

-- Stored responses that repeat a user's email or an order's address, so an
-- erasure finds them without reading every record. Only those responses are
-- indexed; payments and other responses carry no personal data.
CREATE INDEX idempotency_keys_personal_idx ON idempotency_keys ((response ->> 'user_id'))
    WHERE response ? 'email' OR response ? 'shipping';

-- The retention job visits only streams with retention or delete markers.
CREATE INDEX streams_with_metadata_idx ON streams (stream_id) WHERE metadata <> '{}'::jsonb;

-- Age-based retention looks for the oldest events. created_at grows with
-- position (events are appended), so a BRIN index finds them by reading a
-- few block ranges, and costs appends next to nothing.
CREATE INDEX events_created_brin_idx ON events USING brin (created_at);
