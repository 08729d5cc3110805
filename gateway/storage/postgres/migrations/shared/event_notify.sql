-- Wakes readers (subscriptions, projections, the relay) when a transaction
-- that appended events commits: NOTIFY is delivered at commit, and the
-- notifications of one transaction collapse into one.
CREATE FUNCTION datagw_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('datagw_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION datagw_notify_events();
