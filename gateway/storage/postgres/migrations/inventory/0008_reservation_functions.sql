-- A reservation's steps as one statement each (inventory_store.reserve and
-- .move call them, with the event that records the step in the same
-- statement): claiming an id and holding every line was one round trip per
-- line plus two, moving one the same, and a CreateOrder makes one of each.
--
-- Lines are taken in sku order, byte-wise (COLLATE "C", the order Python's
-- sorted() gives), so two reservations of the same skus lock rows in the
-- same order and cannot deadlock, whatever the database's collation.

-- Claim `reservation` and hold every line, or nothing: a line that does not
-- fit raises 'datagw:OUT_OF_STOCK' (detail: JSON sku, wanted, available) and
-- the statement's changes roll back with it. An id that exists already is
-- returned as it is, changed = false (a concurrent first attempt with the
-- same id makes the insert wait on the primary key until it ends).
CREATE FUNCTION reserve_stock(reservation text, skus text[], quantities bigint[],
                              ttl_s double precision, saga text, saga_shard text,
                              OUT held reservations, OUT changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    line record;
    available bigint;
BEGIN
    INSERT INTO reservations (reservation_id, state, items, saga_id, saga_shard_key, expires_at)
    SELECT reservation, 'held',
           jsonb_agg(jsonb_build_object('sku', l.s, 'quantity', l.q) ORDER BY l.n),
           saga, saga_shard, now() + make_interval(secs => ttl_s)
    FROM unnest(skus, quantities) WITH ORDINALITY AS l(s, q, n)
    ON CONFLICT (reservation_id) DO NOTHING
    RETURNING * INTO held;
    changed := FOUND;
    IF NOT changed THEN
        SELECT * INTO held FROM reservations WHERE reservation_id = reservation;
        RETURN;
    END IF;
    FOR line IN SELECT l.s, l.q FROM unnest(skus, quantities) AS l(s, q)
                ORDER BY l.s COLLATE "C" LOOP
        UPDATE stock SET reserved = reserved + line.q, version = version + 1, updated_at = now()
        WHERE sku = line.s AND on_hand - reserved >= line.q;
        IF NOT FOUND THEN
            SELECT on_hand - reserved INTO available FROM stock WHERE sku = line.s;
            RAISE EXCEPTION USING MESSAGE = 'datagw:OUT_OF_STOCK',
                DETAIL = json_build_object('sku', line.s, 'wanted', line.q,
                                           'available', coalesce(available, 0))::text;
        END IF;
    END LOOP;
END $$;

-- Move `reservation` from `from_state` to `to_state`, every line's stock by
-- the deltas (times its quantity). Locks the reservation first. A missing
-- reservation gives a null `moved`; one in another state is returned as it
-- is; both with changed = false.
CREATE FUNCTION move_reservation(reservation text, from_state text, to_state text,
                                 on_hand_delta integer, reserved_delta integer,
                                 OUT moved reservations, OUT changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    line record;
BEGIN
    changed := false;
    SELECT * INTO moved FROM reservations WHERE reservation_id = reservation FOR UPDATE;
    IF NOT FOUND OR moved.state <> from_state THEN
        RETURN;
    END IF;
    FOR line IN SELECT i ->> 'sku' AS s, (i ->> 'quantity')::bigint AS q
                FROM jsonb_array_elements(moved.items) AS i
                ORDER BY i ->> 'sku' COLLATE "C" LOOP
        UPDATE stock SET on_hand = on_hand + on_hand_delta * line.q,
                         reserved = reserved + reserved_delta * line.q,
                         version = version + 1, updated_at = now()
        WHERE sku = line.s;
    END LOOP;
    UPDATE reservations SET state = to_state, updated_at = now()
    WHERE reservation_id = reservation RETURNING * INTO moved;
    changed := true;
END $$;
