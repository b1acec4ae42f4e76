-- What each edge host offers (its metadata's architecture, cores, memory, storage,
-- peripherals and interfaces) in typed, indexed columns, kept by the database as hosts are
-- written: "which hosts and sites fit this deployment profile" is one indexed query instead of
-- reading every host's JSON. The reading follows src/domain/fit.rs (`Host::from_metadata`),
-- and a test holds the two to the same answers.

-- A number as Rust's f64 parse reads it (sign, digits, fraction, exponent, inf, infinity, nan;
-- no spaces), or NULL.
CREATE FUNCTION fleetdeck.rust_f64(t text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
BEGIN
    -- Without an exponent and this short, it can neither overflow nor underflow: no
    -- subtransaction for the common case.
    IF length(t) <= 300 AND t ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$' THEN
        RETURN t::double precision;
    END IF;
    IF t !~* '^[+-]?(inf|infinity|nan|([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?)$' THEN
        RETURN NULL;
    END IF;
    BEGIN
        RETURN t::double precision;
    EXCEPTION WHEN numeric_value_out_of_range THEN
        -- Rust rounds what is too large to infinity and what is too small to zero.
        RETURN CASE WHEN t ~* 'e-' THEN 0::double precision
                    WHEN t ~ '^-' THEN '-Infinity'::double precision
                    ELSE 'Infinity'::double precision END;
    END;
END
$$;

-- A Kubernetes-style quantity in bytes (`512Mi`, `2Gi`, `500M`), as `fit::quantity`: a finite,
-- non-negative number with an optional unit; NULL when it is not one.
CREATE FUNCTION fleetdeck.quantity(t text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    s text := regexp_replace(t, '^\s+|\s+$', '', 'g');
    unit text := substring(s FROM '(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$');
    n double precision;
BEGIN
    n := fleetdeck.rust_f64(CASE WHEN unit IS NULL THEN s ELSE left(s, length(s) - length(unit)) END);
    IF n IS NULL OR n = 'NaN' OR n = 'Infinity' OR n = '-Infinity' OR n < 0 THEN
        RETURN NULL;
    END IF;
    BEGIN
        RETURN n * CASE unit
            WHEN 'Ki' THEN 1024::float8 WHEN 'Mi' THEN 1024::float8 ^ 2 WHEN 'Gi' THEN 1024::float8 ^ 3
            WHEN 'Ti' THEN 1024::float8 ^ 4 WHEN 'Pi' THEN 1024::float8 ^ 5 WHEN 'Ei' THEN 1024::float8 ^ 6
            WHEN 'k' THEN 1e3 WHEN 'M' THEN 1e6 WHEN 'G' THEN 1e9 WHEN 'T' THEN 1e12 WHEN 'P' THEN 1e15
            WHEN 'E' THEN 1e18 ELSE 1 END;
    EXCEPTION WHEN numeric_value_out_of_range THEN
        RETURN 'Infinity'::double precision;
    END;
END
$$;

-- A JSON number as itself, a string as `how` reads it ('quantity' or 'number'), else NULL.
CREATE FUNCTION fleetdeck.metadata_number(v jsonb, how text) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN fleetdeck.rust_f64(v #>> '{}')
        WHEN 'string' THEN CASE how WHEN 'quantity' THEN fleetdeck.quantity(v #>> '{}')
                                    ELSE fleetdeck.rust_f64(v #>> '{}') END
    END
$$;

-- A peripheral's tokens, folded to ASCII lower case: a need is met by a host that has its
-- token (type; type and manufacturer; type and model; all three), the parts joined by the
-- unit separator (chr(31)), which names do not hold.
CREATE FUNCTION fleetdeck.peripheral_tokens(kind text, manufacturer text, model text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['t:' || lower(kind COLLATE "C")]
        || CASE WHEN manufacturer <> '' THEN ARRAY['tm:' || lower(kind COLLATE "C") || chr(31) || lower(manufacturer COLLATE "C")]
                ELSE '{}' END
        || CASE WHEN model <> '' THEN ARRAY['tx:' || lower(kind COLLATE "C") || chr(31) || lower(model COLLATE "C")]
                ELSE '{}' END
        || CASE WHEN manufacturer <> '' AND model <> ''
                THEN ARRAY['tmx:' || lower(kind COLLATE "C") || chr(31) || lower(manufacturer COLLATE "C") || chr(31)
                           || lower(model COLLATE "C")]
                ELSE '{}' END
$$;

CREATE TABLE fleetdeck.host_hardware (
    host_id      uuid PRIMARY KEY REFERENCES edge.host (id) ON DELETE CASCADE,
    site_id      uuid NOT NULL,
    -- ASCII lower case; NULL: the host does not say.
    architecture text,
    cores        double precision,
    memory       double precision,
    storage      double precision,
    peripherals  text[] NOT NULL,
    interfaces   text[] NOT NULL
);
CREATE INDEX host_hardware_site ON fleetdeck.host_hardware (site_id);
CREATE INDEX host_hardware_architecture ON fleetdeck.host_hardware (architecture);
CREATE INDEX host_hardware_cores ON fleetdeck.host_hardware (cores);
CREATE INDEX host_hardware_memory ON fleetdeck.host_hardware (memory);
CREATE INDEX host_hardware_storage ON fleetdeck.host_hardware (storage);
CREATE INDEX host_hardware_peripherals ON fleetdeck.host_hardware USING gin (peripherals);
CREATE INDEX host_hardware_interfaces ON fleetdeck.host_hardware USING gin (interfaces);
GRANT SELECT ON fleetdeck.host_hardware TO authenticated;

-- A host's row of host_hardware, from its metadata.
CREATE FUNCTION fleetdeck.host_hardware_of(id uuid, site uuid, m jsonb)
    RETURNS fleetdeck.host_hardware
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT id, site,
        CASE WHEN jsonb_typeof(m -> 'architecture') = 'string' THEN lower((m ->> 'architecture') COLLATE "C") END,
        fleetdeck.metadata_number(m -> 'cores', 'number'),
        fleetdeck.metadata_number(m -> 'memory', 'quantity'),
        fleetdeck.metadata_number(m -> 'storage', 'quantity'),
        coalesce((SELECT array_agg(DISTINCT t) FROM (
            SELECT unnest(fleetdeck.peripheral_tokens(p ->> 'type',
                       CASE WHEN jsonb_typeof(p -> 'manufacturer') = 'string' THEN p ->> 'manufacturer' END,
                       CASE WHEN jsonb_typeof(p -> 'model') = 'string' THEN p ->> 'model' END)) AS t
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m -> 'peripherals') = 'array' THEN m -> 'peripherals'
                                           ELSE '[]' END) p
            WHERE jsonb_typeof(p -> 'type') = 'string' AND p ->> 'type' <> '') x), '{}'),
        coalesce((SELECT array_agg(DISTINCT lower(t COLLATE "C")) FROM (
            SELECT CASE WHEN jsonb_typeof(i -> 'type') = 'string' THEN i ->> 'type'
                        WHEN jsonb_typeof(i) = 'string' THEN i #>> '{}' END AS t
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m -> 'interfaces') = 'array' THEN m -> 'interfaces'
                                           ELSE '[]' END) i) x WHERE t IS NOT NULL), '{}')
$$;

-- Inserted hosts, a statement at a time (a bulk insert reads its rows once).
CREATE FUNCTION fleetdeck.host_hardware_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, edge
AS $$
BEGIN
    INSERT INTO fleetdeck.host_hardware
    SELECT hw.* FROM inserted h,
        LATERAL fleetdeck.host_hardware_of(h.id, h.site_id, coalesce(h.metadata, '{}')) hw
    ON CONFLICT (host_id) DO UPDATE SET
        site_id = excluded.site_id, architecture = excluded.architecture, cores = excluded.cores,
        memory = excluded.memory, storage = excluded.storage, peripherals = excluded.peripherals,
        interfaces = excluded.interfaces;
    RETURN NULL;
END
$$;

CREATE TRIGGER host_hardware_inserted AFTER INSERT ON edge.host
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.host_hardware_inserted();

-- A host whose metadata or site changed. A row trigger, so that it can name its columns:
-- heartbeats rewrite hosts all the time without touching these, and do not fire it (a
-- statement trigger with a transition table may not name columns, and would copy every
-- heartbeat's rows).
CREATE FUNCTION fleetdeck.host_hardware_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, edge
AS $$
BEGIN
    IF NEW.metadata IS NOT DISTINCT FROM OLD.metadata AND NEW.site_id = OLD.site_id THEN
        RETURN NULL;
    END IF;
    -- Called in FROM, so that it runs once (`(f(…)).*` would run it once per column).
    INSERT INTO fleetdeck.host_hardware
    SELECT hw.* FROM fleetdeck.host_hardware_of(NEW.id, NEW.site_id, coalesce(NEW.metadata, '{}')) hw
    ON CONFLICT (host_id) DO UPDATE SET
        site_id = excluded.site_id, architecture = excluded.architecture, cores = excluded.cores,
        memory = excluded.memory, storage = excluded.storage, peripherals = excluded.peripherals,
        interfaces = excluded.interfaces;
    RETURN NULL;
END
$$;

CREATE TRIGGER host_hardware_updated AFTER UPDATE OF metadata, site_id ON edge.host
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.host_hardware_updated();

CREATE FUNCTION fleetdeck.reread_host_hardware() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, edge
AS $$
BEGIN
    LOCK TABLE edge.host IN SHARE MODE;
    DELETE FROM fleetdeck.host_hardware;
    INSERT INTO fleetdeck.host_hardware
    SELECT hw.* FROM edge.host h,
        LATERAL fleetdeck.host_hardware_of(h.id, h.site_id, coalesce(h.metadata, '{}')) hw;
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
    END IF;
END
$$;

SELECT fleetdeck.reread_host_hardware();
