-- A hundred listening dashboards (issue 26, point 5): each notification wakes every listening
-- session on the primary, and the platform commits in bursts (the simulator's tick is some ten
-- short transactions within a few milliseconds, each notifying). Measured, 100 listeners cost the
-- primary 9-11 % of a core, against a goal of 5 %.
--
-- So the notifications are gated: a statement notifies only when no notification was sent in the
-- last fleetdeck.change_gate_ms() milliseconds (by anyone, on any payload). One in a burst wakes
-- the dashboards; the rest are skipped. A dashboard's listener reads every notified list once
-- more a little after the gate closes behind the last notification it heard
-- (`ui::feed::TRAILING_READ`), so a skipped change is seen then.
--
-- The time of the last notification is a sequence's value: setval is not transactional and takes
-- no row lock, so writers never wait on the gate (two that pass it at the same instant both
-- notify, which is harmless). A statement is gated when it runs, not when its transaction
-- commits: a transaction that commits long after its statements may be seen only at the next
-- poll (`refresh_interval`), as before notifications existed.

-- The gate's length, read by the trigger and by a test that holds the dashboard's trailing read
-- to it.
CREATE FUNCTION fleetdeck.change_gate_ms() RETURNS integer
    LANGUAGE sql IMMUTABLE AS $$ SELECT 100 $$;

-- When the last notification was sent, in milliseconds since the epoch.
CREATE SEQUENCE fleetdeck.change_notified_ms AS bigint MINVALUE 0 START 0;

CREATE OR REPLACE FUNCTION fleetdeck.notify_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
DECLARE
    now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    last_ms bigint;
BEGIN
    SELECT last_value INTO last_ms FROM fleetdeck.change_notified_ms;
    -- A clock set back opens the gate too.
    IF now_ms - last_ms >= fleetdeck.change_gate_ms() OR now_ms < last_ms THEN
        PERFORM setval('fleetdeck.change_notified_ms', now_ms);
        PERFORM pg_notify('fleetdeck_changes', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;
