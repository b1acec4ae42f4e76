-- Wake-ups for open dashboards: after any statement that changes a listed table, one
-- notification on the channel fleetdeck_changes whose payload names the list ("executions",
-- "hosts", "agents", "stacks"). Dashboards re-read what they show at once instead of waiting for
-- the next poll. The payload carries no row data, so row-level security is not bypassed.
CREATE FUNCTION fleetdeck.notify_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fleetdeck_changes', TG_ARGV[0]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER workflow_executions_notify AFTER INSERT OR UPDATE OR DELETE ON platform.workflow_executions
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('executions');
CREATE TRIGGER host_notify AFTER INSERT OR UPDATE OR DELETE ON edge.host
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('hosts');
CREATE TRIGGER agents_notify AFTER INSERT OR UPDATE OR DELETE ON broker.agents
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('agents');
CREATE TRIGGER stacks_notify AFTER INSERT OR UPDATE OR DELETE ON broker.stacks
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('stacks');
