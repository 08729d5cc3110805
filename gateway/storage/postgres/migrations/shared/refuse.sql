-- A statement's way to refuse itself: raises 'datagw:<reason>' (with
-- `detail`), so everything the statement did rolls back with it, and in
-- autocommit nothing of it is committed. recorder.append_after calls it when
-- a step's events meet a tombstoned stream, which lets that step and its
-- events be one statement with no transaction around it.
CREATE FUNCTION datagw_refuse(reason text, detail text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'datagw:' || reason, DETAIL = detail;
END $$;
