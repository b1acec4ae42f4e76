-- The hosts' list sorted by IP or STATUS read every host a `/` filter matched and sorted them:
-- 59-61 ms for `/h9` (40,951 of 100,000 hosts), against a goal of 16 ms (issue 25). An index on
-- edge.host would be written at every heartbeat (a heartbeat is never a heap-only update
-- there), so the two sort keys are kept beside the host, as its hardware is (migration 24),
-- written only when a host is inserted or its address or status changes. The keys are the
-- list's sort expressions (listing/tables/fleet.rs), and each has an index on (key, host id).
CREATE TABLE fleetdeck.host_order (
    host_id uuid PRIMARY KEY REFERENCES edge.host (id) ON DELETE CASCADE,
    -- coalesce(ip_address, '')
    ip      text NOT NULL,
    -- lower(coalesce(status, ''))
    status  text NOT NULL
);
CREATE INDEX host_order_ip ON fleetdeck.host_order (ip, host_id);
CREATE INDEX host_order_status ON fleetdeck.host_order (status, host_id);
GRANT SELECT ON fleetdeck.host_order TO authenticated;

-- Inserted hosts, a statement at a time.
CREATE FUNCTION fleetdeck.host_order_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, edge
AS $$
BEGIN
    INSERT INTO fleetdeck.host_order
    SELECT h.id, coalesce(h.ip_address, ''), lower(coalesce(h.status, '')) FROM inserted h
    ON CONFLICT (host_id) DO UPDATE SET ip = excluded.ip, status = excluded.status;
    RETURN NULL;
END
$$;

CREATE TRIGGER host_order_inserted AFTER INSERT ON edge.host
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.host_order_inserted();

-- A host whose address or status was written: a row trigger naming its columns, so that
-- heartbeats (which write neither) do not fire it.
CREATE FUNCTION fleetdeck.host_order_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, edge
AS $$
BEGIN
    IF NEW.ip_address IS NOT DISTINCT FROM OLD.ip_address AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    INSERT INTO fleetdeck.host_order
    VALUES (NEW.id, coalesce(NEW.ip_address, ''), lower(coalesce(NEW.status, '')))
    ON CONFLICT (host_id) DO UPDATE SET ip = excluded.ip, status = excluded.status;
    RETURN NULL;
END
$$;

CREATE TRIGGER host_order_updated AFTER UPDATE OF ip_address, status ON edge.host
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.host_order_updated();

-- After a load without triggers (and here, for the hosts already there).
CREATE FUNCTION fleetdeck.reread_host_order() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, edge
AS $$
BEGIN
    LOCK TABLE edge.host IN SHARE MODE;
    DELETE FROM fleetdeck.host_order;
    INSERT INTO fleetdeck.host_order
    SELECT h.id, coalesce(h.ip_address, ''), lower(coalesce(h.status, '')) FROM edge.host h;
END
$$;

CREATE OR REPLACE FUNCTION fleetdeck.after_bulk_load(loaded regclass) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    IF loaded = 'platform.workflow_executions'::regclass THEN
        PERFORM fleetdeck.recount_executions();
    ELSIF loaded = 'edge.host'::regclass THEN
        PERFORM fleetdeck.reread_host_hardware();
        PERFORM fleetdeck.reread_host_order();
    ELSIF loaded::text LIKE 'broker.%' THEN
        PERFORM fleetdeck.rebuild_reach();
    END IF;
END
$$;

SELECT fleetdeck.reread_host_order();
